package io.dstore.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.util.Arrays;

/**
 * An immutable key: a private copy of the caller's bytes with a cached hash, for use in maps. Never
 * hands its array out.
 */
final class Key {
  private final byte[] bytes;
  private final int hash;

  private Key(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  /** Copies {@code bytes}; throws INVALID_ARGUMENT for an empty key. */
  static Key copyOf(byte[] bytes) {
    if (bytes.length == 0) {
      throw Statuses.invalidArgument("key is empty: keys are 1 to 1024 bytes");
    }
    return new Key(bytes.clone());
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
