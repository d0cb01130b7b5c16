package io.dstore.bench.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.ChartEncoder;
import org.knowm.xchart.style.Styler;

/**
 * Renders one PNG bar chart per scenario ({@code bench-<scenario>.png}): a bar per system and
 * parameter set, of ops/s (GiB/s for {@code large}, invalidation lag p99 for {@code invalidate}).
 * The y axis is logarithmic when the values span more than a factor of 30. Runs headless.
 *
 * <p>Bars are the medians across rounds. When there were several rounds and the axis is linear,
 * each bar carries an error bar of its spread: ± the largest distance of a round from the median
 * (the {@code ±N%} of the table). XChart's error bars are symmetric and cannot be drawn on a log
 * axis or beside a missing bar, so those charts have none.
 */
public final class Charts {
  private static final int WIDTH = 900;
  private static final int HEIGHT = 520;

  private Charts() {}

  /** Writes the charts into {@code dir} (created if missing) and returns the files written. */
  public static List<Path> render(List<Rounds.Row> results, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    for (Scenario s : Scenario.values()) {
      List<Rounds.Row> rows = results.stream().filter(r -> r.median().scenario() == s).toList();
      if (rows.isEmpty() || s == Scenario.CLUSTER) { // cluster: ratios in the table, no chart
        continue;
      }
      CategoryChart chart = chart(s, rows);
      Path file = dir.resolve("bench-" + s.id() + ".png");
      try (OutputStream out = Files.newOutputStream(file)) {
        ChartEncoder.saveChart(chart, out, "png");
      }
      written.add(file);
    }
    return written;
  }

  private static CategoryChart chart(Scenario s, List<Rounds.Row> rows) {
    String yTitle;
    ToDoubleFunction<Result> metric;
    String field; // the JSON field the metric is, for its spread
    double unit;
    switch (s) {
      case LARGE -> {
        yTitle = "get GiB/s";
        metric = r -> r.bytesPerSecond() == null ? Double.NaN : r.bytesPerSecond() / (1L << 30);
        field = "bytes_per_s";
        unit = 1L << 30;
      }
      case INVALIDATE -> {
        yTitle = "invalidation lag p99 (us), lower is better";
        metric = r -> r.p99Micros() == null ? Double.NaN : r.p99Micros();
        field = "p99_us";
        unit = 1;
      }
      default -> {
        yTitle = "ops/s, higher is better";
        metric = Result::opsPerSecond;
        field = "ops_per_s";
        unit = 1;
      }
    }
    int rounds = rows.stream().mapToInt(Rounds.Row::rounds).max().orElse(1);
    if (rounds > 1) {
      yTitle += " (median of " + rounds + " rounds)";
    }
    Map<String, Map<String, Double>> series = new LinkedHashMap<>(); // label -> category -> value
    Map<String, Map<String, Double>> errors = new LinkedHashMap<>(); // label -> category -> ±
    Set<String> categories = new LinkedHashSet<>();
    for (Rounds.Row row : rows) {
      Result r = row.median();
      String category = category(s, r);
      categories.add(category);
      String label = r.label();
      if (s == Scenario.MIXED && r.hitRatio() != null) {
        label = String.format(Locale.ROOT, "%s (hit %.0f%%)", label, 100 * r.hitRatio());
      }
      double v = metric.applyAsDouble(r);
      series
          .computeIfAbsent(label, k -> new LinkedHashMap<>())
          .put(category, Double.isNaN(v) || v <= 0 ? null : v);
      Rounds.Spread spread = row.spread(field);
      errors
          .computeIfAbsent(label, k -> new LinkedHashMap<>())
          .put(
              category,
              spread == null
                  ? 0.0
                  : Math.max(spread.max() - spread.median(), spread.median() - spread.min())
                      / unit);
    }
    double min = Double.MAX_VALUE;
    double max = 0;
    for (Map<String, Double> m : series.values()) {
      for (Double v : m.values()) {
        if (v != null && v > 0) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
      }
    }
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("dstore bench: " + s.id() + " (" + s.description() + ")")
            .xAxisTitle(xTitle(s))
            .yAxisTitle(yTitle)
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    boolean gaps =
        series.values().stream()
            .anyMatch(m -> m.size() < categories.size() || m.containsValue(null));
    // XChart's log axis cannot show a missing bar; fall back to a linear one then.
    boolean log = !gaps && max > 0 && max / min > 30;
    chart.getStyler().setYAxisLogarithmic(log);
    if (log) {
      // Bars grow from the axis minimum, which a log axis needs set above zero.
      chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min))));
    }
    chart.getStyler().setYAxisDecimalPattern("#,###.##");
    chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(13f));
    boolean errorBars = !gaps && !log && rounds > 1;
    List<String> xs = new ArrayList<>(categories);
    for (Map.Entry<String, Map<String, Double>> e : series.entrySet()) {
      List<Double> ys = new ArrayList<>();
      List<Double> es = new ArrayList<>();
      for (String x : xs) {
        Double v = e.getValue().get(x);
        ys.add(v != null && v > 0 ? v : null);
        es.add(errors.get(e.getKey()).getOrDefault(x, 0.0));
      }
      if (errorBars) {
        chart.addSeries(e.getKey(), xs, ys, es);
      } else {
        chart.addSeries(e.getKey(), xs, ys);
      }
    }
    return chart;
  }

  private static String xTitle(Scenario s) {
    return switch (s) {
      case LOCAL_HIT -> "client threads (100 B values)";
      case REMOTE_GET, PUT -> "value size, client threads";
      case INVALIDATE -> "subscribed caching clients";
      case LARGE -> "one large value";
      case MIXED -> "16 threads, 1 KiB values, caches at 10% of the keys";
      case CLUSTER -> "cluster measure";
    };
  }

  private static String category(Scenario s, Result r) {
    return switch (s) {
      case LOCAL_HIT -> r.threads() + " thr";
      case REMOTE_GET, PUT -> ResultTable.size(r.valueSize()) + ", " + r.threads() + " thr";
      case INVALIDATE -> "N = " + r.locals();
      case LARGE -> ResultTable.size(r.valueSize());
      case MIXED -> "Zipf 0.99";
      case CLUSTER -> String.valueOf(r.cluster().get("measure"));
    };
  }
}
