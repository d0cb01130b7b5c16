package io.dstore.bench.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * What one run of the harness does: which scenarios, how long each cell runs, and whether a missing
 * peer is an error. Immutable.
 *
 * <p>A cell is warmed up, then measured (2 s and 4 s; 0.25 s and 0.5 s with {@code --quick}).
 * {@code --quick} cuts every duration and count so that all scenarios finish in under two minutes
 * (for CI smoke runs); {@code durationScale} scales the time budgets further (tests use a small
 * one).
 *
 * @param scenarios the scenarios to run, in order, without duplicates
 * @param quick the short CI budget instead of a proper run
 * @param durationScale factor applied to warm-up and measurement times (1 normally)
 * @param requireAll fail instead of skipping a system that cannot run (no redis-server on PATH)
 * @param rounds how many times each scenario runs, every system once per round (1 to {@link
 *     #MAX_ROUNDS}); the {@code cluster} scenario runs once whatever this says
 */
public record BenchSettings(
    List<Scenario> scenarios, boolean quick, double durationScale, boolean requireAll, int rounds) {
  /** The most rounds a run may ask for. */
  public static final int MAX_ROUNDS = 50;

  public BenchSettings {
    scenarios = List.copyOf(requireNonNull(scenarios, "scenarios"));
    if (!(durationScale > 0) || Double.isInfinite(durationScale)) {
      throw new IllegalArgumentException("duration scale must be > 0, got " + durationScale);
    }
    if (rounds < 1 || rounds > MAX_ROUNDS) {
      throw new IllegalArgumentException(
          "rounds must be from 1 to " + MAX_ROUNDS + ", got " + rounds);
    }
  }

  /** Settings with the default number of rounds ({@link #defaultRounds}). */
  public BenchSettings(
      List<Scenario> scenarios, boolean quick, double durationScale, boolean requireAll) {
    this(scenarios, quick, durationScale, requireAll, defaultRounds(quick));
  }

  /** Rounds when none are asked for: 3 for a proper run, 1 with {@code --quick}. */
  public static int defaultRounds(boolean quick) {
    return quick ? 1 : 3;
  }

  /** Rounds of {@code s}: {@link #rounds()}, but one for {@code cluster} (see its scenario). */
  int roundsOf(Scenario s) {
    return s == Scenario.CLUSTER ? 1 : rounds;
  }

  /** Warm-up of one throughput cell. */
  Duration warmup() {
    return scaled(quick ? 250 : 2_000);
  }

  /** Measured period of one throughput cell. */
  Duration measure() {
    return scaled(quick ? 500 : 4_000);
  }

  /** Time budget for the measured deletes of one invalidate cell. */
  Duration invalidateBudget() {
    return scaled(quick ? 800 : 5_000);
  }

  /** Deletes before the measured ones in an invalidate cell. */
  int invalidateWarmupDeletes() {
    return quick ? 3 : 20;
  }

  /** At most this many measured deletes per invalidate cell. */
  int invalidateMaxDeletes() {
    return quick ? 200 : 2_000;
  }

  /**
   * Numbers of subscribed caching clients in the invalidate scenario: 1, 8, 32, 256 and 1,024 (1
   * and 32 with {@code --quick}).
   */
  List<Integer> invalidateLocals() {
    return quick ? List.of(1, 32) : List.of(1, 8, 32, 256, 1024);
  }

  /**
   * The size of {@code system}'s value in the large scenario, at issue 14's sizes: dstore moves 1
   * GiB ({@code 1 << 30} bytes, exactly Global's default {@code --max-value-size}, which accepts a
   * value of that size), Redis and Hazelcast 512 MiB ({@code 512 << 20} = 536,870,912 bytes:
   * Redis's default {@code proto-max-bulk-len}, the largest value its {@code SET} accepts;
   * Hazelcast gets the same so that the two peers compare). With {@code --quick} every system moves
   * 32 MiB. The sizes differ, so rows compare by bytes/s, not by time per get.
   *
   * @throws IllegalArgumentException for a system the large scenario does not run
   */
  int largeValueSize(SystemId system) {
    return switch (system) {
      case DSTORE -> quick ? 32 << 20 : 1 << 30;
      case REDIS, HAZELCAST -> quick ? 32 << 20 : 512 << 20;
      case DSTORE_CLUSTER, CAFFEINE ->
          throw new IllegalArgumentException("the large scenario does not run " + system.id());
    };
  }

  /** Measured put+get rounds of the large scenario (after {@link #largeWarmupRounds()}). */
  int largeRounds() {
    return quick ? 1 : 3;
  }

  int largeWarmupRounds() {
    return quick ? 0 : 1;
  }

  /** Also measure dstore's thin client in remote-get and put (table only). */
  boolean withThinClient() {
    return !quick;
  }

  private Duration scaled(long millis) {
    return Duration.ofNanos(Math.max(1_000_000L, (long) (millis * 1e6 * durationScale)));
  }
}
