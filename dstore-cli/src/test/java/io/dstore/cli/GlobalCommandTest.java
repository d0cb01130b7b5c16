package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code dstore global} in this JVM, stopped through an injected stop signal. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GlobalCommandTest {
  private static final Pattern LISTENING =
      Pattern.compile("Dstore server listening on 127\\.0\\.0\\.1:(\\d+)");

  @TempDir Path dir;

  private final LineCapture out = new LineCapture();
  private final LineCapture err = new LineCapture();
  private final CountDownLatch stop = new CountDownLatch(1);
  private CompletableFuture<Integer> running;

  @AfterEach
  void stopIfRunning() throws Exception {
    stop.countDown();
    if (running != null) {
      running.get(30, TimeUnit.SECONDS);
    }
  }

  /** Runs {@code dstore args...} in the background; the future completes with its exit code. */
  @CanIgnoreReturnValue
  private CompletableFuture<Integer> start(String... args) {
    Env env =
        new Env(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new ByteArrayInputStream(new byte[0]),
            () -> false,
            () -> false,
            System::nanoTime,
            onAbruptExit -> stop.await());
    running = CompletableFuture.supplyAsync(() -> Main.run(args, env));
    return running;
  }

  private String awaitListening() throws InterruptedException {
    Matcher m = out.awaitLine(LISTENING, 20, TimeUnit.SECONDS);
    return "127.0.0.1:" + m.group(1);
  }

  @Test
  void printsTheRealAddressServesAndStopsWithExit0() throws Exception {
    CompletableFuture<Integer> exit =
        start("global", "--listen", "127.0.0.1:0", "--store", "memory", "--lease", "1s");
    String address = awaitListening();
    assertThat(address).doesNotEndWith(":0");
    assertThat(out.text()).isEqualTo("Dstore server listening on " + address + "\n");

    assertThat(Cli.run("put", "k", "v", "--global", address).exit()).isZero();
    assertThat(Cli.run("get", "k", "--global", address).out()).isEqualTo("v");

    stop.countDown();
    assertThat(exit.get(20, TimeUnit.SECONDS)).isZero();
    assertThat(Cli.run("get", "k", "--global", address).exit()).isEqualTo(3);
  }

  @Test
  void eventualCoherenceAndLimitsAreApplied() throws Exception {
    start(
        "global",
        "--listen=127.0.0.1:0",
        "--store=MEMORY",
        "--coherence=eventual",
        "--max-key-size=8",
        "--max-value-size=1k",
        "--max-message-size=64KiB",
        "--invalidation-log=10");
    String address = awaitListening();
    Cli.Result longKey = Cli.run("put", "123456789", "v", "--global", address);
    assertThat(longKey.exit()).isEqualTo(2);
    assertThat(longKey.err()).contains("the limit is 8 bytes");
    Cli.Result bigValue = Cli.run("put", "k", "x".repeat(1025), "--global", address);
    assertThat(bigValue.exit()).isEqualTo(2);
    assertThat(bigValue.err()).contains("the limit is 1024 bytes");
  }

  @Test
  void aPortInUseExits2WithOneLine() {
    try (TestGlobal other = TestGlobal.start()) {
      Cli.Result r = Cli.run("global", "--listen", other.address(), "--store", "memory");
      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.err()).startsWith("Cannot listen on " + other.address() + ": ");
      assertThat(r.err().strip()).doesNotContain("\n");
      assertThat(r.stdout()).isEmpty();
    }
  }

  @Test
  void badSettingsAreUsageErrors() {
    String[][] cases = {
      {"global", "--store", "floppy"},
      {"global", "--lease", "0s"},
      {"global", "--lease", "2"},
      {"global", "--max-message-size", "1k"},
      {"global", "--invalidation-log", "0"},
      {"global", "--listen", "127.0.0.1"},
      {"global", "--coherence", "sometimes"},
      {"global", "--max-value-size", "lots"}
    };
    for (String[] args : cases) {
      Cli.Result r = Cli.run(args);
      assertThat(r.exit()).as("%s: %s", String.join(" ", args), r).isEqualTo(2);
      assertThat(r.err().split("\n")).as("%s", r).hasSize(2);
      assertThat(r.err()).startsWith("dstore global: ");
    }
  }

  @Test
  void rocksdbStoreKeepsDataAcrossRestarts() throws Exception {
    Path data = dir.resolve("data");
    CompletableFuture<Integer> first =
        start("global", "--listen", "127.0.0.1:0", "--data-dir", data.toString(), "--sync");
    String address = awaitListening();
    assertThat(Cli.run("put", "durable", "yes", "--global", address).exit()).isZero();
    stop.countDown();
    assertThat(first.get(20, TimeUnit.SECONDS)).isZero();

    CountDownLatch stopSecond = new CountDownLatch(1);
    LineCapture out2 = new LineCapture();
    Env env =
        new Env(
            new PrintStream(out2, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new ByteArrayInputStream(new byte[0]),
            () -> false,
            () -> false,
            System::nanoTime,
            onAbruptExit -> stopSecond.await());
    CompletableFuture<Integer> second =
        CompletableFuture.supplyAsync(
            () ->
                Main.run(
                    new String[] {
                      "global", "--listen", "127.0.0.1:0", "--data-dir", data.toString()
                    },
                    env));
    Matcher m = out2.awaitLine(LISTENING, 20, TimeUnit.SECONDS);
    try {
      assertThat(Cli.run("get", "durable", "--global", "127.0.0.1:" + m.group(1)).out())
          .isEqualTo("yes");
    } finally {
      stopSecond.countDown();
    }
    assertThat(second.get(20, TimeUnit.SECONDS)).isZero();
  }

  @Test
  void aDataDirectoryInUseIsRefusedWithOneClearLine() throws Exception {
    Path data = dir.resolve("busy");
    start("global", "--listen", "127.0.0.1:0", "--data-dir", data.toString());
    awaitListening();
    Cli.Result second = Cli.run("global", "--listen", "127.0.0.1:0", "--data-dir", data.toString());
    assertThat(second.exit()).isEqualTo(2);
    assertThat(second.err()).contains("in use").doesNotContain("Exception");
  }

  @Test
  void theDefaultStoreIsRocksdbInTheDataDir() throws Exception {
    Path data = dir.resolve("default");
    start("global", "--listen", "127.0.0.1:0", "--data-dir", data.toString());
    awaitListening();
    assertThat(data).isNotEmptyDirectory();
  }
}
