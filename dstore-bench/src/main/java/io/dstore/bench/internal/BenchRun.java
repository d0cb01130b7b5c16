package io.dstore.bench.internal;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One run of the harness: starts the systems the chosen scenarios need, runs each scenario for
 * {@link BenchSettings#rounds()} rounds in order, stops everything (also on Ctrl-C, through a
 * shutdown hook that stops the child processes by PID), and returns what was measured, cell by cell
 * with its round.
 *
 * <p>In one round a scenario runs every system's cells back to back, in the scenario's own order
 * (dstore, Redis, Hazelcast, Caffeine, ...), so over the rounds the systems alternate and share the
 * machine's changing load. Servers are started once, on first use, for the whole run (a system that
 * fails is restarted before its next use, see {@link BenchContext}).
 */
public final class BenchRun {
  private BenchRun() {}

  /** What a run produced: one result per cell and round, and notes on what was skipped and why. */
  public record Report(List<Rounds.RoundResult> cells, List<String> notes) {
    public Report {
      cells = List.copyOf(cells);
      notes = List.copyOf(notes);
    }
  }

  /**
   * Runs {@code settings}, logging progress to {@code log}.
   *
   * @throws BenchException if a system required by {@link BenchSettings#requireAll()} is missing,
   *     or a measurement fails
   */
  public static Report run(BenchSettings settings, PrintWriter log) throws InterruptedException {
    List<Rounds.RoundResult> cells = new ArrayList<>();
    BenchContext ctx = new BenchContext(settings, log);
    Thread hook = new Thread(ctx::kill, "dstore-bench-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      for (Scenario s : settings.scenarios()) {
        long t0 = System.nanoTime();
        int rounds = settings.roundsOf(s);
        ctx.progress(
            "== %s: %s%s", s.id(), s.description(), rounds > 1 ? " (" + rounds + " rounds)" : "");
        if (rounds < settings.rounds()) {
          ctx.progress("   (%s runs once: it has passes of its own)", s.id());
        }
        for (int round = 1; round <= rounds; round++) {
          ctx.round(round, rounds);
          if (rounds > 1) {
            ctx.progress("%s (load average %s)", s.id(), loadAverage());
          }
          List<Result> results = new ArrayList<>();
          ScenarioRunner.of(s).run(ctx, results);
          for (Result r : results) {
            cells.add(new Rounds.RoundResult(round, r));
          }
        }
        ctx.round(1, 1);
        ctx.progress("   (%s took %.1f s)", s.id(), (System.nanoTime() - t0) / 1e9);
      }
    } finally {
      ctx.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down; the hook runs anyway
      }
    }
    return new Report(cells, ctx.notes());
  }

  /** The load averages over 1, 5 and 15 minutes now, or "?" where there is no /proc/loadavg. */
  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+", -1);
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (Exception e) {
      return "?"; // not Linux
    }
  }

  /**
   * One line on the machine: cores, JDK, OS, and the load average now (other work skews figures).
   */
  public static String machine() {
    String load = loadAverage();
    return String.format(
        Locale.ROOT,
        "%d cores, %s %s (%s), %s %s, load average %s",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.name"),
        System.getProperty("java.version"),
        System.getProperty("java.vm.vendor"),
        System.getProperty("os.name"),
        System.getProperty("os.version"),
        load);
  }
}
