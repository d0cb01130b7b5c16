package io.dstore.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.LocalStats;
import io.dstore.server.Coherence;
import io.dstore.testing.TcpProxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many clients on several Locals run random put/get/delete on a small key space over real sockets,
 * while faults are injected: Global killed (SIGKILL) and restarted on the same RocksDB directory,
 * Locals cut off or frozen by a TCP proxy, acknowledgements held back. Every operation is recorded
 * with its invoke and return times and the history of each key is checked: linearizable in strict
 * mode; in eventual mode, no read older than the staleness bound.
 *
 * <p>The run is a fixed number of operations, seeded ({@code -Ddstore.check.seed}, printed on
 * failure); {@code -Ddstore.check.ops} changes the count.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class CoherenceCheckIT {
  private static final Duration LEASE = Duration.ofMillis(500);
  private static final int LOCALS = 4;
  private static final int THREADS_PER_LOCAL = 4;
  private static final int KEYS = 8;
  // Small enough that a Local cut off for a while finds the log moved on and must revalidate,
  // large enough that a short cut is replayed: both recovery paths run.
  private static final int INVALIDATION_LOG = 32;

  @TempDir Path dataDir;

  @Test
  void strictModeHistoriesAreLinearizableUnderFaults() throws Exception {
    long seed = Long.getLong("dstore.check.seed", System.nanoTime());
    int ops = Integer.getInteger("dstore.check.ops", 100_000);
    Run run = new Run(seed, Coherence.STRICT, ops);
    run.execute();
    run.report();
    for (Map.Entry<String, List<Op>> key : run.history.byKey().entrySet()) {
      Optional<String> violation = LinearizabilityChecker.check(key.getValue());
      violation.ifPresent(v -> dump(seed, key.getKey(), key.getValue()));
      assertThat(violation)
          .as(
              "seed %d, key %s, %d operations: %s",
              seed, key.getKey(), key.getValue().size(), violation.orElse(""))
          .isEmpty();
    }
  }

  @Test
  void eventualModeServesNothingStalerThanTheBound() throws Exception {
    long seed = Long.getLong("dstore.check.seed", System.nanoTime());
    int ops = Integer.getInteger("dstore.check.eventual.ops", 30_000);
    Run run = new Run(seed, Coherence.EVENTUAL, ops);
    run.execute();
    run.report();
    // A read may reflect the state as it was up to the bound before it was invoked: the
    // invalidation lag measured by the Locals, or a lease when a Local was cut off. A put refused
    // as EXISTS is a read too: a Local answers it from its cache.
    long maxLagMicros = run.stats.stream().mapToLong(LocalStats::lagMaxMicros).max().orElse(0);
    long boundNanos =
        Math.max(LEASE.toNanos(), maxLagMicros * 1_000) + TimeUnit.MILLISECONDS.toNanos(20);
    for (Map.Entry<String, List<Op>> key : run.history.byKey().entrySet()) {
      List<Op> relaxed = new ArrayList<>();
      for (Op op : key.getValue()) {
        relaxed.add(
            op.kind() == Op.Kind.GET || op.outcome() == Op.Outcome.EXISTS
                ? new Op(
                    op.client(),
                    op.kind(),
                    op.value(),
                    op.outcome(),
                    op.invoke() - boundNanos,
                    op.response())
                : op);
      }
      Optional<String> violation = LinearizabilityChecker.check(relaxed);
      violation.ifPresent(v -> dump(seed, key.getKey(), key.getValue()));
      assertThat(violation)
          .as(
              "seed %d, key %s, bound %d us: %s",
              seed, key.getKey(), boundNanos / 1000, violation.orElse(""))
          .isEmpty();
    }
    System.out.printf(
        "eventual: staleness bound %d us (max invalidation lag %d us)%n",
        boundNanos / 1000, maxLagMicros);
  }

  /** Writes a key's whole history, sorted by invocation, next to the test reports. */
  private static void dump(long seed, String key, List<Op> ops) {
    List<Op> sorted = new ArrayList<>(ops);
    sorted.sort(java.util.Comparator.comparingLong(Op::invoke));
    Path file = Path.of("target", "coherence-check-" + seed + "-" + key + ".txt");
    try {
      java.nio.file.Files.write(file, sorted.stream().map(Op::toString).toList());
      System.out.println("history of " + key + " written to " + file.toAbsolutePath());
    } catch (java.io.IOException e) {
      System.out.println("could not write " + file + ": " + e);
    }
  }

  /** One seeded run: a Global child process, proxies, Locals, clients and a fault schedule. */
  private final class Run {
    final long seed;
    final Coherence coherence;
    final int totalOps;
    final HistoryRecorder history = new HistoryRecorder();
    final List<LocalStats> stats = new ArrayList<>();
    final AtomicInteger restarts = new AtomicInteger();
    final AtomicInteger partitions = new AtomicInteger();
    final AtomicInteger stalls = new AtomicInteger();
    final AtomicInteger slowAcks = new AtomicInteger();
    long elapsedNanos;

    Run(long seed, Coherence coherence, int totalOps) {
      this.seed = seed;
      this.coherence = coherence;
      this.totalOps = totalOps;
    }

    void execute() throws Exception {
      System.out.printf("coherence check: %s, seed %d, %d operations%n", coherence, seed, totalOps);
      Random faults = new Random(seed);
      GlobalProcess[] global = {
        GlobalProcess.start(0, dataDir, coherence, LEASE, INVALIDATION_LOG)
      };
      int port = global[0].port();
      List<TcpProxy> proxies = new ArrayList<>();
      List<Dstore> locals = new ArrayList<>();
      ExecutorService clients = Executors.newFixedThreadPool(LOCALS * THREADS_PER_LOCAL);
      try {
        for (int i = 0; i < LOCALS; i++) {
          TcpProxy proxy = new TcpProxy(port);
          proxies.add(proxy);
          locals.add(
              Dstore.connect(
                  proxy.address(),
                  DstoreOptions.builder()
                      .name("check-" + i)
                      .requestTimeout(Duration.ofSeconds(2))
                      .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(200))
                      .build()));
        }
        AtomicLong issued = new AtomicLong();
        long start = System.nanoTime();
        List<Future<?>> running = new ArrayList<>();
        for (int l = 0; l < LOCALS; l++) {
          for (int t = 0; t < THREADS_PER_LOCAL; t++) {
            Dstore local = locals.get(l);
            String client = "L" + l + "T" + t;
            Random random = new Random(seed * 31 + l * 7L + t);
            running.add(clients.submit(() -> work(client, local, random, issued)));
          }
        }
        // Faults until the clients are done.
        while (running.stream().anyMatch(f -> !f.isDone())) {
          injectFault(faults, proxies, global, port);
        }
        for (Future<?> f : running) {
          f.get();
        }
        elapsedNanos = System.nanoTime() - start;
        for (Dstore local : locals) {
          stats.add(local.stats());
        }
      } finally {
        clients.shutdownNow();
        for (Dstore l : locals) {
          l.close();
        }
        for (TcpProxy p : proxies) {
          p.close();
        }
        global[0].close();
      }
    }

    private void work(String client, Dstore local, Random random, AtomicLong issued) {
      int n = 0;
      boolean probing = false;
      while (issued.incrementAndGet() <= totalOps) {
        if (HistoryRecorder.LAST_FAILED.get()) {
          // A client whose call failed backs off, then only reads until a read succeeds, as
          // careful clients do: a cut-off Local neither burns the operation budget in a few
          // fast-failing milliseconds nor piles up writes whose outcome nobody knows.
          HistoryRecorder.LAST_FAILED.set(false);
          probing = true;
          try {
            Thread.sleep(20 + random.nextInt(30));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        } else if (probing) {
          probing = false; // the last call (a read) succeeded
        }
        String key = "key" + random.nextInt(KEYS);
        int dice = probing ? 0 : random.nextInt(100);
        if (dice < 60) {
          history.get(client, local, key);
        } else if (dice < 80) {
          history.put(client, local, key, client + "-" + n++);
        } else {
          history.delete(client, local, key);
        }
      }
    }

    private void injectFault(
        Random faults, List<TcpProxy> proxies, GlobalProcess[] global, int port) throws Exception {
      Thread.sleep(50 + faults.nextInt(150)); // the gap between faults is part of the workload
      int dice = faults.nextInt(100);
      TcpProxy proxy = proxies.get(faults.nextInt(proxies.size()));
      long holdMillis = LEASE.toMillis() / 2 + faults.nextInt((int) LEASE.toMillis() * 2);
      if (dice < 6) {
        restarts.incrementAndGet();
        global[0].kill();
        global[0] = GlobalProcess.start(port, dataDir, coherence, LEASE, INVALIDATION_LOG);
      } else if (dice < 24) {
        partitions.incrementAndGet();
        proxy.drop();
        Thread.sleep(holdMillis);
        proxy.pass();
      } else if (dice < 44) {
        stalls.incrementAndGet();
        proxy.stall(true, true);
        Thread.sleep(holdMillis);
        proxy.pass();
      } else if (dice < 64) {
        slowAcks.incrementAndGet();
        proxy.stall(true, false);
        Thread.sleep(50 + faults.nextInt(200));
        proxy.pass();
      }
    }

    void report() {
      long hits = stats.stream().mapToLong(LocalStats::cacheHits).sum();
      long misses = stats.stream().mapToLong(LocalStats::cacheMisses).sum();
      System.out.printf(
          "%s: %d ops recorded in %.1f s; faults: %d Global kills, %d partitions, %d stalls, %d slow-ack"
              + " spells; hits %d, misses %d; gaps %d, replays %d, revalidations %d, reconnects %d%n",
          coherence,
          history.size(),
          elapsedNanos / 1e9,
          restarts.get(),
          partitions.get(),
          stalls.get(),
          slowAcks.get(),
          hits,
          misses,
          stats.stream().mapToLong(LocalStats::gapsDetected).sum(),
          stats.stream().mapToLong(LocalStats::replays).sum(),
          stats.stream().mapToLong(LocalStats::revalidations).sum(),
          stats.stream().mapToLong(LocalStats::reconnects).sum());
      System.out.println("failed calls: " + history.failures());
    }
  }
}
