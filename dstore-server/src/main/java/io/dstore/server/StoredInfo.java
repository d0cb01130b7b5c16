package io.dstore.server;

import static java.util.Objects.requireNonNull;

/**
 * Metadata a {@link Storage} keeps with each value.
 *
 * @param size the number of bytes of the whole value
 * @param generation the creation number assigned at commit: strictly increasing across all keys of
 *     a store, never reused, preserved across restarts of a durable store
 * @param sha256 SHA-256 of the whole value, 64 lower-case hex digits
 */
public record StoredInfo(long size, long generation, String sha256) {
  public StoredInfo {
    if (size < 0) {
      throw new IllegalArgumentException("size < 0: " + size);
    }
    if (generation <= 0) {
      throw new IllegalArgumentException("generation <= 0: " + generation);
    }
    requireNonNull(sha256, "sha256");
    if (sha256.length() != 64) {
      throw new IllegalArgumentException("sha256 must be 64 hex digits, got " + sha256.length());
    }
  }
}
