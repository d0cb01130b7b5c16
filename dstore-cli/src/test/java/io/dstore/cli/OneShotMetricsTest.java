package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.MetricsPage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A one-shot command that succeeds is a finished call on Global's {@code /metrics}: its pipeline
 * stream ends OK, not CANCELLED, so that an operator's error-rate graph shows no false errors.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OneShotMetricsTest {
  private static final Pattern PIPELINE_COUNT =
      Pattern.compile(
          "(?m)^dstore_requests_seconds_count\\{op=\"pipeline\",status=\"([A-Z_]+)\"\\} (\\S+)$");

  @Test
  void putGetAndDelEndTheirCallsWithOk() throws Exception {
    try (Background g =
        Background.start(
            "global",
            "--listen",
            "127.0.0.1:0",
            "--store",
            "memory",
            "--metrics-listen",
            "127.0.0.1:0")) {
      String address = g.awaitOut(Background.GLOBAL_LISTENING);
      String url = g.awaitErr(Background.METRICS);
      assertThat(Cli.run("put", "k", "v", "--global", address).exit()).isZero();
      assertThat(Cli.run("get", "k", "--global", address).exit()).isZero();
      assertThat(Cli.run("del", "k", "--global", address).exit()).isZero();

      // put and del travel on the pipeline; get reads through a GetStream of its own.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      String body = MetricsPage.fetch(url).body();
      while (pipelines(body, "OK") < 2) {
        assertThat(System.nanoTime() - deadline)
            .as("the pipelines of put and del ended OK in:\n%s", body)
            .isNegative();
        Thread.sleep(20); // polling an HTTP endpoint: nothing to wait on
        body = MetricsPage.fetch(url).body();
      }
      assertThat(pipelines(body, "OK")).isEqualTo(2);
      assertThat(body).doesNotContain("status=\"CANCELLED\"");
    }
  }

  private static double pipelines(String body, String status) {
    Matcher m = PIPELINE_COUNT.matcher(body);
    while (m.find()) {
      if (m.group(1).equals(status)) {
        return Double.parseDouble(m.group(2));
      }
    }
    return 0;
  }
}
