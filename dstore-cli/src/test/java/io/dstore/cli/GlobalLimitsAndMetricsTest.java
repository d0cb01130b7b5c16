package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.testing.MetricsPage;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The metrics and limit options of {@code dstore global} reach the server: {@code /metrics} serves
 * dstore's meters, and each limit's refusal names the limit and its option.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GlobalLimitsAndMetricsTest {
  private static final long AWAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

  private static Background global(String... extra) {
    String[] base = {"global", "--listen", "127.0.0.1:0", "--store", "memory"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return Background.start(args);
  }

  /** Scrapes {@code url} until the body matches {@code pattern} (somewhere), within a deadline. */
  private String awaitMetrics(String url, Pattern pattern) throws Exception {
    long deadline = System.nanoTime() + AWAIT_NANOS;
    while (true) {
      String body = MetricsPage.fetch(url).body();
      if (pattern.matcher(body).find()) {
        return body;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("no " + pattern + " in /metrics:\n" + body);
      }
      Thread.sleep(20); // polling an HTTP endpoint: nothing to wait on
    }
  }

  @Test
  void metricsListenServesDstoreMetersAndSaysWhere() throws Exception {
    try (Background g = global("--metrics-listen", "127.0.0.1:0")) {
      String address = g.awaitOut(Background.GLOBAL_LISTENING);
      String url = g.awaitErr(Background.METRICS);
      assertThat(url).doesNotEndWith(":0/metrics");
      assertThat(Cli.run("put", "metered", "v", "--global", address).exit()).isZero();

      MetricsPage response = MetricsPage.fetch(url);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.contentType()).startsWith("text/plain");
      assertThat(response.body()).contains("dstore_stored_keys 1.0").contains("dstore_requests_");
      assertThat(MetricsPage.fetch(url.replace("/metrics", "/other")).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aMetricsAddressInUseIsOneClearLine() throws Exception {
    try (Background g = global("--metrics-listen", "127.0.0.1:0")) {
      g.awaitOut(Background.GLOBAL_LISTENING);
      String taken = g.awaitErr(Background.METRICS).replaceAll("http://(.*)/metrics", "$1");
      Cli.Result r =
          Cli.run(
              "global", "--listen", "127.0.0.1:0", "--store", "memory", "--metrics-listen", taken);
      assertThat(r.exit()).as("%s", r).isEqualTo(2);
      assertThat(r.err()).startsWith("Cannot serve metrics on " + taken + ": ");
      assertThat(r.err().strip()).doesNotContain("\n");
    }
  }

  @Test
  void theKeySizeLimitIsNamedWithItsOption() throws Exception {
    try (Background g = global("--max-key-size", "10")) {
      String address = g.awaitOut(Background.GLOBAL_LISTENING);
      Cli.Result r = Cli.run("put", "k".repeat(20), "v", "--global", address);
      assertThat(r.exit()).as("%s", r).isEqualTo(2);
      assertThat(r.err()).contains("the limit is 10 bytes").contains("--max-key-size");
      assertThat(Cli.run("put", "k".repeat(10), "v", "--global", address).exit()).isZero();
    }
  }

  @Test
  void theConnectionLimitRefusesTheConnectionOverIt() throws Exception {
    try (Background g = global("--max-connections", "1")) {
      String address = g.awaitOut(Background.GLOBAL_LISTENING);
      // One connection, kept open: a thin client that made a call.
      try (Dstore first =
          Dstore.connect(address, DstoreOptions.builder().coherentCache(false).build())) {
        first.put("first".getBytes(StandardCharsets.UTF_8), new byte[] {1});
        Cli.Result r = Cli.run("get", "first", "--global", address);
        assertThat(r.exit()).as("%s", r).isEqualTo(3);
        assertThat(r.err()).contains("--max-connections");
      }
    }
  }

  @Test
  void theSubscriptionLimitLeavesALocalOverItUnsubscribed() throws Exception {
    try (Background g = global("--max-subscriptions", "1")) {
      String address = g.awaitOut(Background.GLOBAL_LISTENING);
      try (Dstore first = Dstore.connect(address, DstoreOptions.builder().name("first").build())) {
        awaitLease(first);
        Cli.Result r =
            Cli.run(
                "GET nothing\n.stats\n".getBytes(StandardCharsets.UTF_8),
                "local",
                "--global",
                address);
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.err()).contains("answers, but this Local is not subscribed yet");
        String[] lines = r.out().split("\n");
        assertThat(lines[0]).isEqualTo("Key-Value mapping doesn't exist");
        assertThat(lines[1]).contains("connected=false");
      }
    }
  }

  @Test
  void theIdleTimeoutCutsOffAStalledUploadAndNamesItsOption() throws Exception {
    try (Background g = global("--idle-timeout", "1s", "--metrics-listen", "127.0.0.1:0")) {
      String address = g.awaitOut(Background.GLOBAL_LISTENING);
      String metrics = g.awaitErr(Background.METRICS);
      PipedOutputStream writer = new PipedOutputStream();
      PipedInputStream stdin = new PipedInputStream(writer, 2 << 20);
      // put reads the value from stdin: one whole chunk (1 MiB), then nothing until the server
      // has cut the upload off.
      writer.write(new byte[1 << 20]);
      CompletableFuture<Cli.Result> put = new CompletableFuture<>();
      Thread.ofPlatform()
          .daemon()
          .start(
              () ->
                  put.complete(
                      Cli.run(
                          stdin,
                          () -> false,
                          System::nanoTime,
                          "put",
                          "stalled",
                          "--global",
                          address)));
      // The cut-off upload is recorded as UNAVAILABLE, the status it ends with.
      awaitMetrics(
          metrics,
          Pattern.compile(
              "dstore_requests_seconds_count\\{[^}]*op=\"putstream\"[^}]*status=\"UNAVAILABLE\""));
      writer.write('x');
      writer.close();
      Cli.Result r = put.get(30, TimeUnit.SECONDS);
      assertThat(r.exit()).as("%s", r).isEqualTo(3);
      assertThat(r.err()).contains("the idle stream timeout is 1 s (set with --idle-timeout)");
      assertThat(r.err().split("--idle-timeout", -1)).as("said once: %s", r.err()).hasSize(2);
      assertThat(Cli.run("get", "stalled", "--global", address).exit())
          .as("a cut-off upload leaves nothing")
          .isEqualTo(1);
    }
  }

  @Test
  void limitsThatMakeNoSenseAreUsageErrors() {
    String[][] cases = {
      {"global", "--max-connections", "0"},
      {"global", "--max-subscriptions", "0"},
      {"global", "--max-streams-per-connection", "0"},
      {"global", "--idle-timeout", "0s"},
      {"global", "--idle-timeout", "5"},
      {"global", "--max-connections", "many"},
      {"global", "--metrics-listen", "nowhere"},
    };
    for (String[] args : cases) {
      Cli.Result r = Cli.run(args);
      assertThat(r.exit()).as("%s: %s", String.join(" ", args), r).isEqualTo(2);
      assertThat(r.err()).startsWith("dstore global: ");
      assertThat(r.err().split("\n")).hasSize(2);
    }
  }

  @Test
  void theHelpShowsEveryLimitWithItsDefault() {
    String help = Cli.run("global", "--help").out();
    assertThat(help)
        .contains("--max-streams-per-connection=N")
        .contains("(default: 1000)")
        .contains("--max-connections=N")
        .contains("--idle-timeout=DURATION")
        .contains("(default: 30s)")
        .contains("--max-subscriptions=N")
        .contains("(default: 10000)")
        .contains("--tls-client-ca=FILE")
        .contains("--token-file=FILE")
        .contains("--metrics-listen=HOST:PORT");
  }

  private static void awaitLease(Dstore local) {
    local.awaitReady(Duration.ofNanos(AWAIT_NANOS));
  }
}
