package io.dstore;

/**
 * A snapshot of one Local's cache and coherence figures, as shown by the REPL's {@code .stats} and
 * exported as metrics ({@link DstoreMetrics}). Counters count since the Local started. Get one from
 * {@link Dstore#stats()}.
 *
 * <p><b>Compatibility.</b> Later versions may add figures, as new methods here; code that reads the
 * figures keeps compiling and working. dstore alone implements this interface: implementing it, or
 * relying on {@code equals} between two snapshots, is not supported.
 */
public interface LocalStats {

  /** Reads answered from the cache. */
  long cacheHits();

  /** Reads that went to Global. */
  long cacheMisses();

  /** Entries the cache dropped to stay within its byte budget. */
  long evictions();

  /** Entries cached now. */
  long cachedEntries();

  /** Bytes of values cached now. */
  long cachedBytes();

  /** The cache's byte budget. */
  long cacheCapacityBytes();

  /** Whether the subscription to Global is open and in sync. */
  boolean connected();

  /** Whether the lease is valid now, so cache hits may be served. */
  boolean leaseValid();

  /** How long the lease stays valid without renewal (0 when invalid). */
  long leaseRemainingMillis();

  /** The last invalidation sequence number applied. */
  long lastAppliedSeq();

  /** Invalidations applied (live and replayed). */
  long invalidationsApplied();

  /** Sequence gaps seen on a live subscription. */
  long gapsDetected();

  /** Reconnections where Global replayed missed invalidations. */
  long replays();

  /** Batch revalidations after Global could not replay. */
  long revalidations();

  /** Subscriptions opened after the first. */
  long reconnects();

  /** Invalidation lag (Global's delete to this Local applying it), median, in microseconds. */
  long lagP50Micros();

  /** Invalidation lag, 99th percentile, in microseconds. */
  long lagP99Micros();

  /** Invalidation lag, maximum, in microseconds. */
  long lagMaxMicros();

  /** Hits divided by all reads; 0 before the first read. */
  default double hitRatio() {
    long reads = cacheHits() + cacheMisses();
    return reads == 0 ? 0.0 : (double) cacheHits() / reads;
  }
}
