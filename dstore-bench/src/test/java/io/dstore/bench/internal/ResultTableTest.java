package io.dstore.bench.internal;

import static io.dstore.bench.internal.RoundsTest.in;
import static io.dstore.bench.internal.RoundsTest.remote;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ResultTableTest {
  private static final List<Rounds.RoundResult> THREE_ROUNDS =
      List.of(
          in(1, remote(SystemId.DSTORE, 16, 40_000, 100)),
          in(1, remote(SystemId.REDIS, 16, 40_000, 100)),
          in(2, remote(SystemId.DSTORE, 16, 50_000, 100)),
          in(2, remote(SystemId.REDIS, 16, 100_000, 100)),
          in(3, remote(SystemId.DSTORE, 16, 80_000, 200)),
          in(3, remote(SystemId.REDIS, 16, 40_000, 100)));

  @Test
  void showsTheMedianWithItsSpreadBesideOpsAndP99AndExplainsItUnderTheTables() {
    String table = ResultTable.render(Rounds.aggregate(THREE_ROUNDS));

    assertThat(table).contains("50,000 ±60%").contains("40,000 ±150%").contains("100 ±100%");
    assertThat(table).contains("medians of 3 rounds").contains("medians of the per-round ratios");
    assertThat(table).doesNotContain("rounds  "); // every row has all rounds: no rounds column
  }

  @Test
  void showsPlainFiguresWithoutAFooterForOneRound() {
    String table =
        ResultTable.render(Rounds.aggregate(Rounds.oneRound(Rounds.results(THREE_ROUNDS))));

    assertThat(table).doesNotContain("±").doesNotContain("medians of");
  }

  @Test
  void addsARoundsColumnWhenASystemMissedSomeRounds() {
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, remote(SystemId.DSTORE, 16, 40_000, 100)),
            in(2, remote(SystemId.DSTORE, 16, 50_000, 100)),
            in(2, remote(SystemId.REDIS, 16, 60_000, 100)));

    String markdown = ResultTable.markdown(Rounds.aggregate(cells));

    assertThat(markdown).contains("| rounds |").contains("| 2 |").contains("| 1 |");
    assertThat(markdown).contains("45,000 ±11%").contains("| 60,000 |");
  }

  @Test
  void checksTargetsOnTheMedianOfPerRoundRatios() {
    List<String> targets = ResultTable.targets(THREE_ROUNDS);

    // Per-round dstore / redis: 1.0, 0.5, 2.0; their median is 1.0 (the ratio of medians 1.25).
    assertThat(targets)
        .singleElement()
        .asString()
        .contains("remote-get, 100 B, 16 thr: dstore / redis")
        .contains("1.00x ±100%")
        .contains("MET");
  }
}
