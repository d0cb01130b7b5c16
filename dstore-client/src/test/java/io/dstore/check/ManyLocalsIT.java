package io.dstore.check;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.LocalStats;
import io.dstore.server.Coherence;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thirty-two Locals on one Global, over real sockets. Every strict delete is over on all of them by
 * the time it returns; and after Global is killed and restarted on the same data directory, the
 * Locals keep the entries that are still valid, so the hit ratio right after they reconnect is what
 * it was before. Latencies are printed for the record; the benchmark harness measures them.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ManyLocalsIT {
  private static final int LOCALS = 32;
  private static final int ROUNDS = 200;
  private static final int KEPT_KEYS = 500;
  private static final Duration LEASE = Duration.ofSeconds(2);

  @TempDir Path dataDir;

  @Test
  void deletesReachAll32LocalsBeforeReturningAndARestartCostsNoHits() throws Exception {
    GlobalProcess global = GlobalProcess.start(0, dataDir, Coherence.STRICT, LEASE, 100_000);
    String address = "127.0.0.1:" + global.port();
    List<Dstore> locals = new ArrayList<>();
    try {
      for (int i = 0; i < LOCALS; i++) {
        locals.add(Dstore.connect(address, DstoreOptions.builder().name("local-" + i).build()));
      }
      for (Dstore local : locals) {
        awaitLease(local);
      }
      Dstore writer = locals.get(0);
      long[] deleteNanos = new long[ROUNDS];
      for (int round = 0; round < ROUNDS; round++) {
        byte[] key = ("k" + round).getBytes(UTF_8);
        writer.put(key, ("v" + round).getBytes(UTF_8));
        for (Dstore local : locals) {
          local.get(key);
          assertThat(local.isCached(key)).isTrue();
        }
        Dstore deleter = locals.get(1 + round % (LOCALS - 1));
        long start = System.nanoTime();
        deleter.delete(key);
        deleteNanos[round] = System.nanoTime() - start;
        for (int i = 0; i < LOCALS; i++) {
          assertThat(locals.get(i).isCached(key))
              .as("round %d: Local %d still holds the deleted value", round, i)
              .isFalse();
        }
      }
      Arrays.sort(deleteNanos);
      long lagP99 = locals.stream().mapToLong(l -> l.stats().lagP99Micros()).max().orElse(0);
      System.out.printf(
          "%d Locals, strict deletes: p50 %d us, p99 %d us; invalidation lag p99 (worst Local)"
              + " %d us%n",
          LOCALS, deleteNanos[ROUNDS / 2] / 1000, deleteNanos[ROUNDS * 99 / 100] / 1000, lagP99);

      // Each Local caches the same keys; a restart of Global must not cost them their cache.
      for (int k = 0; k < KEPT_KEYS; k++) {
        writer.put(("kept" + k).getBytes(UTF_8), ("value" + k).getBytes(UTF_8));
      }
      hitRatioOfReadingAll(locals); // the first pass fills the caches
      double before = hitRatioOfReadingAll(locals);
      global.kill();
      global = GlobalProcess.start(global.port(), dataDir, Coherence.STRICT, LEASE, 100_000);
      for (Dstore local : locals) {
        awaitRevalidatedLease(local);
      }
      double after = hitRatioOfReadingAll(locals);
      System.out.printf("hit ratio before the restart %.3f, right after it %.3f%n", before, after);
      assertThat(before).isEqualTo(1.0);
      assertThat(after).as("entries still valid are kept").isGreaterThanOrEqualTo(before - 0.05);
    } finally {
      for (Dstore local : locals) {
        local.close();
      }
      global.close();
    }
  }

  /** Reads every kept key on every Local; the share of reads answered from the cache. */
  private static double hitRatioOfReadingAll(List<Dstore> locals) {
    long hits = 0;
    long reads = 0;
    for (Dstore local : locals) {
      for (int k = 0; k < KEPT_KEYS; k++) {
        if (local.getEntry(("kept" + k).getBytes(UTF_8)).fromCache()) {
          hits++;
        }
        reads++;
      }
    }
    return (double) hits / reads;
  }

  private static void awaitLease(Dstore local) {
    local.awaitReady(Duration.ofSeconds(60));
  }

  private static void awaitRevalidatedLease(Dstore local) {
    await(
        "revalidation and a new lease",
        () -> {
          LocalStats s = local.stats();
          return s.revalidations() >= 1 && s.leaseValid();
        });
  }

  private static void await(String what, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.onSpinWait();
    }
  }
}
