package io.dstore.internal;

import io.dstore.LocalStats;

/**
 * The {@link LocalStats} a {@link LocalStore} hands out. Internal: a figure is added here and in
 * {@link LocalStats} together, without touching any caller of the public type.
 */
record StatsSnapshot(
    long cacheHits,
    long cacheMisses,
    long evictions,
    long cachedEntries,
    long cachedBytes,
    long cacheCapacityBytes,
    boolean connected,
    boolean leaseValid,
    long leaseRemainingMillis,
    long lastAppliedSeq,
    long invalidationsApplied,
    long gapsDetected,
    long replays,
    long revalidations,
    long reconnects,
    long lagP50Micros,
    long lagP99Micros,
    long lagMaxMicros)
    implements LocalStats {}
