package io.dstore.bench.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/** Helpers the scenarios share: test data, parallel loading, and building results. */
final class Cells {
  private Cells() {}

  /** {@code size} pseudo-random bytes, the same for the same seed. */
  static byte[] randomBytes(int size, long seed) {
    byte[] b = new byte[size];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  /**
   * Runs {@code body(i)} for i in [0, count) on {@code threads} threads; rethrows the first
   * failure.
   */
  static void parallel(int count, int threads, IntConsumer body) throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> pool = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread thread =
          new Thread(
              () -> {
                int i;
                while (failure.get() == null && (i = next.getAndIncrement()) < count) {
                  try {
                    body.accept(i);
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                  }
                }
              },
              "bench-load-" + t);
      thread.setDaemon(true);
      pool.add(thread);
      thread.start();
    }
    for (Thread t : pool) {
      t.join();
    }
    Throwable e = failure.get();
    if (e != null) {
      throw new BenchException("loading data failed: " + e, e);
    }
  }

  /** A throughput cell's result from its measurement. */
  static Result result(
      Scenario scenario,
      SystemId system,
      String variant,
      int threads,
      long valueSize,
      LoadRunner.Measurement m,
      Double hitRatio,
      boolean bytesMoved,
      Long rss) {
    double ops = m.opsPerSecond();
    return new Result(
        scenario,
        system,
        threads,
        valueSize,
        null,
        ops,
        m.percentileMicros(50),
        m.percentileMicros(99),
        m.percentileMicros(99.9),
        hitRatio,
        bytesMoved ? ops * valueSize : null,
        rss,
        variant,
        Map.of());
  }

  static String describe(Result r) {
    return String.format(
        "  %-10s %-9s %-14s thr=%-2d size=%-9d %12.0f ops/s  p50=%.1f us  p99=%.1f us%s",
        r.scenario().id(),
        r.label(),
        r.locals() != null ? "locals=" + r.locals() : "",
        r.threads(),
        r.valueSize(),
        r.opsPerSecond(),
        r.p50Micros() == null ? Double.NaN : r.p50Micros(),
        r.p99Micros() == null ? Double.NaN : r.p99Micros(),
        r.hitRatio() == null ? "" : String.format("  hit=%.3f", r.hitRatio()));
  }
}
