package io.dstore;

/**
 * A snapshot of one Local's cache and coherence figures, as shown by the REPL's {@code .stats} and
 * exported as metrics. Counters count since the Local started.
 *
 * @param cacheHits reads answered from the cache
 * @param cacheMisses reads that went to Global
 * @param evictions entries the cache dropped to stay within its byte budget
 * @param cachedEntries entries cached now
 * @param cachedBytes bytes of values cached now
 * @param cacheCapacityBytes the cache's byte budget
 * @param connected whether the subscription to Global is open and in sync
 * @param leaseValid whether the lease is valid now, so cache hits may be served
 * @param leaseRemainingMillis how long the lease stays valid without renewal (0 when invalid)
 * @param lastAppliedSeq the last invalidation sequence number applied
 * @param invalidationsApplied invalidations applied (live and replayed)
 * @param gapsDetected sequence gaps seen on a live subscription
 * @param replays reconnections where Global replayed missed invalidations
 * @param revalidations batch revalidations after Global could not replay
 * @param reconnects subscriptions opened after the first
 * @param lagP50Micros invalidation lag (Global's delete to this Local applying it), median
 * @param lagP99Micros invalidation lag, 99th percentile
 * @param lagMaxMicros invalidation lag, maximum
 */
public record LocalStats(
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
    long lagMaxMicros) {

  /** Hits divided by all reads; 0 before the first read. */
  public double hitRatio() {
    long reads = cacheHits + cacheMisses;
    return reads == 0 ? 0.0 : (double) cacheHits / reads;
  }
}
