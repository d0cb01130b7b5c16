package io.dstore.internal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests and the {@code sha256:<hex>} content-key form. */
final class Sha256 {
  static final String CONTENT_KEY_PREFIX = "sha256:";

  private Sha256() {}

  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must support SHA-256", e);
    }
  }

  static byte[] of(byte[] bytes) {
    return newDigest().digest(bytes);
  }

  static String contentKey(byte[] digest) {
    return CONTENT_KEY_PREFIX + HexFormat.of().formatHex(digest);
  }
}
