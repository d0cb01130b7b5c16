package io.dstore.wire;

import java.nio.charset.StandardCharsets;

/**
 * The content-key rule of the protocol: a key of the form {@code sha256:<64 lower-case hex digits>}
 * names the value whose SHA-256 those digits are. Putting such a key with any other content is
 * refused ({@link ErrorCode#INTEGRITY}); putting the same content again succeeds and changes
 * nothing. Stateless.
 */
public final class ContentKey {
  /** The prefix of every content key. */
  public static final String PREFIX = "sha256:";

  private static final byte[] PREFIX_BYTES = PREFIX.getBytes(StandardCharsets.US_ASCII);

  private ContentKey() {}

  /** The content key of a value with this SHA-256 digest. */
  public static String of(byte[] digest) {
    return PREFIX + Sha256.hex(digest);
  }

  /** Whether {@code key} starts with {@code sha256:} (and so must name its content). */
  public static boolean isContentKey(byte[] key) {
    if (key.length < PREFIX_BYTES.length) {
      return false;
    }
    for (int i = 0; i < PREFIX_BYTES.length; i++) {
      if (key[i] != PREFIX_BYTES[i]) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code key} is exactly {@code sha256:} followed by {@code digestHex}. */
  public static boolean matches(byte[] key, String digestHex) {
    return new String(key, StandardCharsets.ISO_8859_1).equals(PREFIX + digestHex);
  }
}
