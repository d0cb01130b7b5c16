package io.dstore.bench.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Raw Caffeine, the ceiling for local hits: a {@code Cache<String, byte[]>} bounded by bytes and
 * weighed like dstore's Local cache (value + key + a fixed overhead), without statistics. Reads
 * return the cached array itself.
 */
final class CaffeineClient implements KvClient {
  private final Cache<String, byte[]> cache;

  CaffeineClient(long maxBytes) {
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((String k, byte[] v) -> v.length + k.length() + 96)
            .build();
  }

  @Override
  public byte[] get(BenchKey key) {
    return cache.getIfPresent(key.text());
  }

  @Override
  public void put(BenchKey key, byte[] value) {
    cache.put(key.text(), value);
  }

  @Override
  public void delete(BenchKey key) {
    cache.invalidate(key.text());
  }

  @Override
  public boolean isCached(BenchKey key) {
    return cache.getIfPresent(key.text()) != null;
  }

  @Override
  public void close() {
    cache.invalidateAll();
  }
}
