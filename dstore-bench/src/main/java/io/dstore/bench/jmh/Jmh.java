package io.dstore.bench.jmh;

import io.dstore.Dstore;

/** Set-up helpers shared by the benchmarks. */
final class Jmh {
  private Jmh() {}

  /** Waits (up to 30 s) until the Local holds its lease, so cache hits can be served. */
  static void awaitLease(Dstore local) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!local.stats().leaseValid()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("the Local got no lease from Global within 30 s");
      }
      Thread.sleep(2);
    }
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
