package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.Child;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report of the issue, as processes: two keys stored (a 2.9 MiB value, then a 5-byte one),
 * Global stopped (SIGTERM, or SIGKILL as a crash), four bytes flipped in the middle of the
 * write-ahead log. The next start must refuse, naming the file; {@code --check} must find it; and
 * {@code --accept-data-loss} must start and name both keys lost.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DamagedStoreIT {
  private static final Pattern LISTENING =
      Pattern.compile("Dstore server listening on (127\\.0\\.0\\.1:\\d+)");

  @TempDir Path temp;

  @Test
  void damageInTheLogAfterSigtermRefusesTheStart() throws Exception {
    damagedLogRefusesTheStart(false);
  }

  @Test
  void damageInTheLogAfterSigkillRefusesTheStart() throws Exception {
    damagedLogRefusesTheStart(true);
  }

  private void damagedLogRefusesTheStart(boolean kill) throws Exception {
    Path dir = temp.resolve("data");
    Path value = temp.resolve("big");
    byte[] big = new byte[2_900_000];
    new Random(11).nextBytes(big);
    Files.write(value, big);
    try (Child global = startGlobal(dir)) {
      String address = address(global);
      Cli.Result put = Cli.run("put", "big", "--file", value.toString(), "--global", address);
      assertThat(put.exit()).as(put.toString()).isZero();
      assertThat(Cli.run("put", "small", "hello", "--global", address).exit()).isZero();
      if (kill) {
        global.kill();
      } else {
        global.terminate();
        assertThat(global.awaitExit()).as(global.stderr()).isZero();
      }
    }
    Path wal = newestLog(dir);
    flip(wal, Files.size(wal) / 2, 4);

    try (Child refused = startGlobal(dir)) {
      assertThat(refused.stdoutEnded()).isTrue();
      assertThat(refused.awaitExit()).as(refused.stderr()).isEqualTo(GlobalCommand.DAMAGED);
      assertThat(refused.stderr())
          .contains("Refusing to start: data directory " + dir.toAbsolutePath())
          .contains("the write-ahead log is damaged: " + wal.getFileName())
          .contains("--accept-data-loss");
    }

    Cli.Result check = Cli.run("global", "--check", "--data-dir", dir.toString());
    assertThat(check.exit()).as(check.toString()).isEqualTo(GlobalCommand.DAMAGED);
    assertThat(check.out()).contains("damaged: write-ahead log " + wal.getFileName());

    try (Child accepted =
        Child.start(
            "global",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.toString(),
            "--accept-data-loss")) {
      String address = address(accepted);
      assertThat(Cli.run("get", "small", "--global", address).exit()).isEqualTo(1);
      accepted.terminate();
      assertThat(accepted.awaitExit()).isZero();
      assertThat(accepted.stderr())
          .contains("--accept-data-loss: the write-ahead log is damaged: " + wal.getFileName())
          .contains("2 key(s) lost")
          .contains("lost key 'big'")
          .contains("lost key 'small'");
    }
    Cli.Result clean = Cli.run("global", "--check", "--data-dir", dir.toString());
    assertThat(clean.exit()).as(clean.toString()).isZero();
    assertThat(clean.out()).contains("no damage found");
  }

  private static Child startGlobal(Path dir) throws Exception {
    return Child.start("global", "--listen", "127.0.0.1:0", "--data-dir", dir.toString());
  }

  private static String address(Child global) throws InterruptedException {
    String line = global.nextLine();
    Matcher m = LISTENING.matcher(line == null ? "" : line);
    assertThat(m.matches()).as(line + "\n" + global.stderr()).isTrue();
    return m.group(1);
  }

  private static Path newestLog(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> f.getFileName().toString().matches("[0-9]+\\.log"))
          .max((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
          .orElseThrow();
    }
  }

  private static void flip(Path file, long offset, int count) throws Exception {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(count);
      ch.read(b, offset);
      for (int i = 0; i < count; i++) {
        b.put(i, (byte) ~b.get(i));
      }
      b.clear();
      ch.write(b, offset);
    }
  }
}
