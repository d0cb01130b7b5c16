package io.dstore.server.internal.cluster;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Latency of the cluster store's calls to etcd and S3, by operation ({@code etcd.get}, {@code
 * s3.put}, ...): how many, how long in total, the longest, and how many failed. The gateway
 * publishes them on /metrics. Thread-safe; recording is a few atomic adds.
 */
public final class ClusterStats {
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();

  /** The timer of {@code operation}, created on first use. */
  public Timer timer(String operation) {
    return timers.computeIfAbsent(operation, k -> new Timer());
  }

  /** Every timer so far, by operation name, sorted. */
  public Map<String, Timer> timers() {
    return new TreeMap<>(timers);
  }

  /** Count, total and maximum duration of one operation. Thread-safe. */
  public static final class Timer {
    private final LongAdder count = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder totalNanos = new LongAdder();
    private final AtomicLong maxNanos = new AtomicLong();

    /** Records one call that took {@code nanos} and succeeded or not. */
    public void record(long nanos, boolean failed) {
      count.increment();
      if (failed) {
        failures.increment();
      }
      totalNanos.add(nanos);
      maxNanos.accumulateAndGet(nanos, Math::max);
    }

    public long count() {
      return count.sum();
    }

    public long failures() {
      return failures.sum();
    }

    public long totalNanos() {
      return totalNanos.sum();
    }

    public long maxNanos() {
      return maxNanos.get();
    }

    @Override
    public String toString() {
      long n = count();
      return n
          + " calls ("
          + failures()
          + " failed), mean "
          + (n == 0 ? 0 : totalNanos() / n / 1000)
          + " µs, max "
          + maxNanos() / 1000
          + " µs";
    }
  }
}
