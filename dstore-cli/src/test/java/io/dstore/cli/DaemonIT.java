package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.Child;
import io.dstore.testing.MetricsPage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code dstore local --listen} as a service process (stdin a pipe, not a terminal): it says where
 * it listens, one-shot commands through it share its cache, and SIGTERM stops it with exit 0.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DaemonIT {
  private static final Pattern LISTENING =
      Pattern.compile("Dstore local listening on (127\\.0\\.0\\.1:\\d+)");
  private static final Pattern METRICS =
      Pattern.compile("Metrics on (http://127\\.0\\.0\\.1:\\d+/metrics)");

  @Test
  void servesOneShotCommandsFromItsCacheAndExits0OnSigterm() throws Exception {
    try (TestGlobal global = TestGlobal.start();
        Child daemon =
            Child.start(
                "local",
                "--global",
                global.address(),
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
                "--name",
                "daemon")) {
      Matcher listening = LISTENING.matcher(daemon.nextLine());
      assertThat(listening.matches()).isTrue();
      String address = listening.group(1);
      // Written before the listening line, so it is there now.
      Matcher metrics = METRICS.matcher(daemon.stderr());
      assertThat(metrics.find()).as(daemon.stderr()).isTrue();
      String url = metrics.group(1);

      Cli.Result put = Cli.run("put", "via-daemon", "hello", "--global", address);
      assertThat(put.exit()).as("%s", put).isZero();
      Cli.Result first = Cli.run("get", "via-daemon", "--global", address);
      assertThat(first.exit()).as("%s", first).isZero();
      assertThat(first.out()).isEqualTo("hello");
      long hits = MetricsPage.cacheHits(url);
      Cli.Result second = Cli.run("get", "via-daemon", "--global", address);
      assertThat(second.out()).isEqualTo("hello");
      assertThat(MetricsPage.cacheHits(url))
          .as("the second get came from the daemon's cache")
          .isGreaterThan(hits);

      daemon.terminate();
      assertThat(daemon.stdoutEnded()).isTrue();
      assertThat(daemon.awaitExit()).as(daemon.stderr()).isZero();
      assertThat(daemon.stderr()).contains("stopped").doesNotContain("Exception");
      assertThat(Cli.run("get", "via-daemon", "--global", address).exit()).isEqualTo(3);
    }
  }
}
