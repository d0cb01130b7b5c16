package io.dstore.internal;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAccumulator;

/**
 * A lock-free histogram of non-negative durations in microseconds, precise to about 6% (log2
 * buckets split into 16 linear sub-buckets), for percentiles in stats. Fixed size: 1 KiB of
 * counters whatever is recorded.
 */
final class LatencyHistogram {
  private static final int SUB = 16;
  private static final int GROUPS = 40;
  private final AtomicLongArray counts = new AtomicLongArray(GROUPS * SUB);
  private final LongAccumulator max = new LongAccumulator(Math::max, 0);

  void record(long micros) {
    long v = Math.max(0, micros);
    counts.incrementAndGet(index(v));
    max.accumulate(v);
  }

  long max() {
    return max.get();
  }

  /** The value at quantile {@code q} (0..1): an upper bound of its bucket; 0 when empty. */
  long percentile(double q) {
    long total = 0;
    for (int i = 0; i < counts.length(); i++) {
      total += counts.get(i);
    }
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < counts.length(); i++) {
      seen += counts.get(i);
      if (seen >= rank) {
        return Math.min(upperBound(i), max.get());
      }
    }
    return max.get();
  }

  private static int index(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int group = 63 - Long.numberOfLeadingZeros(v) - 4; // v >>> group is in [16, 32)
    int sub = (int) (v >>> group) - SUB;
    int i = (group + 1) * SUB + sub;
    return Math.min(i, GROUPS * SUB - 1);
  }

  private static long upperBound(int index) {
    if (index < SUB) {
      return index;
    }
    int group = index / SUB - 1;
    int sub = index % SUB;
    return ((long) (SUB + sub + 1) << group) - 1;
  }
}
