package io.dstore.bench.internal;

import static io.dstore.bench.internal.RoundsTest.in;
import static io.dstore.bench.internal.RoundsTest.remote;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
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
        .contains("(target >= 1.0x)")
        .contains("MET");
  }

  @Test
  void comparesCopyingLocalHitsWithThePeersCachedArrayCopied() {
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, hit(SystemId.DSTORE, null, 10e6)),
            in(1, hit(SystemId.CAFFEINE, null, 40e6)),
            in(1, hit(SystemId.DSTORE, "dstore-copy", 8e6)),
            in(1, hit(SystemId.CAFFEINE, "caffeine-copy", 12e6)));

    List<String> targets = ResultTable.targets(cells);

    assertThat(targets)
        .anySatisfy(
            t ->
                assertThat(t)
                    .contains("1 thr: dstore getBuffer / caffeine")
                    .contains("0.25x")
                    .contains("MISSED"))
        .anySatisfy(
            t ->
                assertThat(t)
                    .contains("1 thr: dstore get / caffeine + copy")
                    .contains("0.67x")
                    .contains("MET"))
        .hasSize(2);
  }

  @Test
  void checksTheDeleteP99AtAThousandLocalsAgainstTenMilliseconds() {
    List<Rounds.RoundResult> cells =
        List.of(in(1, delete(4_000)), in(2, delete(12_000)), in(3, delete(30_000)));

    assertThat(ResultTable.targets(cells))
        .singleElement()
        .asString()
        .contains("invalidate, 1024 locals: dstore delete p99")
        .contains("12.0 ms")
        .contains("MISSED");
  }

  @Test
  void leavesOutTheThinClientTargetWhenOnlyTheJsonRowsAreThere() {
    List<Rounds.RoundResult> withThin =
        List.of(
            in(1, remote(SystemId.DSTORE, 1, 9_500, 100)),
            in(1, thin(1, 10_000)),
            in(1, remote(SystemId.REDIS, 1, 10_000, 100)));

    assertThat(ResultTable.targets(withThin))
        .anySatisfy(
            t ->
                assertThat(t)
                    .contains("Local's miss / thin client")
                    .contains("0.95x")
                    .contains("target >= 0.95x")
                    .contains("MET"))
        .hasSize(2);
    assertThat(ResultTable.targets(withThin.stream().filter(c -> c.result().inJson()).toList()))
        .noneSatisfy(t -> assertThat(t).contains("thin client"));
  }

  private static Result hit(SystemId system, String variant, double ops) {
    return new Result(
        Scenario.LOCAL_HIT,
        system,
        1,
        100,
        null,
        ops,
        0.1,
        0.2,
        0.3,
        1.0,
        null,
        null,
        variant,
        Map.of());
  }

  private static Result thin(int threads, double ops) {
    Result r = remote(SystemId.DSTORE, threads, ops, 100);
    return new Result(
        r.scenario(),
        r.system(),
        r.threads(),
        r.valueSize(),
        null,
        ops,
        r.p50Micros(),
        r.p99Micros(),
        r.p999Micros(),
        null,
        r.bytesPerSecond(),
        null,
        RemoteScenario.THIN,
        Map.of());
  }

  private static Result delete(double p99Micros) {
    return new Result(
        Scenario.INVALIDATE,
        SystemId.DSTORE,
        1,
        100,
        1024,
        50,
        p99Micros / 2,
        p99Micros,
        p99Micros,
        null,
        null,
        null,
        null,
        Map.of("delete p99 us", String.format(java.util.Locale.ROOT, "%,.0f", p99Micros)));
  }
}
