package io.dstore.internal;

import io.dstore.ValueInfo;
import java.nio.ByteBuffer;

/**
 * A value held in the cache: its bytes (owned, never mutated, never handed out without a copy or a
 * read-only view) and its metadata.
 */
final class CachedValue {
  final byte[] bytes;
  final ValueInfo info;

  private final ByteBuffer view;

  CachedValue(byte[] bytes, ValueInfo info) {
    this.bytes = bytes;
    this.info = info;
    this.view = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
  }

  /** A read-only view of the bytes, the caller's own (position and limit its to move). */
  ByteBuffer view() {
    return view.duplicate();
  }

  long generation() {
    return info.generation();
  }
}
