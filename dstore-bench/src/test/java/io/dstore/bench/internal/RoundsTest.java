package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RoundsTest {
  static Result remote(SystemId system, int threads, double ops, double p99) {
    return new Result(
        Scenario.REMOTE_GET,
        system,
        threads,
        100,
        null,
        ops,
        p99 / 4,
        p99,
        p99 * 2,
        null,
        ops * 100,
        1_000L * (long) ops,
        null,
        Map.of());
  }

  static Rounds.RoundResult in(int round, Result r) {
    return new Rounds.RoundResult(round, r);
  }

  @Test
  void theMedianOfAnOddCountIsTheMiddleValue() {
    assertThat(Rounds.median(List.of(9.0, 1.0, 5.0))).isEqualTo(5.0);
    assertThat(Rounds.median(List.of(7.0))).isEqualTo(7.0);
  }

  @Test
  void theMedianOfAnEvenCountIsTheMeanOfTheTwoMiddleValues() {
    assertThat(Rounds.median(List.of(10.0, 1.0, 4.0, 2.0))).isEqualTo(3.0);
    assertThat(Rounds.median(List.of(2.0, 6.0))).isEqualTo(4.0);
  }

  @Test
  void theMedianOfNothingIsRefused() {
    assertThatThrownBy(() -> Rounds.median(List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theSpreadIsTheLargestDistanceOfARoundFromTheMedian() {
    Rounds.Spread s = Rounds.spread(List.of(40.0, 50.0, 80.0));

    assertThat(s.median()).isEqualTo(50.0);
    assertThat(s.min()).isEqualTo(40.0);
    assertThat(s.max()).isEqualTo(80.0);
    assertThat(s.count()).isEqualTo(3);
    assertThat(s.deviation()).isCloseTo(0.6, within(1e-12)); // 80 is 60% above 50
    assertThat(s.label()).isEqualTo("±60%");
    assertThat(Rounds.spread(List.of(30.0, 50.0, 55.0)).label()).isEqualTo("±40%");
    assertThat(Rounds.spread(List.of())).isNull();
    assertThat(Rounds.spread(List.of(0.0, 0.0)).label()).isEqualTo("±?");
  }

  @Test
  void combinesTheSameCellOfEveryRoundIntoOneRowOfMedians() {
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, remote(SystemId.DSTORE, 1, 100, 10)),
            in(1, remote(SystemId.REDIS, 1, 200, 20)),
            in(2, remote(SystemId.DSTORE, 1, 300, 30)),
            in(2, remote(SystemId.REDIS, 1, 100, 10)),
            in(3, remote(SystemId.DSTORE, 1, 200, 50)),
            in(3, remote(SystemId.REDIS, 1, 400, 40)));

    List<Rounds.Row> rows = Rounds.aggregate(cells);

    assertThat(rows).hasSize(2);
    Rounds.Row dstore = rows.get(0);
    assertThat(dstore.median().system()).isEqualTo(SystemId.DSTORE);
    assertThat(dstore.rounds()).isEqualTo(3);
    assertThat(dstore.median().opsPerSecond()).isEqualTo(200);
    assertThat(dstore.median().p99Micros()).isEqualTo(30);
    assertThat(dstore.median().p50Micros()).isEqualTo(7.5);
    assertThat(dstore.median().bytesPerSecond()).isEqualTo(20_000);
    assertThat(dstore.median().serverRssBytes()).isEqualTo(200_000L);
    assertThat(dstore.spread("ops_per_s")).isEqualTo(new Rounds.Spread(200, 100, 300, 3));
    assertThat(dstore.spread("p99_us").label()).isEqualTo("±67%");
    assertThat(dstore.spread("hit_ratio")).isNull(); // never measured
    assertThat(rows.get(1).median().system()).isEqualTo(SystemId.REDIS);
    assertThat(rows.get(1).median().opsPerSecond()).isEqualTo(200);
  }

  @Test
  void keepsCellsThatDifferInThreadsVariantOrLocalsApart() {
    Result thin =
        new Result(
            Scenario.REMOTE_GET,
            SystemId.DSTORE,
            1,
            100,
            null,
            999,
            1.0,
            2.0,
            3.0,
            null,
            null,
            null,
            "dstore-thin",
            Map.of());
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, remote(SystemId.DSTORE, 1, 100, 10)),
            in(1, remote(SystemId.DSTORE, 16, 1000, 10)),
            in(1, thin),
            in(2, remote(SystemId.DSTORE, 1, 300, 10)),
            in(2, remote(SystemId.DSTORE, 16, 3000, 10)),
            in(2, thin));

    List<Rounds.Row> rows = Rounds.aggregate(cells);

    assertThat(rows)
        .extracting(r -> r.median().label(), r -> r.median().threads(), r -> r.rounds())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("dstore", 1, 2),
            org.assertj.core.groups.Tuple.tuple("dstore", 16, 2),
            org.assertj.core.groups.Tuple.tuple("dstore-thin", 1, 2));
    assertThat(rows.get(0).median().opsPerSecond()).isEqualTo(200); // mean of the two
    assertThat(rows.get(1).median().opsPerSecond()).isEqualTo(2000);
  }

  @Test
  void neverMergesTwoCellsOfOneRoundThatShareTheirFigures() {
    Result a = remote(SystemId.DSTORE, 1, 100, 10);
    Result b = remote(SystemId.DSTORE, 1, 500, 10);
    List<Rounds.RoundResult> cells = List.of(in(1, a), in(1, b), in(2, a), in(2, b));

    List<Rounds.Row> rows = Rounds.aggregate(cells);

    assertThat(rows).hasSize(2);
    assertThat(rows.get(0).median().opsPerSecond()).isEqualTo(100);
    assertThat(rows.get(1).median().opsPerSecond()).isEqualTo(500);
  }

  @Test
  void aCellMissingFromARoundIsTheMedianOfTheRoundsThatMeasuredIt() {
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, remote(SystemId.REDIS, 1, 100, 10)),
            in(2, remote(SystemId.DSTORE, 1, 50, 10)),
            in(3, remote(SystemId.REDIS, 1, 300, 10)));

    List<Rounds.Row> rows = Rounds.aggregate(cells);

    assertThat(rows)
        .extracting(r -> r.median().system(), Rounds.Row::rounds)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(SystemId.REDIS, 2),
            org.assertj.core.groups.Tuple.tuple(SystemId.DSTORE, 1));
    assertThat(rows.get(0).median().opsPerSecond()).isEqualTo(200);
    assertThat(rows.get(1).spread("ops_per_s")).isNull(); // one round: no spread to show
    assertThat(Rounds.count(cells)).isEqualTo(3);
  }

  @Test
  void takesTheMedianOfNumericTableColumnsAndKeepsTheFirstOfOthers() {
    List<Rounds.RoundResult> cells = new ArrayList<>();
    String[] p99 = {"1,500", "812.5", "2,000"};
    for (int round = 1; round <= 3; round++) {
      Map<String, String> extras = new LinkedHashMap<>();
      extras.put("delete p99 us", p99[round - 1]);
      extras.put("note", "round " + round);
      extras.put("lag timeouts", Integer.toString(round));
      cells.add(
          in(
              round,
              new Result(
                  Scenario.INVALIDATE,
                  SystemId.DSTORE,
                  1,
                  100,
                  32,
                  10.0 * round,
                  1.0,
                  2.0,
                  3.0,
                  null,
                  null,
                  null,
                  null,
                  extras)));
    }

    Result median = Rounds.aggregate(cells).get(0).median();

    assertThat(median.extras())
        .containsEntry("delete p99 us", "1,500")
        .containsEntry("note", "round 1")
        .containsEntry("lag timeouts", "2");
    assertThat(median.locals()).isEqualTo(32);
  }

  @Test
  void leavesACellMeasuredOnceExactlyAsItWas() {
    Result r = remote(SystemId.HAZELCAST, 16, 123.456, 7);

    List<Rounds.Row> rows = Rounds.aggregate(Rounds.oneRound(List.of(r)));

    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).median()).isEqualTo(r);
    assertThat(rows.get(0).rounds()).isEqualTo(1);
  }

  @Test
  void takesTheMedianOfPerRoundRatiosNotTheRatioOfMedians() {
    // dstore 100, 300, 200 and redis 100, 600, 100: the per-round ratios are 1, 0.5, 2.
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, remote(SystemId.DSTORE, 16, 100, 1)),
            in(1, remote(SystemId.REDIS, 16, 100, 1)),
            in(2, remote(SystemId.DSTORE, 16, 300, 1)),
            in(2, remote(SystemId.REDIS, 16, 600, 1)),
            in(3, remote(SystemId.DSTORE, 16, 200, 1)),
            in(3, remote(SystemId.REDIS, 16, 100, 1)));
    Predicate<Result> dstore = r -> r.system() == SystemId.DSTORE;
    Predicate<Result> redis = r -> r.system() == SystemId.REDIS;

    Rounds.Spread ratio = Rounds.ratio(cells, dstore, redis, Result::opsPerSecond);

    assertThat(ratio.median()).isEqualTo(1.0); // the ratio of the medians would be 200/100 = 2
    assertThat(ratio.min()).isEqualTo(0.5);
    assertThat(ratio.max()).isEqualTo(2.0);
    assertThat(ratio.count()).isEqualTo(3);
  }

  @Test
  void aRatioUsesOnlyRoundsWhereBothSystemsWereMeasured() {
    List<Rounds.RoundResult> cells =
        List.of(
            in(1, remote(SystemId.DSTORE, 16, 100, 1)),
            in(2, remote(SystemId.DSTORE, 16, 300, 1)),
            in(2, remote(SystemId.REDIS, 16, 100, 1)),
            in(3, remote(SystemId.REDIS, 16, 100, 1)));
    Predicate<Result> dstore = r -> r.system() == SystemId.DSTORE;
    Predicate<Result> redis = r -> r.system() == SystemId.REDIS;
    Predicate<Result> hazelcast = r -> r.system() == SystemId.HAZELCAST;

    Rounds.Spread ratio = Rounds.ratio(cells, dstore, redis, Result::opsPerSecond);

    assertThat(ratio.count()).isEqualTo(1);
    assertThat(ratio.median()).isEqualTo(3.0);
    assertThat(Rounds.ratio(cells, dstore, hazelcast, Result::opsPerSecond)).isNull();
  }

  @Test
  void refusesARoundBelowOne() {
    assertThatThrownBy(() -> in(0, remote(SystemId.DSTORE, 1, 1, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("round");
  }
}
