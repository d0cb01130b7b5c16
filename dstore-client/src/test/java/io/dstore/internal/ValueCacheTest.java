package io.dstore.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.ValueInfo;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The cache's byte budget, admission limit, eviction count and fill rule. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ValueCacheTest {
  private static Key key(String s) {
    return Key.copyOf(s.getBytes(UTF_8));
  }

  private static CachedValue value(int size, long generation) {
    return new CachedValue(new byte[size], new ValueInfo(size, generation, "0".repeat(64)));
  }

  @Test
  void staysWithinItsByteBudgetAndCountsEvictions() {
    ValueCache cache = new ValueCache(100_000, 12_500);
    for (int i = 0; i < 100; i++) {
      Key k = key("k" + i);
      assertThat(cache.insertIfUnchanged(k, cache.version(k), value(10_000, i + 1))).isTrue();
    }
    assertThat(cache.bytes()).isLessThanOrEqualTo(100_000);
    assertThat(cache.entries()).isLessThan(100);
    assertThat(cache.evictions()).isEqualTo(100 - cache.entries());
  }

  @Test
  void valuesAboveTheAdmissionLimitAreNotCached() {
    ValueCache cache = new ValueCache(1 << 20, 1 << 17);
    Key k = key("big");
    assertThat(cache.insertIfUnchanged(k, cache.version(k), value((1 << 17) + 1, 1))).isFalse();
    assertThat(cache.peek(k)).isNull();
  }

  @Test
  void aFillThatRacedAnInvalidationIsRefusedAndALookupViewFindsTheEntry() {
    ValueCache cache = new ValueCache(1 << 20, 1 << 17);
    Key k = key("k");
    long before = cache.version(k);
    cache.invalidate(k, 1); // arrives while the fill is on its way
    assertThat(cache.insertIfUnchanged(k, before, value(10, 1))).isFalse();
    assertThat(cache.insertIfUnchanged(k, cache.version(k), value(10, 2))).isTrue();
    assertThat(cache.peek(Key.view("k".getBytes(UTF_8)))).isNotNull();
    cache.invalidate(k, 1); // an older generation leaves the newer entry alone
    assertThat(cache.peek(k)).isNotNull();
    cache.invalidate(k, 2);
    assertThat(cache.peek(k)).isNull();
  }
}
