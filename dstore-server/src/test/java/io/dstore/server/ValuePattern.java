package io.dstore.server;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Reproducible value bytes of any length, without holding them: the byte at position {@code p} is a
 * function of the seed and {@code p} (a counter-based generator: SplitMix64 of the seed and the
 * 8-byte block number). So a test can write a value of many GiB piece by piece and check any range
 * read back, holding only the pieces. Immutable and thread-safe.
 */
public final class ValuePattern {
  private final long seed;

  public ValuePattern(long seed) {
    this.seed = seed;
  }

  /** Fills the remaining bytes of {@code dst} with the pattern from {@code position} on. */
  public void fill(long position, ByteBuffer dst) {
    long p = position;
    while (dst.hasRemaining()) {
      long block = mix(seed + 0x9E3779B97F4A7C15L * (p >>> 3));
      int shift = (int) (p & 7) * 8;
      for (; shift < 64 && dst.hasRemaining(); shift += 8) {
        dst.put((byte) (block >>> shift));
        p++;
      }
    }
  }

  /** The {@code length} bytes from {@code position} on. */
  public byte[] bytes(long position, int length) {
    byte[] bytes = new byte[length];
    fill(position, ByteBuffer.wrap(bytes));
    return bytes;
  }

  /** SHA-256, in lower-case hex, of the first {@code size} bytes; reads them in 1 MiB pieces. */
  public String sha256(long size) {
    MessageDigest digest = newSha256();
    ByteBuffer piece = ByteBuffer.allocate(1 << 20);
    for (long p = 0; p < size; ) {
      piece.clear().limit((int) Math.min(piece.capacity(), size - p));
      fill(p, piece);
      piece.flip();
      p += piece.remaining();
      digest.update(piece);
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** A SHA-256 {@link MessageDigest}. */
  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
