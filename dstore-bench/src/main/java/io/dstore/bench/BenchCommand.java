package io.dstore.bench;

import io.dstore.bench.internal.BenchException;
import io.dstore.bench.internal.BenchRun;
import io.dstore.bench.internal.BenchSettings;
import io.dstore.bench.internal.Charts;
import io.dstore.bench.internal.ResultJson;
import io.dstore.bench.internal.ResultTable;
import io.dstore.bench.internal.Rounds;
import io.dstore.bench.internal.Scenario;
import io.dstore.bench.internal.SoakRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code dstore bench}: measures dstore side by side with Redis (client-side caching), Hazelcast
 * (near cache) and raw Caffeine on this machine, and prints a table; optionally writes the results
 * as JSON and renders PNG charts. See docs/benchmarks.md.
 *
 * <p>It starts everything it measures itself, on 127.0.0.1 with ports it picks: a dstore Global in
 * a child JVM, {@code redis-server} from PATH (its rows are skipped with a note when it is missing,
 * unless {@code --require-all}), and an embedded Hazelcast member; and stops them when done, also
 * on Ctrl-C.
 *
 * <p>Output: the table goes to the command's standard output, progress to its error stream. Exit
 * codes: 0 success, 1 a run failed or a required system was missing, 2 usage error. One instance
 * runs one command line; not thread-safe.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmark dstore side by side with Redis, Hazelcast and Caffeine on this machine.",
      "Starts a dstore Global (child JVM), redis-server (from PATH) and a Hazelcast member on"
          + " 127.0.0.1, runs the scenarios, prints a table, and stops everything.",
      "Scenarios: local-hit, remote-get, put, invalidate, large, mixed; and soak, which runs"
          + " only when named alone (--scenario soak --duration 20m).",
      "--scenario cluster (only when named, ~5 min) compares the cluster store (gateways over"
          + " etcd + S3) with one RocksDB Global: remote get/put through 1 and 2 gateways, strict"
          + " delete latency with 32 Locals, and a gateway killed under readers. It needs etcd"
          + " (scripts/install-test-deps.sh) and a source checkout, since it runs"
          + " scripts/dev-cluster.sh; one single-Global pass, then one cluster pass (no rounds).",
      "Each scenario runs --rounds times (systems alternate: dstore, Redis, ..., dstore, Redis,"
          + " ...); the table shows each figure's median across rounds with its spread, the JSON"
          + " every round's cells and the medians."
    })
