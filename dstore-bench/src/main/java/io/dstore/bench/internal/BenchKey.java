package io.dstore.bench.internal;

import java.nio.charset.StandardCharsets;

/**
 * A key in both forms the clients take: text (Redis, Hazelcast, Caffeine) and UTF-8 bytes (dstore),
 * converted once up front so no client pays for the conversion while measured. Immutable: the byte
 * array is never modified by the harness or handed to code that would.
 */
final class BenchKey {
  private final String text;
  private final byte[] bytes;

  BenchKey(String text) {
    this.text = text;
    this.bytes = text.getBytes(StandardCharsets.UTF_8);
  }

  String text() {
    return text;
  }

  /** The UTF-8 bytes; callers must not modify them. */
  byte[] bytes() {
    return bytes;
  }

  /** {@code count} keys {@code prefix0 .. prefix(count-1)}. */
  static BenchKey[] range(String prefix, int count) {
    BenchKey[] keys = new BenchKey[count];
    for (int i = 0; i < count; i++) {
      keys[i] = new BenchKey(prefix + i);
    }
    return keys;
  }

  @Override
  public String toString() {
    return text;
  }
}
