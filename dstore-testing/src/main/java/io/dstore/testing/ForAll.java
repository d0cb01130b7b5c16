package io.dstore.testing;

import java.util.Random;
import java.util.function.Function;

/**
 * A small property-test runner for JUnit tests: draws a fixed number of inputs from a generator and
 * checks each one. The inputs come from one seed, so a failure can be replayed exactly: the error
 * names the seed, the try and the input, and {@code -Ddstore.seed=N} reruns with that seed. Without
 * it each run takes a new seed, so every build explores new inputs.
 *
 * <p>There is no shrinking: generators should favour small and boundary inputs, so that a failing
 * input is already short enough to read.
 */
public final class ForAll {
  /** System property that fixes the seed, to replay a failure. */
  public static final String SEED_PROPERTY = "dstore.seed";

  private ForAll() {}

  /** A check that may throw, as test code does. */
  @FunctionalInterface
  public interface Check<T> {
    void check(T input) throws Exception;
  }

  /**
   * Checks {@code tries} inputs drawn from {@code generator}. Try {@code i} draws from its own
   * {@link Random}, derived from the seed and {@code i}, so one try's input does not depend on how
   * much the tries before it drew.
   *
   * @throws AssertionError on the first input that fails, naming seed, try and input
   */
  public static <T> void check(int tries, Function<Random, T> generator, Check<T> check) {
    long seed = seed();
    for (int i = 0; i < tries; i++) {
      T input = generator.apply(new Random(mix(seed, i)));
      try {
        check.check(input);
      } catch (Exception | AssertionError e) {
        throw new AssertionError(
            "property failed on try "
                + (i + 1)
                + " of "
                + tries
                + " (seed "
                + seed
                + ", replay with -D"
                + SEED_PROPERTY
                + "="
                + seed
                + ") for input "
                + input
                + ": "
                + e.getMessage(),
            e);
      }
    }
  }

  private static long seed() {
    String fixed = System.getProperty(SEED_PROPERTY);
    if (fixed != null && !fixed.isBlank()) {
      try {
        return Long.parseLong(fixed.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(SEED_PROPERTY + " is not a number: " + fixed, e);
      }
    }
    return new Random().nextLong();
  }

  /** SplitMix64's finaliser: neighbouring tries get unrelated streams. */
  private static long mix(long seed, int i) {
    long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
