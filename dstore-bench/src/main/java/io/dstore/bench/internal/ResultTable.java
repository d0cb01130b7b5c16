package io.dstore.bench.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * Renders aggregated results ({@link Rounds.Row}: medians across rounds, with their spread) as
 * plain-text tables (one per scenario) and as Markdown tables (for docs/benchmarks.md), and checks
 * the rounds against the project's performance targets. With one round the tables show plain
 * figures; with several, ops/s and p99 carry their spread ({@code ±18%}), explained in {@link
 * #footer}. Stateless.
 */
public final class ResultTable {
  private ResultTable() {}

  private record Column(String name, Function<Rounds.Row, String> value) {
    /** A column of a figure of the median result. */
    static Column of(String name, Function<Result, String> value) {
      return new Column(name, row -> value.apply(row.median()));
    }

    /** A column of a figure with its spread beside it, when more than one round measured it. */
    static Column spread(String name, String field, Function<Result, String> value) {
      return new Column(
          name,
          row -> {
            String v = value.apply(row.median());
            Rounds.Spread s = row.spread(field);
            return s == null || v.equals("-") ? v : v + " " + s.label();
          });
    }
  }

  private static List<Column> columns(Scenario s, List<Rounds.Row> rows, int rounds) {
    List<Column> cols = new ArrayList<>();
    if (s == Scenario.CLUSTER) {
      cols.add(Column.of("measure", r -> figure(r, "measure")));
    }
    cols.add(Column.of("system", Result::label));
    if (s == Scenario.CLUSTER) {
      cols.add(Column.of("gateways", r -> figure(r, "gateways")));
      cols.add(Column.of("locals", r -> r.locals() == null ? "-" : r.locals().toString()));
    }
    cols.add(Column.of("threads", r -> Integer.toString(r.threads())));
    cols.add(Column.of("value", r -> size(r.valueSize())));
    if (s == Scenario.INVALIDATE) {
      cols.add(Column.of("locals", r -> r.locals() == null ? "-" : r.locals().toString()));
      cols.add(Column.spread("deletes/s", "ops_per_s", r -> number(r.opsPerSecond())));
      cols.add(Column.of("lag p50 us", r -> micros(r.p50Micros())));
      cols.add(Column.spread("lag p99 us", "p99_us", r -> micros(r.p99Micros())));
      cols.add(Column.of("lag p999 us", r -> micros(r.p999Micros())));
    } else {
      cols.add(Column.spread("ops/s", "ops_per_s", r -> number(r.opsPerSecond())));
      cols.add(Column.of("p50 us", r -> micros(r.p50Micros())));
      cols.add(Column.spread("p99 us", "p99_us", r -> micros(r.p99Micros())));
      cols.add(Column.of("p999 us", r -> micros(r.p999Micros())));
    }
    if (s == Scenario.LOCAL_HIT || s == Scenario.MIXED) {
      cols.add(
          Column.of(
              "hit %",
              r ->
                  r.hitRatio() == null
                      ? "-"
                      : String.format(Locale.ROOT, "%.1f", 100 * r.hitRatio())));
    }
    if (s == Scenario.REMOTE_GET
        || s == Scenario.PUT
        || s == Scenario.LARGE
        || s == Scenario.CLUSTER) {
      cols.add(
          Column.of(
              s == Scenario.LARGE ? "GiB/s" : "MiB/s",
              r -> {
                if (r.bytesPerSecond() == null) {
                  return "-";
                }
                double unit = s == Scenario.LARGE ? (1L << 30) : (1L << 20);
                return String.format(Locale.ROOT, "%.2f", r.bytesPerSecond() / unit);
              }));
    }
    cols.add(
        Column.of(
            "server RSS MiB",
            r -> r.serverRssBytes() == null ? "-" : Long.toString(r.serverRssBytes() >> 20)));
    Set<String> extras = new LinkedHashSet<>();
    rows.forEach(r -> extras.addAll(r.median().extras().keySet()));
    for (String e : extras) {
      cols.add(Column.of(e, r -> r.extras().getOrDefault(e, "-")));
    }
    if (rows.stream().anyMatch(r -> r.rounds() < rounds)) {
      // A system failed in some round: say how many rounds each median is of.
      cols.add(new Column("rounds", r -> Integer.toString(r.rounds())));
    }
    return cols;
  }

  /** The most rounds any row was measured in. */
  private static int rounds(List<Rounds.Row> rows) {
    return rows.stream().mapToInt(Rounds.Row::rounds).max().orElse(0);
  }

  /**
   * Plain-text tables of aggregated rows, one per scenario present, in scenario order, followed by
   * {@link #footer} when any row has more than one round.
   */
  public static String render(List<Rounds.Row> results) {
    int rounds = rounds(results);
    StringBuilder out = new StringBuilder();
    for (Scenario s : Scenario.values()) {
      List<Rounds.Row> rows = results.stream().filter(r -> r.median().scenario() == s).toList();
      if (rows.isEmpty()) {
        continue;
      }
      out.append("\n== ").append(s.id()).append(": ").append(s.description()).append('\n');
      List<Column> cols = columns(s, rows, rounds);
      int[] widths = new int[cols.size()];
      List<String[]> cells = new ArrayList<>();
      String[] header = cols.stream().map(Column::name).toArray(String[]::new);
      cells.add(header);
      for (Rounds.Row r : rows) {
        cells.add(cols.stream().map(c -> c.value().apply(r)).toArray(String[]::new));
      }
      for (String[] line : cells) {
        for (int i = 0; i < line.length; i++) {
          widths[i] = Math.max(widths[i], line[i].length());
        }
      }
      for (int l = 0; l < cells.size(); l++) {
        String[] line = cells.get(l);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < line.length; i++) {
          String fmt = i == 0 ? "%-" + widths[i] + "s" : "  %" + widths[i] + "s";
          sb.append(String.format(Locale.ROOT, fmt, line[i]));
        }
        out.append(sb.toString().stripTrailing()).append('\n');
        if (l == 0) {
          out.append("-".repeat(sb.toString().stripTrailing().length())).append('\n');
        }
      }
    }
    if (rounds > 1) {
      out.append('\n').append(footer(rounds)).append('\n');
    }
    return out.toString();
  }

  /** Markdown tables of aggregated rows, one per scenario present, for the documentation. */
  public static String markdown(List<Rounds.Row> results) {
    int rounds = rounds(results);
    StringBuilder out = new StringBuilder();
    for (Scenario s : Scenario.values()) {
      List<Rounds.Row> rows = results.stream().filter(r -> r.median().scenario() == s).toList();
      if (rows.isEmpty()) {
        continue;
      }
      out.append("\n#### ").append(s.id()).append("\n\n");
      List<Column> cols = columns(s, rows, rounds);
      out.append("| ")
          .append(String.join(" | ", cols.stream().map(Column::name).toList()))
          .append(" |\n|");
      out.append(" --- |".repeat(cols.size())).append('\n');
      for (Rounds.Row r : rows) {
        out.append("| ")
            .append(String.join(" | ", cols.stream().map(c -> c.value().apply(r)).toList()))
            .append(" |\n");
      }
    }
    if (rounds > 1) {
      out.append('\n').append(footer(rounds)).append('\n');
    }
    return out.toString();
  }

  /** What the figures of a run of {@code rounds} rounds are, printed under its tables. */
  public static String footer(int rounds) {
    return "Figures are medians of "
        + rounds
        + " rounds; in each round every system ran its cells back to back, so systems\n"
        + "alternate. ±N% beside ops/s and p99: every round lay within N% of the median (the"
        + " largest\ndistance of a round from it). Other columns are medians without their"
        + " spread; target ratios\nare medians of the per-round ratios.";
  }

  /**
   * The project's performance targets (issue 14), each with the ratio measured in this run and
   * whether it is met. Ratios are computed within each round and their median shown (with their
   * spread when there are several rounds). A target whose rows are missing (scenario not run, peer
   * skipped, or a table-only variant read back from JSON) is left out.
   */
  public static List<String> targets(List<Rounds.RoundResult> cells) {
    List<String> lines = new ArrayList<>();
    // 1. The remote path: a subscribed Local against Redis, and its miss against the thin client.
    for (Scenario s : List.of(Scenario.REMOTE_GET, Scenario.PUT)) {
      for (int size : RemoteScenario.VALUE_SIZES) {
        for (int threads : RemoteScenario.THREADS) {
          ratio(
              lines,
              s.id() + ", " + size(size) + ", " + threads + " thr: dstore / redis",
              cells,
              main(s, SystemId.DSTORE, threads, (long) size),
              main(s, SystemId.REDIS, threads, (long) size),
              1.0);
        }
      }
    }
    for (int size : RemoteScenario.VALUE_SIZES) {
      for (int threads : RemoteScenario.THREADS) {
        ratio(
            lines,
            "remote-get, " + size(size) + ", " + threads + " thr: Local's miss / thin client",
            cells,
            main(Scenario.REMOTE_GET, SystemId.DSTORE, threads, (long) size),
            variant(Scenario.REMOTE_GET, RemoteScenario.THIN, threads, size),
            0.95);
      }
    }
    // 2. The mixed workload.
    ratio(
        lines,
        "mixed, " + MixedScenario.THREADS + " thr: dstore / redis",
        cells,
        main(Scenario.MIXED, SystemId.DSTORE, MixedScenario.THREADS, null),
        main(Scenario.MIXED, SystemId.REDIS, MixedScenario.THREADS, null),
        1.0);
    // 3. The local hit, like with like: cached bytes without a copy, then with one.
    for (int threads : LocalHitScenario.THREADS) {
      Predicate<Result> dstore = main(Scenario.LOCAL_HIT, SystemId.DSTORE, threads, null);
      String hit = "local-hit, " + threads + " thr: ";
      ratio(
          lines,
          hit + "dstore getBuffer / caffeine",
          cells,
          dstore,
          main(Scenario.LOCAL_HIT, SystemId.CAFFEINE, threads, null),
          0.5);
      ratio(
          lines,
          hit + "dstore getBuffer / redis client-side cache",
          cells,
          dstore,
          main(Scenario.LOCAL_HIT, SystemId.REDIS, threads, null),
          1.0);
      ratio(
          lines,
          hit + "dstore getBuffer / hazelcast near cache",
          cells,
          dstore,
          main(Scenario.LOCAL_HIT, SystemId.HAZELCAST, threads, null),
          3.0);
      Predicate<Result> dstoreCopy =
          variant(Scenario.LOCAL_HIT, LocalHitScenario.copy(SystemId.DSTORE), threads, null);
      ratio(
          lines,
          hit + "dstore get / caffeine + copy",
          cells,
          dstoreCopy,
          variant(Scenario.LOCAL_HIT, LocalHitScenario.copy(SystemId.CAFFEINE), threads, null),
          0.5);
      ratio(
          lines,
          hit + "dstore get / redis client-side cache + copy",
          cells,
          dstoreCopy,
          variant(Scenario.LOCAL_HIT, LocalHitScenario.copy(SystemId.REDIS), threads, null),
          1.0);
    }
    // 4. Large values: GiB/s of dstore's get against Redis's (each at its own largest size).
    ratio(
        lines,
        "large: dstore get / redis get (GiB/s)",
        cells,
        main(Scenario.LARGE, SystemId.DSTORE, 1, null),
        main(Scenario.LARGE, SystemId.REDIS, 1, null),
        r -> r.bytesPerSecond() == null ? Double.NaN : r.bytesPerSecond(),
        1.0);
    Rounds.Spread large =
        figure(
            cells,
            main(Scenario.LARGE, SystemId.DSTORE, 1, null),
            r -> r.bytesPerSecond() == null ? Double.NaN : r.bytesPerSecond() / (1L << 30));
    if (large != null) {
      double gib = large.median();
      lines.add(
          String.format(
              Locale.ROOT,
              "%-60s %12.2f GiB/s%s (aim >= 1)  %s",
              "large: dstore get",
              gib,
              large.count() > 1 ? " " + large.label() : "",
              gib >= 1.0 ? "MET" : "MISSED"));
    }
    // 5. A thousand Locals, and strict deletes against Hazelcast's lag.
    thousandTarget(lines, cells);
    invalidateTarget(lines, cells);
    return lines;
  }

  /** Issue 14's goal: a strict delete's p99 under 10 ms with 1,024 Locals subscribed. */
  private static void thousandTarget(List<String> lines, List<Rounds.RoundResult> cells) {
    Predicate<Result> dstore = locals(Scenario.INVALIDATE, SystemId.DSTORE, 1024);
    boolean deleteP99 = hasDeleteP99(cells, dstore);
    Rounds.Spread p99 = figure(cells, dstore, p99(deleteP99));
    if (p99 == null) {
      return;
    }
    lines.add(
        String.format(
            Locale.ROOT,
            "%-60s %12.1f ms%s (target < 10 ms)  %s",
            "invalidate, 1024 locals: dstore " + (deleteP99 ? "delete p99" : "lag p99"),
            p99.median() / 1000,
            p99.count() > 1 ? " " + p99.label() : "",
            p99.median() < 10_000 ? "MET" : "MISSED"));
  }

  private static void invalidateTarget(List<String> lines, List<Rounds.RoundResult> cells) {
    Predicate<Result> dstore = locals(Scenario.INVALIDATE, SystemId.DSTORE, 32);
    Predicate<Result> hazelcast = locals(Scenario.INVALIDATE, SystemId.HAZELCAST, 32);
    boolean deleteP99 = hasDeleteP99(cells, dstore);
    ToDoubleFunction<Result> p99 = p99(deleteP99);
    Rounds.Spread ratio = Rounds.ratio(cells, dstore, hazelcast, p99);
    if (ratio == null) {
      return;
    }
    Rounds.Spread ours = figure(cells, dstore, p99);
    Rounds.Spread theirs = figure(cells, hazelcast, p99);
    String what = deleteP99 ? "dstore delete p99" : "dstore lag p99 (delete p99 not in the JSON)";
    lines.add(
        String.format(
            Locale.ROOT,
            "%-60s %12.1f us vs %.1f us, ratio %.3gx%s  (target: below)  %s",
            "invalidate, 32 locals: " + what + " vs hazelcast lag p99",
            ours == null ? Double.NaN : ours.median(),
            theirs == null ? Double.NaN : theirs.median(),
            ratio.median(),
            ratio.count() > 1 ? " " + ratio.label() : "",
            ratio.median() < 1 ? "MET" : "MISSED"));
  }

  /**
   * Whether {@code which} rows carry the delete call's p99, a table-only column. Read back from
   * JSON they keep the lag only; in strict mode the lag is within the delete call.
   */
  private static boolean hasDeleteP99(List<Rounds.RoundResult> cells, Predicate<Result> which) {
    return cells.stream()
        .map(Rounds.RoundResult::result)
        .filter(which)
        .anyMatch(r -> deleteP99(r) != null);
  }

  /** dstore's delete p99 when {@code deleteP99}, else the lag p99 (every peer's); NaN if absent. */
  private static ToDoubleFunction<Result> p99(boolean deleteP99) {
    return r -> {
      Double v = r.system() == SystemId.DSTORE && deleteP99 ? deleteP99(r) : r.p99Micros();
      return v == null ? Double.NaN : v;
    };
  }

  private static Double deleteP99(Result r) {
    String p99 = r.extras().get("delete p99 us");
    return p99 == null || p99.equals("-") ? null : Double.parseDouble(p99.replace(",", ""));
  }

  private static Rounds.Spread figure(
      List<Rounds.RoundResult> cells, Predicate<Result> which, ToDoubleFunction<Result> metric) {
    return Rounds.spread(
        cells.stream()
            .map(Rounds.RoundResult::result)
            .filter(which)
            .map(metric::applyAsDouble)
            .filter(v -> !Double.isNaN(v))
            .toList());
  }

  private static void ratio(
      List<String> lines,
      String what,
      List<Rounds.RoundResult> cells,
      Predicate<Result> a,
      Predicate<Result> b,
      double target) {
    ratio(lines, what, cells, a, b, Result::opsPerSecond, target);
  }

  private static void ratio(
      List<String> lines,
      String what,
      List<Rounds.RoundResult> cells,
      Predicate<Result> a,
      Predicate<Result> b,
      ToDoubleFunction<Result> metric,
      double target) {
    Rounds.Spread r = Rounds.ratio(cells, a, b, metric);
    if (r == null) {
      return;
    }
    lines.add(
        String.format(
            Locale.ROOT,
            "%-60s %12.2fx%s (target >= %sx)  %s",
            what,
            r.median(),
            r.count() > 1 ? " " + r.label() : "",
            BigDecimal.valueOf(target)
                .setScale(Math.max(1, BigDecimal.valueOf(target).stripTrailingZeros().scale()))
                .toPlainString(),
            r.median() >= target ? "MET" : "MISSED"));
  }

  /** The main configuration's cell of {@code system} in {@code s} (any value size if null). */
  private static Predicate<Result> main(Scenario s, SystemId system, int threads, Long size) {
    return r ->
        r.scenario() == s
            && r.system() == system
            && r.inJson()
            && r.threads() == threads
            && (size == null || r.valueSize() == size);
  }

  /** A table-only variant's cell, by its label (any value size if null). */
  private static Predicate<Result> variant(Scenario s, String label, int threads, Integer size) {
    return r ->
        r.scenario() == s
            && label.equals(r.variant())
            && r.threads() == threads
            && (size == null || r.valueSize() == size);
  }

  private static Predicate<Result> locals(Scenario s, SystemId system, int locals) {
    return r ->
        r.scenario() == s
            && r.system() == system
            && r.inJson()
            && r.locals() != null
            && r.locals() == locals;
  }

  static String size(long bytes) {
    if (bytes >= (1L << 20) && bytes % (1L << 20) == 0) {
      return (bytes >> 20) + " MiB";
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
      return (bytes >> 10) + " KiB";
    }
    return bytes + " B";
  }

  /** A cluster figure as text, "-" when absent or null. */
  private static String figure(Result r, String name) {
    Object v = r.cluster().get(name);
    return v == null ? "-" : v.toString();
  }

  private static String number(double v) {
    if (v >= 100) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  /** Microseconds as the tables show them: thousands separators from 100 up, else 2 decimals. */
  static String micros(Double v) {
    if (v == null) {
      return "-";
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
