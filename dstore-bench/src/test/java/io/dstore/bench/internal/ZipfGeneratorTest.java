package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZipfGeneratorTest {
  private static final int SAMPLES = 1_000_000;

  private static long[] histogram(ZipfGenerator zipf, long seed) {
    long[] counts = new long[zipf.size()];
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < SAMPLES; i++) {
      counts[zipf.next(random)]++;
    }
    return counts;
  }

  /** The generalized harmonic number H(n, s) = sum of 1/k^s for k = 1..n. */
  private static double harmonic(int n, double s) {
    double h = 0;
    for (int k = 1; k <= n; k++) {
      h += Math.pow(k, -s);
    }
    return h;
  }

  @Test
  void probabilitiesFollowZipfsLawAndSumToOne() {
    ZipfGenerator zipf = new ZipfGenerator(100_000, 0.99);
    double h = harmonic(100_000, 0.99);

    assertThat(zipf.probability(0)).isCloseTo(1 / h, within(1e-12));
    assertThat(zipf.probability(9)).isCloseTo(Math.pow(10, -0.99) / h, within(1e-12));
    double sum = 0;
    for (int k = 0; k < zipf.size(); k++) {
      sum += zipf.probability(k);
    }
    assertThat(sum).isCloseTo(1.0, within(1e-9));
  }

  @Test
  void sampleFrequenciesMatchTheProbabilities() {
    ZipfGenerator zipf = new ZipfGenerator(100_000, 0.99);

    long[] counts = histogram(zipf, 42);

    // The head: within 5% of the expected count (several thousand samples each).
    for (int rank : new int[] {0, 1, 2, 9, 99}) {
      double expected = zipf.probability(rank) * SAMPLES;
      assertThat((double) counts[rank])
          .as("rank %d", rank)
          .isCloseTo(expected, within(0.05 * expected));
    }
    // Rank 0 over rank 1 is 2^0.99.
    assertThat((double) counts[0] / counts[1]).isCloseTo(Math.pow(2, 0.99), within(0.05));
    // The top 10% of the keys take the share the distribution gives them (about 82% at s=0.99).
    long top = 0;
    double expectedTop = 0;
    for (int k = 0; k < 10_000; k++) {
      top += counts[k];
      expectedTop += zipf.probability(k);
    }
    assertThat((double) top / SAMPLES).isCloseTo(expectedTop, within(0.005));
    assertThat(expectedTop).isBetween(0.75, 0.90);
  }

  @Test
  void drawsOnlyValidRanksAndReachesTheTail() {
    ZipfGenerator zipf = new ZipfGenerator(1_000, 0.99);

    long[] counts = histogram(zipf, 7);

    long total = 0;
    for (long c : counts) {
      total += c;
    }
    assertThat(total).isEqualTo(SAMPLES); // every draw landed in [0, n)
    assertThat(counts[999]).isPositive();
  }

  @Test
  void isReproducibleForASeed() {
    ZipfGenerator zipf = new ZipfGenerator(100_000, 0.99);
    SplittableRandom a = new SplittableRandom(123);
    SplittableRandom b = new SplittableRandom(123);
    SplittableRandom c = new SplittableRandom(124);

    int[] first = new int[1000];
    int[] second = new int[1000];
    int[] other = new int[1000];
    for (int i = 0; i < 1000; i++) {
      first[i] = zipf.next(a);
      second[i] = zipf.next(b);
      other[i] = zipf.next(c);
    }

    assertThat(second).containsExactly(first);
    assertThat(other).isNotEqualTo(first);
  }

  @Test
  void exponentZeroIsUniform() {
    ZipfGenerator uniform = new ZipfGenerator(10, 0);

    long[] counts = histogram(uniform, 1);

    for (long c : counts) {
      assertThat((double) c).isCloseTo(SAMPLES / 10.0, within(0.02 * SAMPLES / 10.0));
    }
  }

  @Test
  void refusesBadParameters() {
    assertThatThrownBy(() -> new ZipfGenerator(0, 0.99)).hasMessageContaining("n >= 1");
    assertThatThrownBy(() -> new ZipfGenerator(10, -1)).hasMessageContaining(">= 0");
    assertThatThrownBy(() -> new ZipfGenerator(10, Double.NaN)).hasMessageContaining(">= 0");
  }
}
