package io.dstore.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The soak's options are checked before anything starts: a bad one exits 2 and says why. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SoakOptionsTest {
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = new CommandLine(new BenchCommand());
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  @Test
  void aWarmUpAsLongAsTheRunIsRefused() {
    assertThat(run("--scenario", "soak", "--duration", "10m", "--warmup", "10m")).isEqualTo(2);
    assertThat(err.toString()).contains("--warmup must be shorter than --duration");
  }

  @Test
  void aWarmUpThatIsNotATimeIsRefused() {
    assertThat(run("--scenario", "soak", "--duration", "10m", "--warmup", "ten")).isEqualTo(2);
    assertThat(err.toString()).contains("--warmup must be like 90s, 20m or 2h, got 'ten'");
  }

  @Test
  void aSampleIntervalLongerThanTheRunIsRefused() {
    assertThat(run("--scenario", "soak", "--duration", "1m", "--sample-interval", "2m"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--sample-interval must be at least 1s and at most");
  }
}
