package io.dstore.bench.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;

/**
 * Runs one closed-loop measurement: {@code threads} platform threads each call their own {@link
 * Worker} back to back, first for a warm-up (not counted), then for the measured period.
 *
 * <p>Throughput counts the operations started in the measured period, over the time from its start
 * until the last of them finished. Latency is recorded into one HdrHistogram per thread (merged at
 * the end) for every operation, or for one in {@code sampleEvery} when operations are so short
 * (local cache hits) that reading the clock each time would distort them. An optional cap on the
 * number of measured operations ends the period early (to bound the memory that writes consume); a
 * period ends only once at least one operation was measured.
 *
 * <p>The first exception from any worker stops the run and is rethrown from {@link #run}.
 */
final class LoadRunner {
  private static final int WARMUP = 0;
  private static final int MEASURE = 1;
  private static final int STOP = 2;

  /** One thread's operation; called by that thread only. */
  @FunctionalInterface
  interface Worker {
    void op() throws Exception;
  }

  /** What one run measured. */
  record Measurement(long ops, long elapsedNanos, Histogram latencyNanos) {
    double opsPerSecond() {
      return elapsedNanos <= 0 ? 0 : ops * 1e9 / elapsedNanos;
    }

    /** The latency at {@code percentile} (0..100) in microseconds, or null with no samples. */
    Double percentileMicros(double percentile) {
      if (latencyNanos.getTotalCount() == 0) {
        return null;
      }
      return latencyNanos.getValueAtPercentile(percentile) / 1000.0;
    }
  }

  private volatile int phase = WARMUP;
  private volatile boolean anyMeasured;

  private LoadRunner() {}

  /**
   * @param sampleEvery time one operation in this many (a power of two; 1 times every one)
   * @param maxOps end the measured period after this many operations (Long.MAX_VALUE: no cap)
   * @throws BenchException wrapping the first failure of a worker
   */
  static Measurement run(
      String name,
      int threads,
      long warmupNanos,
      long measureNanos,
      int sampleEvery,
      long maxOps,
      IntFunction<Worker> workers)
      throws InterruptedException {
    return run(name, threads, warmupNanos, measureNanos, sampleEvery, maxOps, workers, () -> {});
  }

  /** As above, calling {@code atMeasureStart} between the warm-up and the measured period. */
  static Measurement run(
      String name,
      int threads,
      long warmupNanos,
      long measureNanos,
      int sampleEvery,
      long maxOps,
      IntFunction<Worker> workers,
      Runnable atMeasureStart)
      throws InterruptedException {
    if (Integer.bitCount(sampleEvery) != 1) {
      throw new IllegalArgumentException("sampleEvery must be a power of two: " + sampleEvery);
    }
    return new LoadRunner()
        .execute(
            name, threads, warmupNanos, measureNanos, sampleEvery, maxOps, workers, atMeasureStart);
  }

  private Measurement execute(
      String name,
      int threads,
      long warmupNanos,
      long measureNanos,
      int sampleEvery,
      long maxOps,
      IntFunction<Worker> workers,
      Runnable atMeasureStart)
      throws InterruptedException {
    long mask = sampleEvery - 1L;
    boolean capped = maxOps != Long.MAX_VALUE;
    AtomicLong measuredTotal = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch stopEarly = new CountDownLatch(1);
    CountDownLatch ready = new CountDownLatch(threads);
    long[] ops = new long[threads];
    long[] lastEnd = new long[threads];
    Histogram[] histograms = new Histogram[threads];
    List<Thread> pool = new ArrayList<>(threads);
    for (int t = 0; t < threads; t++) {
      int index = t;
      Worker w = workers.apply(t);
      Histogram h = new Histogram(3);
      h.setAutoResize(true);
      histograms[t] = h;
      Thread thread =
          new Thread(
              () -> {
                ready.countDown();
                long n = 0;
                long count = 0;
                try {
                  while (true) {
                    int p = phase;
                    if (p == STOP) {
                      break;
                    }
                    if (p == WARMUP) {
                      w.op();
                      continue;
                    }
                    if ((n++ & mask) == 0) {
                      long t0 = System.nanoTime();
                      w.op();
                      h.recordValue(System.nanoTime() - t0);
                    } else {
                      w.op();
                    }
                    if (count++ == 0) {
                      anyMeasured = true;
                    }
                    if (capped && measuredTotal.incrementAndGet() >= maxOps) {
                      stopEarly.countDown();
                      break;
                    }
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                  stopEarly.countDown();
                }
                ops[index] = count;
                // Just after its last operation ended; a thread whose operations all began in the
                // warm-up (one longer than the warm-up itself) must not stretch the period.
                lastEnd[index] = count > 0 ? System.nanoTime() : 0;
              },
              "bench-" + name + "-" + t);
      thread.setDaemon(true);
      pool.add(thread);
    }
    pool.forEach(Thread::start);
    long start = 0;
    try {
      ready.await();
      if (!stopEarly.await(warmupNanos, TimeUnit.NANOSECONDS)) {
        atMeasureStart.run();
        start = System.nanoTime();
        phase = MEASURE;
        stopEarly.await(measureNanos, TimeUnit.NANOSECONDS);
        // A period too short for even one operation measures nothing: wait for one (up to 30 s).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!anyMeasured && failure.get() == null && System.nanoTime() - deadline < 0) {
          stopEarly.await(1, TimeUnit.MILLISECONDS);
        }
      }
    } finally {
      phase = STOP;
      for (Thread t : pool) {
        t.join(TimeUnit.MINUTES.toMillis(5));
      }
    }
    Throwable e = failure.get();
    if (e != null) {
      throw new BenchException(name + " failed: " + e, e);
    }
    long total = 0;
    long finish = start;
    Histogram merged = new Histogram(3);
    merged.setAutoResize(true);
    for (int t = 0; t < threads; t++) {
      total += ops[t];
      finish = Math.max(finish, lastEnd[t]);
      merged.add(histograms[t]);
    }
    return new Measurement(total, finish - start, merged);
  }
}
