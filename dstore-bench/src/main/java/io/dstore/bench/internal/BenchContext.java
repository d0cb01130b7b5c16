package io.dstore.bench.internal;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The systems of one run, each started on first use and stopped at {@link #close()}, plus the
 * progress log (stderr) and the notes that end up under the table (skipped systems and why).
 *
 * <p>A system that fails in a scenario is noted and restarted before the next one. A system that
 * cannot start is skipped with a note, unless {@link BenchSettings#requireAll()}, in which case
 * {@link BenchException} says why. Used by the run's thread only, except {@link #kill()}, which the
 * shutdown hook may call from another.
 */
final class BenchContext implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final AtomicInteger RUNS = new AtomicInteger();

  private final BenchSettings settings;
  private final PrintWriter log;
  private final List<String> notes = new ArrayList<>();
  private final String runId;
  private volatile DstoreTarget dstore;
  private volatile RedisTarget redis;
  private volatile HazelcastTarget hazelcast;
  private boolean dstoreFailed;
  private boolean redisFailed;
  private boolean hazelcastFailed;
  private String roundPrefix = "";
  private volatile int round = 1;

  BenchContext(BenchSettings settings, PrintWriter log) {
    this.settings = settings;
    this.log = log;
    this.runId = Long.toString(ProcessHandle.current().pid(), 36) + RUNS.incrementAndGet();
  }

  BenchSettings settings() {
    return settings;
  }

  /**
   * A short id that makes this run's keys unique on servers shared by runs in one JVM, and by the
   * rounds of one run: dstore's values are immutable, so a round that put the keys of the round
   * before would be refused with ALREADY_EXISTS.
   */
  String runId() {
    return round == 1 ? runId : runId + "r" + round;
  }

  List<String> notes() {
    return notes;
  }

  /**
   * Prefixes every later progress line with {@code round R/N: } (when {@code rounds > 1}), so that
   * a long run shows where it is.
   */
  void round(int round, int rounds) {
    this.round = round;
    roundPrefix = rounds > 1 ? "round " + round + "/" + rounds + ": " : "";
  }

  void progress(String format, Object... args) {
    String line = String.format(format, args);
    log.println(roundPrefix.isEmpty() ? line : roundPrefix + line.stripLeading());
    log.flush();
  }

  Optional<DstoreTarget> dstore() {
    if (dstore == null && !dstoreFailed) {
      progress("starting the dstore Global (child JVM) ...");
      try {
        dstore = DstoreTarget.start(START_TIMEOUT);
        progress("  dstore Global: pid %d on %s", dstore.pid(), dstore.address());
      } catch (Exception e) {
        dstoreFailed = true;
        skip("dstore", e);
      }
    }
    return Optional.ofNullable(dstore);
  }

  Optional<RedisTarget> redis() {
    if (redis == null && !redisFailed) {
      Optional<Path> server = RedisTarget.findServer();
      if (server.isEmpty()) {
        redisFailed = true;
        if (settings.requireAll()) {
          throw new BenchException(RedisTarget.INSTALL_HINT + "; --require-all needs it");
        }
        notes.add("redis rows skipped: " + RedisTarget.INSTALL_HINT);
        progress("%s: skipping the Redis rows", RedisTarget.INSTALL_HINT);
        return Optional.empty();
      }
      progress("starting redis-server (%s) ...", server.get());
      try {
        redis = RedisTarget.start(server.get(), START_TIMEOUT);
        progress("  redis-server: pid %d", redis.pid());
      } catch (Exception e) {
        redisFailed = true;
        skip("redis", e);
      }
    }
    return Optional.ofNullable(redis);
  }

  Optional<HazelcastTarget> hazelcast() {
    if (hazelcast == null && !hazelcastFailed) {
      progress("starting the embedded Hazelcast member ...");
      try {
        hazelcast = HazelcastTarget.start();
      } catch (Exception e) {
        hazelcastFailed = true;
        skip("hazelcast", e);
      }
    }
    return Optional.ofNullable(hazelcast);
  }

  /** A system's part of a scenario, which may fail without failing the others. */
  @FunctionalInterface
  interface Attempt {
    void run() throws InterruptedException;
  }

  /**
   * Runs {@code attempt}; if it fails, notes that {@code system}'s {@code scenario} rows are
   * missing and why, and carries on (unless {@link BenchSettings#requireAll()}: then it throws).
   */
  void attempt(Scenario scenario, SystemId system, Attempt attempt) throws InterruptedException {
    try {
      attempt.run();
    } catch (RuntimeException e) {
      String why = e instanceof BenchException ? e.getMessage() : e.toString();
      if (settings.requireAll()) {
        throw new BenchException(scenario.id() + ": " + system.id() + " failed: " + why, e);
      }
      notes.add(roundPrefix + scenario.id() + ": " + system.id() + " rows missing: " + why);
      progress(
          "%s: %s failed, its rows are missing (%s); restarting it for the next scenario",
          scenario.id(), system.id(), why);
      restart(system);
    }
  }

  /** A system's part of a scenario, given the system's running target. */
  @FunctionalInterface
  interface TargetAttempt<T> {
    void run(T target) throws InterruptedException;
  }

  /** {@link #attempt} with {@code target}, if that system is running (else nothing). */
  <T> void with(Scenario scenario, SystemId system, Optional<T> target, TargetAttempt<T> body)
      throws InterruptedException {
    if (target.isPresent()) {
      attempt(scenario, system, () -> body.run(target.get()));
    }
  }

  /** Resident memory of {@code system}'s server process now, where it has one of its own. */
  Long serverRss(SystemId system) {
    OptionalLong rss =
        switch (system) {
          case DSTORE -> dstore != null ? dstore.rssBytes() : OptionalLong.empty();
          case REDIS -> redis != null ? redis.rssBytes() : OptionalLong.empty();
          default -> OptionalLong.empty(); // embedded or client-only: no process of its own
        };
    return rss.isPresent() ? rss.getAsLong() : null;
  }

  private void skip(String system, Exception e) {
    if (settings.requireAll()) {
      throw e instanceof BenchException b
          ? b
          : new BenchException(system + " did not start: " + e, e);
    }
    String message = e.getMessage() != null ? e.getMessage() : e.toString();
    notes.add(system + " rows skipped: " + message);
    progress("%s did not start (%s): skipping its rows", system, message);
  }

  /** Stops {@code system} so that its next use starts it afresh (it may be wedged). */
  void restart(SystemId system) {
    switch (system) {
      case DSTORE -> {
        DstoreTarget d = dstore;
        dstore = null;
        if (d != null) {
          d.close();
        }
      }
      case REDIS -> {
        RedisTarget r = redis;
        redis = null;
        if (r != null) {
          r.close();
        }
      }
      case HAZELCAST -> {
        HazelcastTarget h = hazelcast;
        hazelcast = null;
        if (h != null) {
          h.close();
        }
      }
      case CAFFEINE, DSTORE_CLUSTER -> {
        // nothing runs, or the scenario runs and stops it itself
      }
    }
  }

  /** Stops every system started; idempotent. */
  @Override
  public void close() {
    HazelcastTarget h = hazelcast;
    hazelcast = null;
    if (h != null) {
      h.close();
    }
    RedisTarget r = redis;
    redis = null;
    if (r != null) {
      r.close();
    }
    DstoreTarget d = dstore;
    dstore = null;
    if (d != null) {
      d.close();
    }
  }

  /** Stops the child processes at once (from a shutdown hook, on Ctrl-C). */
  void kill() {
    DstoreTarget d = dstore;
    if (d != null) {
      d.kill();
    }
    RedisTarget r = redis;
    if (r != null) {
      r.kill();
    }
  }
}
