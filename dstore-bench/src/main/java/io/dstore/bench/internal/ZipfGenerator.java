package io.dstore.bench.internal;

import java.util.SplittableRandom;

/**
 * Draws ranks 0 .. n-1 with Zipf probabilities: rank {@code k} has weight {@code 1 / (k + 1)^s}, so
 * rank 0 is the most popular. Built once (an O(n) table of cumulative probabilities), then each
 * draw is a binary search over it, O(log n).
 *
 * <p>Immutable and thread-safe; the randomness comes from the caller's generator, so a seeded
 * {@link SplittableRandom} gives a reproducible sequence and each thread can use its own.
 */
final class ZipfGenerator {
  private final double[] cumulative;
  private final double exponent;

  /**
   * @param n the number of ranks, at least 1
   * @param exponent the skew {@code s}, at least 0 (0 is uniform; YCSB's default is 0.99)
   */
  ZipfGenerator(int n, double exponent) {
    if (n < 1) {
      throw new IllegalArgumentException("a Zipf distribution needs n >= 1, got " + n);
    }
    if (!(exponent >= 0) || Double.isInfinite(exponent)) {
      throw new IllegalArgumentException("Zipf exponent must be finite and >= 0, got " + exponent);
    }
    this.exponent = exponent;
    this.cumulative = new double[n];
    double sum = 0;
    for (int k = 0; k < n; k++) {
      sum += Math.pow(k + 1, -exponent);
      cumulative[k] = sum;
    }
    for (int k = 0; k < n; k++) {
      cumulative[k] /= sum;
    }
    cumulative[n - 1] = 1.0; // no rounding gap at the top
  }

  /** The number of ranks. */
  int size() {
    return cumulative.length;
  }

  double exponent() {
    return exponent;
  }

  /** The probability of drawing {@code rank}. */
  double probability(int rank) {
    return rank == 0 ? cumulative[0] : cumulative[rank] - cumulative[rank - 1];
  }

  /** Draws a rank in [0, n). */
  int next(SplittableRandom random) {
    double u = random.nextDouble(); // [0, 1)
    int lo = 0;
    int hi = cumulative.length - 1;
    while (lo < hi) { // first index whose cumulative probability exceeds u
      int mid = (lo + hi) >>> 1;
      if (cumulative[mid] > u) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }
}
