package io.dstore.bench.internal;

import static io.dstore.bench.internal.RoundsTest.in;
import static io.dstore.bench.internal.RoundsTest.remote;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChartsTest {
  @TempDir Path dir;

  private static void assertPng(Path png) throws Exception {
    assertThat(png).exists();
    byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
    assertThat(head).containsExactly(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
  }

  @Test
  void drawsTheMediansOfSeveralRoundsWithErrorBars() throws Exception {
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, remote(SystemId.DSTORE, 1, 40_000, 100)),
            in(1, remote(SystemId.REDIS, 1, 60_000, 100)),
            in(2, remote(SystemId.DSTORE, 1, 50_000, 100)),
            in(2, remote(SystemId.REDIS, 1, 50_000, 100)),
            in(3, remote(SystemId.DSTORE, 1, 80_000, 200)),
            in(3, remote(SystemId.REDIS, 1, 70_000, 100)));

    List<Path> written = Charts.render(Rounds.aggregate(cells), dir);

    assertThat(written).containsExactly(dir.resolve("bench-remote-get.png"));
    assertPng(written.get(0));
  }

  @Test
  void drawsALogAxisOrAMissingBarWithoutErrorBars() throws Exception {
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, remote(SystemId.DSTORE, 1, 40, 100)),
            in(1, remote(SystemId.DSTORE, 16, 40_000, 100)),
            in(1, remote(SystemId.REDIS, 1, 60_000, 100)),
            in(2, remote(SystemId.DSTORE, 1, 50, 100)),
            in(2, remote(SystemId.DSTORE, 16, 50_000, 100)),
            in(2, remote(SystemId.REDIS, 1, 50_000, 100)));

    List<Path> written = Charts.render(Rounds.aggregate(cells), dir);

    assertPng(written.get(0));
  }
}
