package io.dstore.internal;

import io.dstore.ValueInfo;

/**
 * A value held in the cache: its bytes (owned, never mutated, never handed out without a copy or a
 * read-only view) and its metadata.
 */
final class CachedValue {
  final byte[] bytes;
  final ValueInfo info;

  CachedValue(byte[] bytes, ValueInfo info) {
    this.bytes = bytes;
    this.info = info;
  }

  long generation() {
    return info.generation();
  }
}
