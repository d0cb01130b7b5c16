package io.dstore.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The content key of a value, {@code sha256:<64 hex digits>}, computed here so that a value read
 * from a stream can be uploaded under its key.
 *
 * <p>Why the CLI computes it: Global does not yet honour {@code PutHeader.content_addressed} on
 * streamed uploads (it rejects the empty key), so {@code Dstore.putContent(InputStream, long)}
 * fails. Uploading to the computed key has the same effect: Global checks that a {@code sha256:}
 * key matches the bytes, and storing existing content again succeeds.
 */
final class ContentKeys {
  private ContentKeys() {}

  /**
   * Reads {@code in} to its end (without closing it), copying it to {@code copy} if not null, and
   * returns its key.
   */
  static String of(InputStream in, OutputStream copy) throws IOException {
    MessageDigest sha = newDigest();
    byte[] buf = new byte[1 << 16];
    DigestInputStream digesting = new DigestInputStream(in, sha);
    int n;
    while ((n = digesting.read(buf)) >= 0) {
      if (copy != null && n > 0) {
        copy.write(buf, 0, n);
      }
    }
    return "sha256:" + HexFormat.of().formatHex(sha.digest());
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
