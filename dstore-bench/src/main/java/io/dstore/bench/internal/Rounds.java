package io.dstore.bench.internal;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * Combines the cells of several rounds into one row per cell: the median of each figure across the
 * rounds, and how far the rounds lay apart. Stateless; thread-safe.
 *
 * <p>Design note: a cell's identity is (scenario, system, variant, threads, value size, locals, and
 * for {@code cluster} rows their measure and gateways) plus its occurrence within its round, so
 * that two cells that share those figures in one round are never merged with each other, only with
 * their counterparts of the other rounds. Rows keep the order in which their identities first
 * appear. A figure's median is taken over the rounds that measured it (a round in which a system
 * failed has no cell for it); with an even count it is the mean of the two middle values. Ratios
 * between systems are computed per round and their median taken ({@link #ratio}): on a noisy
 * machine both systems of one round share that round's conditions, so the median of per-round
 * ratios is fairer than a ratio of medians taken from different rounds.
 */
public final class Rounds {
  /** The figures that get a median and a spread, by their JSON field names. */
  static final Map<String, Function<Result, Double>> FIGURES = figures();

  private Rounds() {}

  private static Map<String, Function<Result, Double>> figures() {
    Map<String, Function<Result, Double>> m = new LinkedHashMap<>();
    m.put("ops_per_s", Result::opsPerSecond);
    m.put("p50_us", Result::p50Micros);
    m.put("p99_us", Result::p99Micros);
    m.put("p999_us", Result::p999Micros);
    m.put("hit_ratio", Result::hitRatio);
    m.put("bytes_per_s", Result::bytesPerSecond);
    m.put("server_rss_bytes", r -> r.serverRssBytes() == null ? null : (double) r.serverRssBytes());
    return Collections.unmodifiableMap(m);
  }

  /**
   * One cell measured in one round.
   *
   * @param round the round, from 1
   * @param result what the cell measured
   */
  public record RoundResult(int round, Result result) {
    public RoundResult {
      if (round < 1) {
        throw new IllegalArgumentException("round must be >= 1, got " + round);
      }
      requireNonNull(result, "result");
    }
  }

  /**
   * The rounds of one figure: their median, smallest and largest value, and how many there were.
   */
  public record Spread(double median, double min, double max, int count) {
    /**
     * The largest distance of a round from the median, as a fraction of the median: every round lay
     * within median × (1 ± this). NaN when the median is 0.
     */
    public double deviation() {
      if (median == 0) {
        return Double.NaN;
      }
      return Math.max(max - median, median - min) / Math.abs(median);
    }

    /** {@code ±18%}, or {@code ±?} when the median is 0. */
    public String label() {
      double d = deviation();
      return Double.isNaN(d) ? "±?" : String.format(Locale.ROOT, "±%.0f%%", 100 * d);
    }
  }

  /**
   * One row of the aggregated table.
   *
   * @param median the cell with each figure replaced by its median across rounds (for a cell
   *     measured once: that cell as it was)
   * @param rounds how many rounds measured this cell
   * @param spreads per figure (JSON field name, see {@link #FIGURES}) measured in at least one
   *     round: its median, min and max
   */
  public record Row(Result median, int rounds, Map<String, Spread> spreads) {
    public Row {
      requireNonNull(median, "median");
      spreads = Collections.unmodifiableMap(new LinkedHashMap<>(spreads));
    }

    /** The spread of {@code field} when more than one round measured it, else null. */
    public Spread spread(String field) {
      Spread s = spreads.get(field);
      return s != null && s.count() > 1 ? s : null;
    }
  }

  /** The number of rounds among {@code cells}: the highest round number, 0 when there are none. */
  public static int count(List<RoundResult> cells) {
    return cells.stream().mapToInt(RoundResult::round).max().orElse(0);
  }

  /** The results of {@code cells}, without their round numbers. */
  public static List<Result> results(List<RoundResult> cells) {
    return cells.stream().map(RoundResult::result).toList();
  }

  /** The cells all of round 1 (a run of one round, or results read from an old file). */
  public static List<RoundResult> oneRound(List<Result> results) {
    return results.stream().map(r -> new RoundResult(1, r)).toList();
  }

  /** One row per cell identity, in first-appearance order; see the class comment. */
  public static List<Row> aggregate(List<RoundResult> cells) {
    Map<List<Object>, List<Result>> groups = new LinkedHashMap<>();
    Map<List<Object>, Integer> seen = new HashMap<>(); // identity + round -> occurrences so far
    for (RoundResult c : cells) {
      List<Object> id = identity(c.result());
      List<Object> inRound = new ArrayList<>(id);
      inRound.add(c.round());
      int occurrence = seen.merge(inRound, 1, Integer::sum);
      List<Object> key = new ArrayList<>(id);
      key.add(occurrence);
      groups.computeIfAbsent(key, k -> new ArrayList<>()).add(c.result());
    }
    List<Row> rows = new ArrayList<>(groups.size());
    for (List<Result> group : groups.values()) {
      rows.add(row(group));
    }
    return rows;
  }

  /** The median results of {@code rows}. */
  public static List<Result> medians(List<Row> rows) {
    return rows.stream().map(Row::median).toList();
  }

  private static List<Object> identity(Result r) {
    return java.util.Arrays.asList(
        r.scenario(),
        r.system(),
        r.variant(),
        r.threads(),
        r.valueSize(),
        r.locals(),
        r.cluster().get("measure"),
        r.cluster().get("gateways"));
  }

  private static Row row(List<Result> group) {
    Map<String, Spread> spreads = new LinkedHashMap<>();
    for (Map.Entry<String, Function<Result, Double>> f : FIGURES.entrySet()) {
      Spread s = spread(group.stream().map(f.getValue()).filter(Objects::nonNull).toList());
      if (s != null) {
        spreads.put(f.getKey(), s);
      }
    }
    Result first = group.get(0);
    if (group.size() == 1) {
      return new Row(first, 1, spreads);
    }
    Result median =
        new Result(
            first.scenario(),
            first.system(),
            first.threads(),
            first.valueSize(),
            first.locals(),
            spreads.containsKey("ops_per_s") ? spreads.get("ops_per_s").median() : Double.NaN,
            medianOf(spreads, "p50_us"),
            medianOf(spreads, "p99_us"),
            medianOf(spreads, "p999_us"),
            medianOf(spreads, "hit_ratio"),
            medianOf(spreads, "bytes_per_s"),
            spreads.containsKey("server_rss_bytes")
                ? Math.round(spreads.get("server_rss_bytes").median())
                : null,
            first.variant(),
            extras(group),
            first.cluster());
    return new Row(median, group.size(), spreads);
  }

  private static Double medianOf(Map<String, Spread> spreads, String field) {
    Spread s = spreads.get(field);
    return s == null ? null : s.median();
  }

  /**
   * The table-only columns: where every round's value of a column is a number (as the tables format
   * them, with thousands separators), their median formatted the same way; otherwise the first
   * round's value.
   */
  private static Map<String, String> extras(List<Result> group) {
    Map<String, List<String>> values = new TreeMap<>();
    for (Result r : group) {
      r.extras().forEach((k, v) -> values.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
    }
    Map<String, String> out = new TreeMap<>();
    values.forEach(
        (name, texts) -> {
          List<Double> numbers = new ArrayList<>();
          boolean integral = true;
          for (String t : texts) {
            try {
              numbers.add(Double.parseDouble(t.replace(",", "")));
              integral &= !t.contains(".");
            } catch (NumberFormatException e) {
              numbers = null;
              break;
            }
          }
          if (numbers == null) {
            out.put(name, texts.get(0));
          } else {
            double m = median(numbers);
            out.put(
                name,
                integral && m == Math.rint(m)
                    ? String.format(Locale.ROOT, "%,.0f", m)
                    : ResultTable.micros(m));
          }
        });
    return out;
  }

  /**
   * The median of {@code values}: the middle one of an odd count, the mean of the two middle ones
   * of an even count.
   *
   * @throws IllegalArgumentException if {@code values} is empty
   */
  static double median(Collection<Double> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("no values");
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** The spread of {@code values}, or null when there are none. */
  static Spread spread(List<Double> values) {
    if (values.isEmpty()) {
      return null;
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return new Spread(median(values), min, max, values.size());
  }

  /**
   * The ratio {@code metric(a) / metric(b)} in each round where both cells exist (the first match
   * of each predicate in that round) and {@code b}'s figure is positive, combined into its median
   * and spread; null when no round has both.
   */
  static Spread ratio(
      List<RoundResult> cells,
      Predicate<Result> a,
      Predicate<Result> b,
      ToDoubleFunction<Result> metric) {
    Map<Integer, Result> as = new TreeMap<>();
    Map<Integer, Result> bs = new TreeMap<>();
    for (RoundResult c : cells) {
      if (a.test(c.result())) {
        as.putIfAbsent(c.round(), c.result());
      }
      if (b.test(c.result())) {
        bs.putIfAbsent(c.round(), c.result());
      }
    }
    List<Double> ratios = new ArrayList<>();
    for (Map.Entry<Integer, Result> e : as.entrySet()) {
      Result other = bs.get(e.getKey());
      if (other == null) {
        continue;
      }
      double x = metric.applyAsDouble(e.getValue());
      double y = metric.applyAsDouble(other);
      if (y > 0 && !Double.isNaN(x) && !Double.isInfinite(x / y)) {
        ratios.add(x / y);
      }
    }
    return spread(ratios);
  }
}
