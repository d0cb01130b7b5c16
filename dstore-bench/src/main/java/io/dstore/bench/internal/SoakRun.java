package io.dstore.bench.internal;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.knowm.xchart.ChartEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * {@code soak}: a long run looking for slow leaks rather than speed. Several caching Locals in this
 * JVM drive a mix of gets (80%) and writes (20%: a put of a new 1 KiB key, preceded by a strict
 * delete of the thread's oldest key once it holds {@link #LIVE_PER_THREAD} keys, so the data set
 * stays the same size) against a Global child JVM on RocksDB, for a fixed duration. Every sample
 * interval it records Global's resident memory (/proc), heap in use and live data after the last
 * collection, open file descriptors and live threads (all from Global's {@code /metrics}), and the
 * operations, errors and p99 latency of that interval. At the end it prints the samples, the
 * least-squares slope per hour of each series, and flags a series that trends upward.
 *
 * <p>Runs alone ({@code dstore bench --scenario soak --duration 20m}); never part of the default
 * run or of {@code --quick}. Not thread-safe; one run per instance.
 */
public final class SoakRun {
  static final int LOCALS = 4;
  static final int THREADS_PER_LOCAL = 2;
  static final int VALUE_SIZE = 1_024;
  static final int LIVE_PER_THREAD = 2_000;
  private static final int READ_PERCENT = 80;

  /**
   * The Global child's JVM options unless {@code -Ddstore.bench.global.jvmArgs} gives others: a
   * fixed heap, committed and touched at start, so that growth of resident memory is native memory
   * (RocksDB, Netty, malloc), not G1 committing more of the heap it was allowed.
   */
  static final List<String> GLOBAL_JVM_OPTIONS =
      List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch");

  /**
   * A series "trends upward" when its fitted growth over the run exceeds this fraction of its mean
   * (and the run had at least three samples).
   */
  static final double TREND_THRESHOLD = 0.10;

  /** One sample interval. */
  public record Sample(
      double minutes,
      long ops,
      long errors,
      double p99Millis,
      double rssMiB,
      double heapUsedMiB,
      double heapLiveMiB,
      double storageNativeMiB,
      double openFds,
      double threads) {}

  /** A series' least-squares slope per hour, and whether it trends upward. */
  public record Trend(String series, double perHour, double mean, boolean upward) {}

  private final Duration duration;
  private final Duration interval;
  private final PrintWriter err;

  public SoakRun(Duration duration, Duration interval, PrintWriter err) {
    this.duration = duration;
    this.interval = interval;
    this.err = err;
  }

  private static String globalJvmOptions() {
    String set = System.getProperty(DstoreTarget.GLOBAL_JVM_ARGS);
    return set != null && !set.isBlank() ? set.trim() : String.join(" ", GLOBAL_JVM_OPTIONS);
  }

  /** Runs the soak and returns its samples. */
  public List<Sample> run() throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("dstore-soak-");
    List<Sample> samples = new ArrayList<>();
    try (DstoreTarget global =
        DstoreTarget.start(
            Duration.ofSeconds(60),
            List.of("--metrics", "--rocksdb", dir.toString()),
            GLOBAL_JVM_OPTIONS)) {
      HttpClient http = HttpClient.newHttpClient();
      URI metrics = URI.create("http://127.0.0.1:" + global.metricsPort() + "/metrics");
      List<Dstore> locals = new ArrayList<>();
      List<Thread> threads = new ArrayList<>();
      AtomicBoolean stop = new AtomicBoolean();
      Recorder latency = new Recorder(3);
      AtomicLong ops = new AtomicLong();
      AtomicLong errors = new AtomicLong();
      AtomicReference<String> firstError = new AtomicReference<>();
      byte[] value = Cells.randomBytes(VALUE_SIZE, 11);
      try {
        for (int l = 0; l < LOCALS; l++) {
          Dstore d =
              Dstore.connect(
                  global.address(),
                  DstoreOptions.builder()
                      .name("bench-soak-" + l)
                      .cacheSizeBytes(64L << 20)
                      .build());
          locals.add(d);
          d.awaitReady(Duration.ofSeconds(30));
        }
        for (int t = 0; t < LOCALS * THREADS_PER_LOCAL; t++) {
          Dstore d = locals.get(t % LOCALS);
          int id = t;
          Thread th =
              new Thread(
                  () -> drive(d, id, value, stop, latency, ops, errors, firstError),
                  "bench-soak-" + t);
          th.setDaemon(true);
          threads.add(th);
        }
        threads.forEach(Thread::start);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long next = start;
        Histogram interval0 = latency.getIntervalHistogram();
        long opsBefore = ops.get();
        long errorsBefore = errors.get();
        err.printf(
            Locale.ROOT,
            "soak: %d Locals x %d threads against Global pid %d (JVM options: %s) for %s,"
                + " sampling every %s%n",
            LOCALS,
            THREADS_PER_LOCAL,
            global.pid(),
            globalJvmOptions(),
            duration,
            interval);
        err.println(header());
        err.flush();
        while (next < end) {
          next = Math.min(end, next + this.interval.toNanos());
          long wait = next - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000)); // pacing the sampler
          }
          interval0 = latency.getIntervalHistogram(interval0);
          long o = ops.get();
          long e = errors.get();
          Metrics m = scrape(http, metrics);
          Sample s =
              new Sample(
                  (System.nanoTime() - start) / 60e9,
                  o - opsBefore,
                  e - errorsBefore,
                  interval0.getTotalCount() == 0 ? 0 : interval0.getValueAtPercentile(99) / 1e6,
                  global.rssBytes().orElse(0) / 1048576.0,
                  m.heapUsed / 1048576.0,
                  m.heapLive / 1048576.0,
                  m.storageNative / 1048576.0,
                  m.fds,
                  m.threads);
          opsBefore = o;
          errorsBefore = e;
          samples.add(s);
          err.println(row(s));
          err.flush();
          if (!global.isAlive()) {
            throw new BenchException("the Global child exited during the soak");
          }
        }
      } finally {
        stop.set(true);
        for (Thread th : threads) {
          th.join(10_000);
        }
        locals.forEach(Dstore::close);
        if (firstError.get() != null) {
          err.println("soak: first error: " + firstError.get());
          err.flush();
        }
      }
    } finally {
      deleteTree(dir);
    }
    return samples;
  }

  private static void drive(
      Dstore d,
      int id,
      byte[] value,
      AtomicBoolean stop,
      Recorder latency,
      AtomicLong ops,
      AtomicLong errors,
      AtomicReference<String> firstError) {
    SplittableRandom random = new SplittableRandom(77 + id);
    ArrayDeque<byte[]> live = new ArrayDeque<>();
    List<byte[]> index = new ArrayList<>();
    long n = 0;
    while (!stop.get()) {
      long t0 = System.nanoTime();
      try {
        if (!index.isEmpty() && random.nextInt(100) < READ_PERCENT) {
          d.get(index.get(random.nextInt(index.size())));
        } else if (live.size() >= LIVE_PER_THREAD) {
          byte[] oldest = live.removeFirst();
          index.remove(0);
          d.delete(oldest);
        } else {
          byte[] key = ("soak-" + id + "-" + n++).getBytes(StandardCharsets.UTF_8);
          d.put(key, value);
          live.addLast(key);
          index.add(key);
        }
        latency.recordValue(System.nanoTime() - t0);
        ops.incrementAndGet();
      } catch (RuntimeException e) {
        errors.incrementAndGet();
        firstError.compareAndSet(null, e.toString());
      }
    }
  }

  /** What the sampler reads from Global's {@code /metrics}; NaN where a figure is missing. */
  record Metrics(
      double heapUsed, double heapLive, double storageNative, double fds, double threads) {}

  static Metrics scrape(HttpClient http, URI uri) throws InterruptedException {
    String text;
    try {
      text =
          http.send(
                  HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
    } catch (IOException e) {
      return new Metrics(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    return parse(text);
  }

  /** Reads the five figures from a Prometheus text page. */
  static Metrics parse(String text) {
    double heapUsed = 0;
    boolean sawHeap = false;
    double live = Double.NaN;
    double storageNative = 0;
    boolean sawNative = false;
    double fds = Double.NaN;
    double threads = Double.NaN;
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      if (space < 0) {
        continue;
      }
      String name = line.substring(0, space);
      double v;
      try {
        v = Double.parseDouble(line.substring(space + 1));
      } catch (NumberFormatException e) {
        continue;
      }
      if (name.startsWith("jvm_memory_used_bytes{") && name.contains("area=\"heap\"")) {
        heapUsed += v;
        sawHeap = true;
      } else if (name.startsWith("dstore_storage_native_memory_bytes{")) {
        storageNative += v;
        sawNative = true;
      } else if (name.startsWith("jvm_gc_live_data_size_bytes")) {
        live = v;
      } else if (name.startsWith("process_files_open_files")) {
        fds = v;
      } else if (name.startsWith("jvm_threads_live_threads")) {
        threads = v;
      }
    }
    return new Metrics(
        sawHeap ? heapUsed : Double.NaN,
        live,
        sawNative ? storageNative : Double.NaN,
        fds,
        threads);
  }

  /** As {@link #trends(List, Duration)} with no warm-up beyond the first interval. */
  public static List<Trend> trends(List<Sample> samples) {
    return trends(samples, Duration.ZERO);
  }

  /**
   * The least-squares slope per hour of each series, and whether it trends upward, fitted over the
   * samples taken after {@code warmup} (and never over the first interval, which includes the
   * start).
   */
  public static List<Trend> trends(List<Sample> samples, Duration warmup) {
    List<Sample> fitted = afterWarmup(samples, warmup);
    List<Trend> out = new ArrayList<>();
    out.add(trend("rss_mib", fitted, Sample::rssMiB));
    out.add(trend("heap_used_mib", fitted, Sample::heapUsedMiB));
    out.add(trend("heap_live_mib", fitted, Sample::heapLiveMiB));
    out.add(trend("storage_native_mib", fitted, Sample::storageNativeMiB));
    out.add(trend("open_fds", fitted, Sample::openFds));
    out.add(trend("threads", fitted, Sample::threads));
    out.add(trend("p99_ms", fitted, Sample::p99Millis));
    return out;
  }

  /**
   * The samples to fit: those taken after {@code warmup}, or with no warm-up all but the first
   * (whose interval includes the start); all of them if that would leave fewer than three.
   */
  static List<Sample> afterWarmup(List<Sample> samples, Duration warmup) {
    List<Sample> after;
    if (warmup.isZero()) {
      after = samples.isEmpty() ? samples : samples.subList(1, samples.size());
    } else {
      double minutes = warmup.toMillis() / 60_000.0;
      after = samples.stream().filter(s -> s.minutes() > minutes + 1e-9).toList();
    }
    return after.size() >= 3 ? after : samples;
  }

  static Trend trend(
      String name, List<Sample> samples, java.util.function.ToDoubleFunction<Sample> f) {
    // Fit over the samples with a figure (the caller left out the warm-up, see afterWarmup)
    List<double[]> pts = new ArrayList<>();
    for (int i = 0; i < samples.size(); i++) {
      double y = f.applyAsDouble(samples.get(i));
      if (!Double.isNaN(y)) {
        pts.add(new double[] {samples.get(i).minutes() / 60.0, y});
      }
    }
    if (pts.size() < 2) {
      return new Trend(name, Double.NaN, Double.NaN, false);
    }
    double mx = 0;
    double my = 0;
    for (double[] p : pts) {
      mx += p[0];
      my += p[1];
    }
    mx /= pts.size();
    my /= pts.size();
    double sxy = 0;
    double sxx = 0;
    for (double[] p : pts) {
      sxy += (p[0] - mx) * (p[1] - my);
      sxx += (p[0] - mx) * (p[0] - mx);
    }
    double slope = sxx == 0 ? 0 : sxy / sxx;
    double span = pts.get(pts.size() - 1)[0] - pts.get(0)[0];
    boolean upward = pts.size() >= 3 && slope > 0 && slope * span > TREND_THRESHOLD * my;
    return new Trend(name, slope, my, upward);
  }

  public static String header() {
    return String.format(
        Locale.ROOT,
        "%7s %10s %7s %9s %8s %9s %9s %10s %6s %7s",
        "minute",
        "ops",
        "errors",
        "p99 ms",
        "RSS MiB",
        "heap MiB",
        "live MiB",
        "rocks MiB",
        "fds",
        "threads");
  }

  public static String row(Sample s) {
    return String.format(
        Locale.ROOT,
        "%7.2f %10d %7d %9.3f %8.1f %9.1f %9.1f %10.1f %6.0f %7.0f",
        s.minutes(),
        s.ops(),
        s.errors(),
        s.p99Millis(),
        s.rssMiB(),
        s.heapUsedMiB(),
        s.heapLiveMiB(),
        s.storageNativeMiB(),
        s.openFds(),
        s.threads());
  }

  /** The samples and trends as JSON: {@code {"scenario":"soak","samples":[...],"trends":[...]}}. */
  public static String json(Duration duration, List<Sample> samples, List<Trend> trends) {
    return json(duration, Duration.ZERO, samples, trends);
  }

  /** As {@link #json(Duration, List, List)}, recording the warm-up left out of the fit. */
  public static String json(
      Duration duration, Duration warmup, List<Sample> samples, List<Trend> trends) {
    StringBuilder b = new StringBuilder();
    b.append("{\n  \"scenario\": \"soak\",\n  \"duration_seconds\": ")
        .append(duration.toSeconds())
        .append(",\n  \"warmup_seconds\": ")
        .append(warmup.toSeconds())
        .append(",\n  \"samples\": [");
    for (int i = 0; i < samples.size(); i++) {
      Sample s = samples.get(i);
      b.append(i == 0 ? "\n" : ",\n")
          .append(
              String.format(
                  Locale.ROOT,
                  "    {\"minute\": %.3f, \"ops\": %d, \"errors\": %d, \"p99_ms\": %s,"
                      + " \"rss_mib\": %s, \"heap_used_mib\": %s, \"heap_live_mib\": %s,"
                      + " \"storage_native_mib\": %s, \"open_fds\": %s, \"threads\": %s}",
                  s.minutes(),
                  s.ops(),
                  s.errors(),
                  num(s.p99Millis()),
                  num(s.rssMiB()),
                  num(s.heapUsedMiB()),
                  num(s.heapLiveMiB()),
                  num(s.storageNativeMiB()),
                  num(s.openFds()),
                  num(s.threads())));
    }
    b.append("\n  ],\n  \"trends\": [");
    for (int i = 0; i < trends.size(); i++) {
      Trend t = trends.get(i);
      b.append(i == 0 ? "\n" : ",\n")
          .append(
              String.format(
                  Locale.ROOT,
                  "    {\"series\": \"%s\", \"slope_per_hour\": %s, \"mean\": %s, \"upward\": %s}",
                  t.series(),
                  num(t.perHour()),
                  num(t.mean()),
                  t.upward()));
    }
    return b.append("\n  ]\n}\n").toString();
  }

  private static String num(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
  }

  /** A line chart of RSS and p99 over time, into {@code dir}/bench-soak.png. */
  public static Path chart(List<Sample> samples, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    double[] x = samples.stream().mapToDouble(Sample::minutes).toArray();
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(520)
            .title("dstore bench: soak (Global RSS and p99 latency over time)")
            .xAxisTitle("minutes")
            .yAxisTitle("RSS MiB")
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(13f));
    chart.addSeries("Global RSS (MiB)", x, samples.stream().mapToDouble(Sample::rssMiB).toArray());
    chart
        .addSeries("p99 latency (ms)", x, samples.stream().mapToDouble(Sample::p99Millis).toArray())
        .setYAxisGroup(1);
    chart.setYAxisGroupTitle(1, "p99 ms");
    Path file = dir.resolve("bench-soak.png");
    try (OutputStream out = Files.newOutputStream(file)) {
      ChartEncoder.saveChart(chart, out, "png");
    }
    return file;
  }

  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // a temp directory; harmless
                }
              });
    } catch (IOException e) {
      // a temp directory; harmless
    }
  }
}
