package io.dstore.bench.internal;

/**
 * One system's client as the scenarios drive it: a dstore Local, a Lettuce connection (with or
 * without client-side caching), a Hazelcast client (with or without a near cache), or a Caffeine
 * cache. Implementations are thread-safe: one client is shared by all the threads of a cell, as an
 * application would share it.
 */
interface KvClient extends AutoCloseable {
  /** The value of {@code key}, or null if absent. */
  byte[] get(BenchKey key);

  /**
   * Reads {@code key} the cheapest way the client offers for a read whose bytes are only looked at,
   * not kept (what {@code local-hit} measures); true if it was present. Every peer returns its
   * cached value without a copy, so dstore uses its zero-copy read-only view here.
   */
  default boolean read(BenchKey key) {
    return get(key) != null;
  }

  /**
   * Reads {@code key} into an array of the caller's own, as an application must that keeps the
   * bytes or changes them: dstore's copying {@code get}; a peer whose read hands out its cached
   * array, that array copied. Null if absent. (The {@code local-hit} scenario's {@code -copy}
   * rows.)
   */
  default byte[] readCopy(BenchKey key) {
    byte[] v = get(key);
    return v == null ? null : v.clone();
  }

  /** Writes {@code key}; keys written by the harness are always new. */
  void put(BenchKey key, byte[] value);

  void delete(BenchKey key);

  /**
   * Whether this client's local cache holds {@code key} and would serve it now, checked without
   * changing the cache or asking the server. False for a client without a local cache.
   */
  default boolean isCached(BenchKey key) {
    return false;
  }

  /** Local cache hits and misses so far, or null for a client without a local cache. */
  default CacheCounts cacheCounts() {
    return null;
  }

  /** Releases the client; idempotent. */
  @Override
  void close();

  /** Hit and miss counters of a local cache at one moment. */
  record CacheCounts(long hits, long misses) {
    /** The hit ratio of the reads since {@code before}, or null when there were none. */
    Double ratioSince(CacheCounts before) {
      long h = hits - before.hits;
      long m = misses - before.misses;
      return h + m == 0 ? null : (double) h / (h + m);
    }
  }
}
