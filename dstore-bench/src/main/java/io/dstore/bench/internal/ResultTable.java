package io.dstore.bench.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Renders results as plain-text tables (one per scenario) and as Markdown tables (for
 * docs/benchmarks.md), and checks them against the project's performance targets. Stateless.
 */
public final class ResultTable {
  private ResultTable() {}

  private record Column(String name, Function<Result, String> value) {}

  private static List<Column> columns(Scenario s, List<Result> rows) {
    List<Column> cols = new ArrayList<>();
    if (s == Scenario.CLUSTER) {
      cols.add(new Column("measure", r -> figure(r, "measure")));
    }
    cols.add(new Column("system", Result::label));
    if (s == Scenario.CLUSTER) {
      cols.add(new Column("gateways", r -> figure(r, "gateways")));
      cols.add(new Column("locals", r -> r.locals() == null ? "-" : r.locals().toString()));
    }
    cols.add(new Column("threads", r -> Integer.toString(r.threads())));
    cols.add(new Column("value", r -> size(r.valueSize())));
    if (s == Scenario.INVALIDATE) {
      cols.add(new Column("locals", r -> r.locals() == null ? "-" : r.locals().toString()));
      cols.add(new Column("deletes/s", r -> number(r.opsPerSecond())));
      cols.add(new Column("lag p50 us", r -> micros(r.p50Micros())));
      cols.add(new Column("lag p99 us", r -> micros(r.p99Micros())));
      cols.add(new Column("lag p999 us", r -> micros(r.p999Micros())));
    } else {
      cols.add(new Column("ops/s", r -> number(r.opsPerSecond())));
      cols.add(new Column("p50 us", r -> micros(r.p50Micros())));
      cols.add(new Column("p99 us", r -> micros(r.p99Micros())));
      cols.add(new Column("p999 us", r -> micros(r.p999Micros())));
    }
    if (s == Scenario.LOCAL_HIT || s == Scenario.MIXED) {
      cols.add(
          new Column(
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
          new Column(
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
        new Column(
            "server RSS MiB",
            r -> r.serverRssBytes() == null ? "-" : Long.toString(r.serverRssBytes() >> 20)));
    Set<String> extras = new LinkedHashSet<>();
    rows.forEach(r -> extras.addAll(r.extras().keySet()));
    for (String e : extras) {
      cols.add(new Column(e, r -> r.extras().getOrDefault(e, "-")));
    }
    return cols;
  }

  /** Plain-text tables, one per scenario present, in scenario order. */
  public static String render(List<Result> results) {
    StringBuilder out = new StringBuilder();
    for (Scenario s : Scenario.values()) {
      List<Result> rows = results.stream().filter(r -> r.scenario() == s).toList();
      if (rows.isEmpty()) {
        continue;
      }
      out.append("\n== ").append(s.id()).append(": ").append(s.description()).append('\n');
      List<Column> cols = columns(s, rows);
      int[] widths = new int[cols.size()];
      List<String[]> cells = new ArrayList<>();
      String[] header = cols.stream().map(Column::name).toArray(String[]::new);
      cells.add(header);
      for (Result r : rows) {
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
    return out.toString();
  }

  /** Markdown tables, one per scenario present, for the documentation. */
  public static String markdown(List<Result> results) {
    StringBuilder out = new StringBuilder();
    for (Scenario s : Scenario.values()) {
      List<Result> rows = results.stream().filter(r -> r.scenario() == s).toList();
      if (rows.isEmpty()) {
        continue;
      }
      out.append("\n#### ").append(s.id()).append("\n\n");
      List<Column> cols = columns(s, rows);
      out.append("| ")
          .append(String.join(" | ", cols.stream().map(Column::name).toList()))
          .append(" |\n|");
      out.append(" --- |".repeat(cols.size())).append('\n');
      for (Result r : rows) {
        out.append("| ")
            .append(String.join(" | ", cols.stream().map(c -> c.value().apply(r)).toList()))
            .append(" |\n");
      }
    }
    return out.toString();
  }

  /**
   * The project's targets, each with the ratio measured in this run and whether it is met. A target
   * whose rows are missing (scenario not run, peer skipped) is left out.
   */
  public static List<String> targets(List<Result> results) {
    List<String> lines = new ArrayList<>();
    for (int threads : LocalHitScenario.THREADS) {
      Double dstore = ops(results, Scenario.LOCAL_HIT, SystemId.DSTORE, threads, null);
      ratio(
          lines,
          "local-hit, " + threads + " thr: dstore / caffeine",
          dstore,
          ops(results, Scenario.LOCAL_HIT, SystemId.CAFFEINE, threads, null),
          0.5);
      ratio(
          lines,
          "local-hit, " + threads + " thr: dstore / hazelcast near cache",
          dstore,
          ops(results, Scenario.LOCAL_HIT, SystemId.HAZELCAST, threads, null),
          3.0);
      ratio(
          lines,
          "local-hit, " + threads + " thr: dstore / redis client-side cache",
          dstore,
          ops(results, Scenario.LOCAL_HIT, SystemId.REDIS, threads, null),
          3.0);
    }
    for (Scenario s : List.of(Scenario.REMOTE_GET, Scenario.PUT)) {
      ratio(
          lines,
          s.id() + ", 100 B, 16 thr: dstore / redis",
          ops(results, s, SystemId.DSTORE, 16, 100L),
          ops(results, s, SystemId.REDIS, 16, 100L),
          1.0);
    }
    Result dstoreInv = find(results, Scenario.INVALIDATE, SystemId.DSTORE, 32);
    Result hzInv = find(results, Scenario.INVALIDATE, SystemId.HAZELCAST, 32);
    if (dstoreInv != null && hzInv != null && hzInv.p99Micros() != null) {
      String p99 = dstoreInv.extras().get("delete p99 us");
      double dstoreP99;
      String what;
      if (p99 != null && !p99.equals("-")) {
        dstoreP99 = Double.parseDouble(p99.replace(",", ""));
        what = "dstore delete p99";
      } else {
        // Read back from JSON, which keeps the lag only; in strict mode the lag is within the
        // delete.
        dstoreP99 = dstoreInv.p99Micros() == null ? Double.NaN : dstoreInv.p99Micros();
        what = "dstore lag p99 (delete p99 not in the JSON)";
      }
      lines.add(
          String.format(
              Locale.ROOT,
              "%-58s %12.1f us vs %.1f us  (target: below)  %s",
              "invalidate, 32 locals: " + what + " vs hazelcast lag p99",
              dstoreP99,
              hzInv.p99Micros(),
              dstoreP99 < hzInv.p99Micros() ? "MET" : "MISSED"));
    }
    Result large =
        results.stream()
            .filter(
                r -> r.scenario() == Scenario.LARGE && r.system() == SystemId.DSTORE && r.inJson())
            .findFirst()
            .orElse(null);
    if (large != null && large.bytesPerSecond() != null) {
      double gib = large.bytesPerSecond() / (1L << 30);
      lines.add(
          String.format(
              Locale.ROOT,
              "%-58s %12.2f GiB/s (target >= 1)  %s",
              "large: dstore get",
              gib,
              gib >= 1.0 ? "MET" : "MISSED"));
    }
    return lines;
  }

  private static void ratio(List<String> lines, String what, Double a, Double b, double target) {
    if (a == null || b == null || b == 0) {
      return;
    }
    double r = a / b;
    lines.add(
        String.format(
            Locale.ROOT,
            "%-58s %12.2fx (target >= %.1fx)  %s",
            what,
            r,
            target,
            r >= target ? "MET" : "MISSED"));
  }

  private static Double ops(
      List<Result> results, Scenario s, SystemId system, int threads, Long size) {
    return results.stream()
        .filter(
            r ->
                r.scenario() == s
                    && r.system() == system
                    && r.inJson()
                    && r.threads() == threads
                    && (size == null || r.valueSize() == size))
        .map(Result::opsPerSecond)
        .findFirst()
        .orElse(null);
  }

  private static Result find(List<Result> results, Scenario s, SystemId system, int locals) {
    return results.stream()
        .filter(
            r ->
                r.scenario() == s
                    && r.system() == system
                    && r.inJson()
                    && r.locals() != null
                    && r.locals() == locals)
        .findFirst()
        .orElse(null);
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
