package io.dstore.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An immutable key: a private copy of the caller's bytes with a cached hash, for use in maps. Never
 * hands its array out.
 */
final class Key {
  private final byte[] bytes;
  private final int hash;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private Key(byte[] bytes) {
    this.bytes = bytes;
    this.hash = hash(bytes);
  }

  /**
   * Eight bytes at a time, multiplied and folded: a fraction of {@link Arrays#hashCode(byte[])}'s
   * cost on the short keys typical here, which matters because every cache hit hashes its key.
   */
  private static int hash(byte[] b) {
    long h = b.length * 0x9E3779B97F4A7C15L;
    int i = 0;
    for (; i + 8 <= b.length; i += 8) {
      h = (h ^ (long) LONGS.get(b, i)) * 0xBF58476D1CE4E5B9L;
      h ^= h >>> 31;
    }
    long tail = 0;
    for (int shift = 0; i < b.length; i++, shift += 8) {
      tail |= (b[i] & 0xFFL) << shift;
    }
    h = (h ^ tail) * 0x94D049BB133111EBL;
    h ^= h >>> 29;
    return (int) (h ^ (h >>> 32));
  }

  /** Copies {@code bytes}; throws INVALID_ARGUMENT for an empty key. */
  static Key copyOf(byte[] bytes) {
    if (bytes.length == 0) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "key is empty: keys are 1 to 1024 bytes");
    }
    return new Key(bytes.clone());
  }

  /**
   * A key over the caller's array itself, without a copy: only for a lookup that ends before the
   * call returns (never stored, never handed on). Throws INVALID_ARGUMENT for an empty key.
   */
  static Key view(byte[] bytes) {
    if (bytes.length == 0) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "key is empty: keys are 1 to 1024 bytes");
    }
    return new Key(bytes);
  }

  static Key of(ByteString bytes) {
    return new Key(bytes.toByteArray());
  }

  /** A zero-copy view for protobuf messages (protobuf never mutates it). */
  ByteString toByteString() {
    return UnsafeByteOperations.unsafeWrap(bytes);
  }

  int length() {
    return bytes.length;
  }

  int stripe(int stripes) {
    return (hash ^ (hash >>> 16)) & (stripes - 1);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Key k && hash == k.hash && Arrays.equals(bytes, k.bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
  }
}
