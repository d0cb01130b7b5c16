package io.dstore.server.internal;

import java.util.HexFormat;

/** Argument checks shared by the storage backends, so they reject the same inputs alike. */
final class StorageArgs {
  private static final HexFormat HEX = HexFormat.of();

  private StorageArgs() {}

  /**
   * Returns {@code sha256} in lower case.
   *
   * @throws IllegalArgumentException unless it is exactly 64 hex digits
   */
  static String sha256Hex(String sha256) {
    if (sha256 == null || sha256.length() != 64) {
      throw new IllegalArgumentException(
          "sha256 must be 64 hex digits, got "
              + (sha256 == null ? "null" : sha256.length() + " characters"));
    }
    try {
      return HEX.formatHex(HEX.parseHex(sha256));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sha256 is not hex: " + sha256, e);
    }
  }

  /**
   * @throws IllegalArgumentException if {@code position} is negative
   */
  static void checkPosition(long position) {
    if (position < 0) {
      throw new IllegalArgumentException("read position < 0: " + position);
    }
  }

  /** The message for any use of a closed store, its uploads or its readers. */
  static String closedMessage(String what, String store) {
    return what + " failed: storage " + store + " is closed";
  }
}
