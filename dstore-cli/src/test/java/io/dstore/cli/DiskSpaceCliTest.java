package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dstore put} against a Global that is out of disk space exits 5 with {@code Global is out
 * of space: ...}. The state is forced honestly: {@code dstore global} on a real RocksDB store with
 * {@code --min-free-disk} larger than any disk, so free space is below the watermark at once.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DiskSpaceCliTest {
  @TempDir Path dir;

  @Test
  void putAgainstAGlobalAtTheWatermarkExits5AndSaysWhy() throws Exception {
    try (Background g =
        Background.start(
            "global",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.resolve("data").toString(),
            "--min-free-disk",
            "4096TiB")) {
      String address = g.awaitOut(Background.GLOBAL_LISTENING);

      Cli.Result put = Cli.run("put", "k", "v", "--global", address);
      assertThat(put.exit()).as(put.err()).isEqualTo(ExitCodes.NO_SPACE).isEqualTo(5);
      assertThat(put.err())
          .startsWith("Global is out of space: ")
          .contains("below the watermark of 4.0 PiB")
          .contains("--min-free-disk")
          .doesNotContain("unreachable");

      // Reads and deletes are not refused: the key is simply absent.
      assertThat(Cli.run("get", "k", "--global", address).exit()).isEqualTo(1);
      assertThat(Cli.run("del", "k", "--global", address).exit()).isEqualTo(1);
    }
  }

  @Test
  void zeroTurnsTheCheckOff() throws Exception {
    try (Background g =
        Background.start(
            "global",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.resolve("data").toString(),
            "--min-free-disk",
            "0")) {
      String address = g.awaitOut(Background.GLOBAL_LISTENING);
      assertThat(Cli.run("put", "k", "v", "--global", address).exit()).isZero();
    }
  }

  @Test
  void helpListsTheOptionAndTheExitCode() {
    assertThat(Cli.run("global", "--help").stdout()).asString().contains("--min-free-disk");
    assertThat(Cli.run("put", "--help").stdout())
        .asString()
        .contains("Global is out of disk space")
        .contains("internal error (a bug");
  }
}
