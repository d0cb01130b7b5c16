package io.dstore.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.dstore.proto.KeyGeneration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The byte-bounded cache of one Local and the rules for filling it coherently.
 *
 * <p><b>Eviction.</b> Caffeine's W-TinyLFU, weighed by value bytes (plus key and a fixed overhead).
 * Values larger than the admission limit are never cached.
 *
 * <p><b>The fill race</b> (a value fetched from Global while an invalidation of its key is on the
 * way must not be cached). Keys hash to one of 4,096 stripes, each with a version. A fill reads its
 * stripe's version before it asks Global and inserts only if the version is unchanged, under the
 * stripe's lock; an invalidation bumps the version and removes the entry under the same lock. So
 * whichever comes second wins correctly: an insert after the invalidation is refused, a removal
 * after the insert removes it. Losing the subscription bumps every stripe, so nothing fetched
 * across a disconnect is cached. A refused insert costs one later miss, never a stale hit.
 *
 * <p><b>Single flight.</b> Concurrent misses on one key can share one fetch (the Local decides who
 * may join); an invalidation detaches the shared fetch so readers arriving after it fetch afresh.
 *
 * <p>Thread-safe.
 */
final class ValueCache {
  private static final int STRIPES = 4096;
  private static final int ENTRY_OVERHEAD = 96;

  private final Cache<Key, CachedValue> cache;
  private final long maxEntryBytes;
  private final long capacityBytes;
  private final Object[] locks = new Object[STRIPES];
  private final AtomicLongArray versions = new AtomicLongArray(STRIPES);
  private final Map<Key, SharedFetch> inflight = new ConcurrentHashMap<>();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder evictions = new LongAdder(); // not Caffeine's stats: they slow every hit

  ValueCache(long capacityBytes, long maxEntryBytes) {
    this.capacityBytes = capacityBytes;
    this.maxEntryBytes = Math.min(maxEntryBytes, Integer.MAX_VALUE - 1024);
    for (int i = 0; i < STRIPES; i++) {
      locks[i] = new Object();
    }
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(capacityBytes)
            .weigher((Key k, CachedValue v) -> weight(k, v))
            .executor(Runnable::run)
            .evictionListener(
                (Key k, CachedValue v, RemovalCause cause) -> {
                  if (cause.wasEvicted()) {
                    evictions.increment();
                  }
                })
            .build();
  }

  /** The cached value of {@code key}, or null; does not count hits or misses. */
  CachedValue peek(Key key) {
    return cache.getIfPresent(key);
  }

  void countHit() {
    hits.increment();
  }

  void countMiss() {
    misses.increment();
  }

  /** Whether a value of {@code size} bytes may be cached. */
  boolean admits(long size) {
    return capacityBytes > 0 && size <= maxEntryBytes;
  }

  /** The fill version of {@code key}'s stripe, to be read before asking Global. */
  long version(Key key) {
    return versions.get(key.stripe(STRIPES));
  }

  /** Caches {@code value} unless an invalidation of its stripe happened since {@code version}. */
  boolean insertIfUnchanged(Key key, long version, CachedValue value) {
    if (!admits(value.info.size())) {
      return false;
    }
    int s = key.stripe(STRIPES);
    synchronized (locks[s]) {
      if (versions.get(s) != version) {
        return false;
      }
      cache.put(key, value);
      return true;
    }
  }

  /**
   * Applies an invalidation: the entry goes if its generation is at most {@code generation}, fills
   * in flight on its stripe will not be cached, and a shared fetch of it is detached.
   */
  void invalidate(Key key, long generation) {
    int s = key.stripe(STRIPES);
    synchronized (locks[s]) {
      versions.incrementAndGet(s);
      cache.asMap().computeIfPresent(key, (k, v) -> v.generation() <= generation ? null : v);
    }
    inflight.remove(key);
  }

  /** Refuses every fill in flight (the subscription was lost: invalidations may be missed). */
  void refuseFillsInFlight() {
    for (int s = 0; s < STRIPES; s++) {
      synchronized (locks[s]) {
        versions.incrementAndGet(s);
      }
    }
    inflight.clear();
  }

  /** The shared fetch of {@code key} in flight, or null. */
  SharedFetch inflight(Key key) {
    return inflight.get(key);
  }

  /**
   * Registers {@code mine} as the shared fetch of {@code key}, unless one is registered already.
   */
  boolean lead(Key key, SharedFetch mine) {
    return inflight.putIfAbsent(key, mine) == null;
  }

  /** Ends a shared fetch (after its result was offered to the cache). */
  void finishFetch(Key key, SharedFetch mine) {
    inflight.remove(key, mine);
  }

  /** Every cached key with its generation, for batch revalidation. */
  List<KeyGeneration> snapshot() {
    List<KeyGeneration> entries = new ArrayList<>(Math.toIntExact(cache.estimatedSize()) + 16);
    cache
        .asMap()
        .forEach(
            (k, v) ->
                entries.add(
                    KeyGeneration.newBuilder()
                        .setKey(k.toByteString())
                        .setGeneration(v.generation())
                        .build()));
    return entries;
  }

  /** Drops {@code key} if it is still cached at exactly {@code generation}. */
  void dropIfGeneration(Key key, long generation) {
    int s = key.stripe(STRIPES);
    synchronized (locks[s]) {
      cache.asMap().computeIfPresent(key, (k, v) -> v.generation() == generation ? null : v);
    }
  }

  long hits() {
    return hits.sum();
  }

  long misses() {
    return misses.sum();
  }

  long evictions() {
    return evictions.sum();
  }

  long entries() {
    return cache.estimatedSize();
  }

  long bytes() {
    return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
  }

  long capacityBytes() {
    return capacityBytes;
  }

  private static int weight(Key k, CachedValue v) {
    return v.bytes.length + k.length() + ENTRY_OVERHEAD;
  }
}
