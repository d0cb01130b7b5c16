package io.dstore.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The command line's checks, which refuse bad options before anything runs. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BenchCommandTest {
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = new CommandLine(new BenchCommand());
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  @Test
  void refusesZeroRounds() {
    assertThat(run("--rounds", "0", "--scenario", "put")).isEqualTo(2);
    assertThat(err.toString()).contains("--rounds must be an integer from 1 to 50, got 0");
  }

  @Test
  void refusesMoreThanFiftyRounds() {
    assertThat(run("--rounds", "51", "--scenario", "put")).isEqualTo(2);
    assertThat(err.toString()).contains("--rounds must be an integer from 1 to 50, got 51");
  }

  @Test
  void refusesRoundsThatAreNotAnInteger() {
    assertThat(run("--rounds", "2.5", "--scenario", "put")).isEqualTo(2);
    assertThat(err.toString()).contains("--rounds").contains("2.5");
  }

  @Test
  void refusesRoundsWithTheSoak() {
    assertThat(run("--scenario", "soak", "--rounds", "3")).isEqualTo(2);
    assertThat(err.toString()).contains("--rounds does not apply to soak");
  }

  @Test
  void refusesRoundsWithResultsReadFromAFile() {
    assertThat(run("--from-json", "results.json", "--rounds", "3")).isEqualTo(2);
    assertThat(err.toString()).contains("--rounds does not apply to --from-json");
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
