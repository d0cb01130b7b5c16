package io.dstore;

import static java.util.Objects.requireNonNull;

/**
 * What is known of a stored value without its bytes.
 *
 * @param size the size of the whole value in bytes
 * @param generation the creation number of this incarnation of the key: it changes when a key is
 *     deleted and created again, and never otherwise
 * @param sha256 the SHA-256 of the whole value, as 64 lower-case hex digits
 */
public record ValueInfo(long size, long generation, String sha256) {
  public ValueInfo {
    if (size < 0) {
      throw new IllegalArgumentException("size < 0: " + size);
    }
    requireNonNull(sha256, "sha256");
  }
}