public final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--quick",
      description = "Short run of every scenario (under two minutes in all), for smoke tests.")
  boolean quick;

  @Option(
      names = "--scenario",
      split = ",",
      paramLabel = "NAME",
      description = "Run only this scenario; repeatable or comma-separated (default: all).")
  List<String> scenarios = new ArrayList<>();

  @Option(
      names = "--rounds",
      paramLabel = "N",
      description =
          "Run each scenario N times, every system once per round, and show medians with their"
              + " spread (1 to 50; default: 3, or 1 with --quick).")
  Integer rounds;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
  Path json;

  @Option(
      names = "--charts",
      paramLabel = "DIR",
      description = "Also render one PNG bar chart per scenario into DIR (e.g. docs/img).")
  Path charts;

  @Option(
      names = "--from-json",
      paramLabel = "FILE",
      description = "Run nothing: print the table (and charts) of results saved with --json.")
  Path fromJson;

  @Option(
      names = "--require-all",
      description = "Fail instead of skipping a system that cannot run (redis-server missing).")
  boolean requireAll;

  @Option(
      names = "--markdown",
      hidden = true,
      description = "Print the tables as Markdown (for docs/benchmarks.md).")
  boolean markdown;

  @Option(
      names = "--duration",
      paramLabel = "TIME",
      defaultValue = "20m",
      description = "How long the soak runs: 90s, 20m, 2h (default: ${DEFAULT-VALUE}).")
  String soakDuration = "20m";

  @Option(
      names = "--sample-interval",
      paramLabel = "TIME",
      description =
          "How often the soak samples (default: 1m, or a tenth of --duration if that is shorter).")
  String sampleInterval;

  @Option(
      names = "--warmup",
      paramLabel = "TIME",
      defaultValue = "0s",
      description =
          "Soak samples taken in this first part of the run are shown but left out of the slopes"
              + " (caches and buffers filling to their bounds); 0s leaves out only the first"
              + " interval (default: ${DEFAULT-VALUE}).")
  String soakWarmup = "0s";

  @Option(
      names = "--duration-scale",
      hidden = true,
      defaultValue = "1",
      description = "Scale every warm-up and measurement time (tests use a small factor).")
  double durationScale = 1;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (scenarios.stream().anyMatch(s -> s.strip().equalsIgnoreCase("soak"))) {
      return soak(out, err);
    }
    List<Scenario> chosen = chosenScenarios();
    if (!(durationScale > 0) || Double.isInfinite(durationScale)) {
      throw new ParameterException(
          spec.commandLine(), "--duration-scale must be a number > 0, got " + durationScale);
    }
    int roundCount = rounds();
    try {
      List<Rounds.RoundResult> cells;
      List<String> notes = List.of();
      if (fromJson != null) {
        Set<Scenario> wanted = Set.copyOf(chosen);
        cells =
            readResults(fromJson).stream()
                .filter(c -> wanted.contains(c.result().scenario()))
                .toList();
        out.println("dstore bench: results read from " + fromJson);
      } else {
        BenchSettings settings =
            new BenchSettings(chosen, quick, durationScale, requireAll, roundCount);
        err.println("dstore bench on " + BenchRun.machine());
        err.flush();
        BenchRun.Report report = BenchRun.run(settings, err);
        cells = report.cells();
        notes = report.notes();
        out.println(
            "dstore bench"
                + (quick ? " --quick" : "")
                + (roundCount > 1 ? " --rounds " + roundCount : "")
                + " on "
                + BenchRun.machine());
      }
      List<Rounds.Row> rows = Rounds.aggregate(cells);
      out.print(markdown ? ResultTable.markdown(rows) : ResultTable.render(rows));
      if (!notes.isEmpty()) {
        out.println();
        // A note repeated by every round (a system's rows capped, say) is said once.
        new LinkedHashSet<>(notes).forEach(n -> out.println("note: " + n));
      }
      List<String> targets = ResultTable.targets(cells);
      if (!targets.isEmpty()) {
        out.println();
        out.println("Targets (ratios between systems measured in this run):");
        targets.forEach(t -> out.println("  " + t));
      }
      out.flush();
      if (json != null) {
        writeJson(json, cells);
        err.println("wrote " + json);
      }
      if (charts != null) {
        try {
          for (Path p : Charts.render(rows, charts)) {
            err.println("wrote " + p);
          }
        } catch (RuntimeException e) { // XChart refuses some data sets with an unchecked exception
          throw new IOException(
              "cannot render the charts into " + charts + ": " + e.getMessage(), e);
        }
      }
      err.flush();
      return 0;
    } catch (BenchException e) {
      err.println("dstore bench: " + e.getMessage());
      err.flush();
      return 1;
    } catch (IOException e) {
      err.println("dstore bench: " + e.getMessage());
      err.flush();
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("dstore bench: interrupted");
      err.flush();
      return 1;
    }
  }

  /** {@code --scenario soak}: a long run of its own, reported as samples and trends. */
  private int soak(PrintWriter out, PrintWriter err) {
    if (scenarios.size() != 1 || quick || fromJson != null) {
      throw new ParameterException(
          spec.commandLine(), "soak runs alone: no other scenario, --quick or --from-json");
    }
    if (rounds != null) {
      throw new ParameterException(
          spec.commandLine(),
          "--rounds does not apply to soak: it is one long run, sampled every --sample-interval");
    }
    Duration duration = parseTime(soakDuration, "--duration");
    Duration interval =
        sampleInterval != null
            ? parseTime(sampleInterval, "--sample-interval")
            : Duration.ofMinutes(1).compareTo(duration.dividedBy(10)) <= 0
                ? Duration.ofMinutes(1)
                : duration.dividedBy(10);
    if (interval.compareTo(Duration.ofSeconds(1)) < 0 || interval.compareTo(duration) > 0) {
      throw new ParameterException(
          spec.commandLine(), "--sample-interval must be at least 1s and at most --duration");
    }
    Duration warmup =
        soakWarmup.strip().matches("0+(ms|s|m|h)?")
            ? Duration.ZERO
            : parseTime(soakWarmup, "--warmup");
    if (warmup.compareTo(duration) >= 0) {
      throw new ParameterException(spec.commandLine(), "--warmup must be shorter than --duration");
    }
    try {
      err.println("dstore bench soak on " + BenchRun.machine());
      err.flush();
      List<SoakRun.Sample> samples = new SoakRun(duration, interval, err).run();
      List<SoakRun.Trend> trends = SoakRun.trends(samples, warmup);
      out.println("dstore bench soak (" + duration + ") on " + BenchRun.machine());
      out.println(SoakRun.header());
      samples.forEach(s -> out.println(SoakRun.row(s)));
      long ops = samples.stream().mapToLong(SoakRun.Sample::ops).sum();
      long errors = samples.stream().mapToLong(SoakRun.Sample::errors).sum();
      out.printf(Locale.ROOT, "%nops %,d, errors %,d%n", ops, errors);
      out.println(
          warmup.isZero()
              ? "least-squares slope per hour (mean), after the first interval:"
              : "least-squares slope per hour (mean), after the warm-up of " + warmup + ":");
      for (SoakRun.Trend t : trends) {
        out.printf(
            Locale.ROOT,
            "  %-14s %+12.3f /h  (mean %.3f)%s%n",
            t.series(),
            t.perHour(),
            t.mean(),
            t.upward() ? "  UPWARD TREND" : "");
      }
      out.flush();
      if (json != null) {
        Path parent = json.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(
            json, SoakRun.json(duration, warmup, samples, trends), StandardCharsets.UTF_8);
        err.println("wrote " + json);
      }
      if (charts != null && !samples.isEmpty()) {
        err.println("wrote " + SoakRun.chart(samples, charts));
      }
      err.flush();
      return 0;
    } catch (BenchException | IOException e) {
      err.println("dstore bench: " + e.getMessage());
      err.flush();
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("dstore bench: interrupted");
      err.flush();
      return 1;
    }
  }

  /** The rounds asked for, checked, or the default. */
  private int rounds() {
    if (rounds == null) {
      return BenchSettings.defaultRounds(quick);
    }
    if (fromJson != null) {
      throw new ParameterException(
          spec.commandLine(),
          "--rounds does not apply to --from-json: the file holds the rounds it was run with");
    }
    if (rounds < 1 || rounds > BenchSettings.MAX_ROUNDS) {
      throw new ParameterException(
          spec.commandLine(),
          "--rounds must be an integer from 1 to " + BenchSettings.MAX_ROUNDS + ", got " + rounds);
    }
    return rounds;
  }

  /** {@code 90s}, {@code 20m}, {@code 2h}, or {@code 500ms}. */
  private Duration parseTime(String text, String option) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      Duration d =
          switch (t.charAt(t.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> throw new NumberFormatException();
          };
      if (d.isNegative() || d.isZero()) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      throw new ParameterException(
          spec.commandLine(), option + " must be like 90s, 20m or 2h, got '" + text + "'");
    }
  }

  private List<Scenario> chosenScenarios() {
    if (scenarios.isEmpty()) {
      return List.of(Scenario.values()).stream().filter(Scenario::inDefaultRun).toList();
    }
    Set<Scenario> set = new LinkedHashSet<>();
    for (String s : scenarios) {
      if (s.isBlank()) {
        continue;
      }
      try {
        set.add(Scenario.parse(s));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    // Run in the canonical order whatever the order given.
    return List.of(Scenario.values()).stream().filter(set::contains).toList();
  }

  private static List<Rounds.RoundResult> readResults(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IOException("no such file: " + file, e);
    }
    try {
      return ResultJson.readRun(text);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + " does not hold bench results: " + e.getMessage(), e);
    }
  }

  private static void writeJson(Path file, List<Rounds.RoundResult> cells) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, ResultJson.writeRun(cells), StandardCharsets.UTF_8);
  }
}
