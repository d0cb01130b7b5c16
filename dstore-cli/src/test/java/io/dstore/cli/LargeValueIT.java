package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.ValueInfo;
import io.dstore.testing.Child;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A value far larger than any heap involved round-trips byte-exact: Global runs with {@code
 * -Xmx256m} on RocksDB, a Local with a 64 MiB cache uploads it from a stream and downloads it to a
 * file without caching it, and the SHA-256 is checked on the way and at the end. The size is 2 GiB
 * by default ({@code -Ddstore.it.largeValueMiB} changes it).
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class LargeValueIT {
  private static final Pattern LISTENING =
      Pattern.compile("Dstore server listening on (127\\.0\\.0\\.1:\\d+)");
  private static final long SIZE = Long.getLong("dstore.it.largeValueMiB", 2048) << 20;

  @TempDir Path dir;

  @Test
  void aValueLargerThanEveryHeapRoundTripsThroughASmallGlobalAndASmallCache() throws Exception {
    try (Child global =
        Child.start(
            List.of("-Xmx256m"),
            "global",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.resolve("data").toString(),
            "--max-value-size",
            "8GiB")) {
      Matcher m = LISTENING.matcher(global.nextLine());
      assertThat(m.matches()).as(global.stderr()).isTrue();
      DstoreOptions options = DstoreOptions.builder().cacheSizeBytes(64L << 20).build();
      try (Dstore local = Dstore.connect(m.group(1), options)) {
        byte[] key = "big".getBytes(StandardCharsets.UTF_8);
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        long start = System.nanoTime();
        try (InputStream in = new DigestInputStream(new PatternStream(7, SIZE), sent)) {
          local.put(key, in, SIZE);
        }
        long uploaded = System.nanoTime();
        String expected = HexFormat.of().formatHex(sent.digest());

        Path file = dir.resolve("big.out");
        ValueInfo info;
        try (OutputStream out = Files.newOutputStream(file)) {
          info = local.get(key, out);
        }
        long downloaded = System.nanoTime();
        assertThat(info.size()).isEqualTo(SIZE);
        assertThat(info.sha256()).isEqualTo(expected);
        assertThat(Files.size(file)).isEqualTo(SIZE);
        assertThat(sha256Of(file)).as("the file's bytes").isEqualTo(expected);
        assertThat(local.isCached(key)).as("too large for a 64 MiB cache").isFalse();
        assertThat(local.stats().cachedBytes()).isLessThanOrEqualTo(64L << 20);
        assertThat(global.isAlive()).as("Global survived with 256 MiB of heap").isTrue();
        System.out.printf(
            "large value: %d MiB up in %.1f s (%.0f MiB/s), down to a file in %.1f s (%.0f MiB/s)%n",
            SIZE >> 20,
            (uploaded - start) / 1e9,
            (SIZE >> 20) / ((uploaded - start) / 1e9),
            (downloaded - uploaded) / 1e9,
            (SIZE >> 20) / ((downloaded - uploaded) / 1e9));
      }
    }
  }

  private static String sha256Of(Path file) throws Exception {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** {@code size} pseudo-random bytes from a seed, generated as they are read. */
  private static final class PatternStream extends InputStream {
    private final SplittableRandom random;
    private long left;

    PatternStream(long seed, long size) {
      this.random = new SplittableRandom(seed);
      this.left = size;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (left == 0) {
        return -1;
      }
      int n = (int) Math.min(len, left);
      for (int i = 0; i < n; i += 8) {
        long r = random.nextLong();
        for (int j = 0; j < 8 && i + j < n; j++) {
          b[off + i + j] = (byte) (r >>> (8 * j));
        }
      }
      left -= n;
      return n;
    }
  }
}
