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

  private volatile io.micrometer.core.instrument.MeterRegistry registry;

  /** The timer of {@code operation}, created on first use. */
  public Timer timer(String operation) {
    Timer t = timers.get(operation);
    if (t == null) {
      Timer fresh = new Timer();
      t = timers.putIfAbsent(operation, fresh);
      if (t == null) {
        t = fresh;
        publish(operation, t);
      }
    }
    return t;
  }

  /**
   * Publishes every timer, now and as they are created, in {@code registry}: {@code
   * dstore.cluster.calls} (a timer, tagged {@code system} etcd or s3 and {@code operation}) and
   * {@code dstore.cluster.call.failures}.
   */
  public void bind(io.micrometer.core.instrument.MeterRegistry registry) {
    this.registry = registry;
    timers.forEach(this::publish);
  }

  private void publish(String operation, Timer t) {
    io.micrometer.core.instrument.MeterRegistry r = registry;
    if (r == null) {
      return;
    }
    int dot = operation.indexOf('.');
    String system = dot > 0 ? operation.substring(0, dot) : operation;
    String op = dot > 0 ? operation.substring(dot + 1) : operation;
    io.micrometer.core.instrument.FunctionTimer.builder(
            "dstore.cluster.calls",
            t,
            Timer::count,
            x -> (double) x.totalNanos(),
            java.util.concurrent.TimeUnit.NANOSECONDS)
        .tags("system", system, "operation", op)
        .description("calls of the cluster store to etcd and S3, and their total time")
        .register(r);
    io.micrometer.core.instrument.FunctionCounter.builder(
            "dstore.cluster.call.failures", t, x -> (double) x.failures())
        .tags("system", system, "operation", op)
        .register(r);
    io.micrometer.core.instrument.Gauge.builder(
            "dstore.cluster.call.max", t, x -> x.maxNanos() / 1e9)
        .tags("system", system, "operation", op)
        .description("the longest call so far, in seconds")
        .register(r);
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
