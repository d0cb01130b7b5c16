package io.dstore.wire;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256, the digest of the dstore protocol: every value's identity and integrity check, on both
 * sides of the wire. Stateless and thread-safe; each {@link #newDigest()} is the caller's own.
 */
public final class Sha256 {
  private static final HexFormat HEX = HexFormat.of();

  private Sha256() {}

  // Cloning a digest is much cheaper than looking the algorithm up among the security providers
  // again, which every small get and put would otherwise do.
  private static final MessageDigest PROTOTYPE = lookUp();

  private static MessageDigest lookUp() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must support SHA-256", e);
    }
  }

  /** A fresh SHA-256 digest, the caller's own. */
  public static MessageDigest newDigest() {
    try {
      return (MessageDigest) PROTOTYPE.clone();
    } catch (CloneNotSupportedException e) {
      return lookUp(); // a provider whose digests cannot be cloned
    }
  }

  /**
   * Adds {@code bytes} to {@code digest} without copying them: protobuf hands its own arrays to a
   * {@link ByteOutput}, where {@code asReadOnlyByteBuffer()} would make the digest copy every byte
   * into a scratch array first (a read-only buffer hides its array).
   */
  public static void update(MessageDigest digest, ByteString bytes) {
    try {
      UnsafeByteOperations.unsafeWriteTo(
          bytes,
          new ByteOutput() {
            @Override
            public void write(byte value) {
              digest.update(value);
            }

            @Override
            public void write(byte[] value, int offset, int length) {
              digest.update(value, offset, length);
            }

            @Override
            public void writeLazy(byte[] value, int offset, int length) {
              digest.update(value, offset, length);
            }

            @Override
            public void write(ByteBuffer value) {
              digest.update(value);
            }

            @Override
            public void writeLazy(ByteBuffer value) {
              digest.update(value);
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("a digest does no I/O", e);
    }
  }

  public static byte[] of(byte[] bytes) {
    return newDigest().digest(bytes);
  }

  public static String hex(byte[] digest) {
    return HEX.formatHex(digest);
  }

  public static byte[] unhex(String hex) {
    return HEX.parseHex(hex);
  }
}
