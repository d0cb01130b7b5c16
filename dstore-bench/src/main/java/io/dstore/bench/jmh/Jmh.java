package io.dstore.bench.jmh;

import io.dstore.Dstore;
import java.time.Duration;

/** Set-up helpers shared by the benchmarks. */
final class Jmh {
  private Jmh() {}

  /** Waits (up to 30 s) until the Local holds its lease, so cache hits can be served. */
  static void awaitLease(Dstore local) {
    local.awaitReady(Duration.ofSeconds(30));
  }

  /** Reads every key until the Local caches it. */
  static void awaitCached(Dstore local, byte[][] keys) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    for (byte[] k : keys) {
      while (!local.isCached(k)) {
        local.get(k);
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("a key was still not cached after 30 s");
        }
        Thread.sleep(1);
      }
    }
  }
}
