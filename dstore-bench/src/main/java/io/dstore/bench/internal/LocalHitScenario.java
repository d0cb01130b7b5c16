package io.dstore.bench.internal;

import io.dstore.DstoreOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code local-hit}: uniform random reads of 1,000 keys of 100 bytes that every client already
 * holds in its local cache: a dstore Local, a Hazelcast client's near cache, Lettuce client-side
 * caching, and raw Caffeine as the ceiling. Threads: 1 and 2 (the machine's cores; more only
 * measures the scheduler). One read in 16 is timed, so the clock does not dominate.
 *
 * <p>Like is compared with like, twice. The main rows read the cached bytes without a copy:
 * dstore's {@code getBuffer} (a read-only view), the array Caffeine and Lettuce hold. The {@code
 * -copy} rows (table only) give the caller an array of its own: dstore's {@code get}, and the
 * peers' cached array copied. Hazelcast has no {@code -copy} row: its near cache deserializes a
 * fresh array on every read, so its main row already copies.
 *
 * <p>Each system is measured in a fresh JVM ({@link LocalHitChild}), against the servers this run
 * started, so that no system's JIT profile is polluted by another's.
 */
final class LocalHitScenario implements ScenarioRunner {
  static final int KEYS = 1_000;
  static final int VALUE_SIZE = 100;
  static final int[] THREADS = {1, 2};
  static final long CACHE_BYTES = DstoreOptions.DEFAULT_CACHE_SIZE;
  static final int CACHE_ENTRIES = 100_000;

  /** The table label of {@code system}'s copying read. */
  static String copy(SystemId system) {
    return system.id() + "-copy";
  }

  @Override
  public void run(BenchContext ctx, List<Result> out) throws InterruptedException {
    for (SystemId system : SystemId.values()) {
      Optional<String> endpoint =
          switch (system) {
            case DSTORE -> ctx.dstore().map(DstoreTarget::address);
            case REDIS -> ctx.redis().map(r -> Integer.toString(r.port()));
            case HAZELCAST -> ctx.hazelcast().map(HazelcastTarget::endpoint);
            case CAFFEINE -> Optional.of("-");
            case DSTORE_CLUSTER -> Optional.empty(); // the cluster scenario's own
          };
      ctx.with(
          Scenario.LOCAL_HIT,
          system,
          endpoint,
          e -> {
            for (Result r : inChild(ctx, system, e)) {
              Result withRss = r.withServerRss(ctx.serverRss(system));
              out.add(withRss);
              ctx.progress(Cells.describe(withRss));
            }
          });
    }
  }

  private static List<Result> inChild(BenchContext ctx, SystemId system, String endpoint)
      throws InterruptedException {
    List<String> command =
        ChildJvm.command(
            LocalHitChild.class,
            List.of(
                system.id(),
                endpoint,
                Long.toString(ctx.settings().warmup().toNanos()),
                Long.toString(ctx.settings().measure().toNanos()),
                ctx.runId()));
    ctx.progress("local-hit: %s: measuring in a child JVM", system.id());
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw new BenchException("cannot start a child JVM: " + e.getMessage(), e);
    }
    try {
      closeQuietly(process);
      Thread errors =
          new Thread(
              () -> {
                try (BufferedReader err =
                    new BufferedReader(
                        new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = err.readLine()) != null) {
                    ctx.progress("  [%s] %s", system.id(), line);
                  }
                } catch (IOException e) {
                  // the child is gone
                }
              },
              "bench-child-stderr");
      errors.setDaemon(true);
      errors.start();
      List<Result> results = new ArrayList<>();
      try (BufferedReader in =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          if (line.startsWith(LocalHitChild.RESULT_LINE)) {
            results.add(LocalHitChild.parse(line));
          }
        }
      } catch (IOException e) {
        throw new BenchException(
            "lost the output of the local-hit child JVM: " + e.getMessage(), e);
      }
      if (!process.waitFor(5, TimeUnit.MINUTES)) {
        throw new BenchException("the local-hit child JVM for " + system.id() + " did not exit");
      }
      errors.join(5_000);
      if (process.exitValue() != 0 || results.isEmpty()) {
        throw new BenchException(
            "the local-hit child JVM for "
                + system.id()
                + " failed (exit code "
                + process.exitValue()
                + "); its stderr is above");
      }
      return results;
    } finally {
      Procs.stop(process, 2000);
    }
  }

  private static void closeQuietly(Process process) {
    try {
      process.getOutputStream().close(); // the child reads nothing
    } catch (IOException e) {
      // already closed
    }
  }

  /**
   * Loads the keys, caches them, and measures each thread count; in the child JVM. Closes {@code
   * client}.
   */
  static List<Result> measure(
      SystemId system,
      KvClient client,
      String runId,
      long warmupNanos,
      long measureNanos,
      PrintWriter log)
      throws InterruptedException {
    BenchKey[] keys = BenchKey.range("lh-" + runId + "-", KEYS);
    byte[] value = Cells.randomBytes(VALUE_SIZE, 1);
    List<Result> results = new ArrayList<>();
    try (client) {
      log.printf("loading and caching %d keys%n", keys.length);
      for (BenchKey k : keys) {
        client.put(k, value);
      }
      warmCache(client, keys);
      for (boolean copying : new boolean[] {false, true}) {
        if (copying && system == SystemId.HAZELCAST) {
          continue; // its main row already copies (see above)
        }
        for (int threads : THREADS) {
          KvClient.CacheCounts[] before = new KvClient.CacheCounts[1];
          LoadRunner.Measurement m =
              LoadRunner.run(
                  "local-hit-" + (copying ? copy(system) : system.id()),
                  threads,
                  warmupNanos,
                  measureNanos,
                  16,
                  Long.MAX_VALUE,
                  t -> reader(client, keys, copying, t),
                  () -> before[0] = client.cacheCounts());
          // Caffeine keeps no statistics here; every read returned a value, so all were hits.
          Double hit = before[0] == null ? 1.0 : client.cacheCounts().ratioSince(before[0]);
          results.add(
              Cells.result(
                  Scenario.LOCAL_HIT,
                  system,
                  copying ? copy(system) : null,
                  threads,
                  VALUE_SIZE,
                  m,
                  hit,
                  false,
                  null));
        }
      }
    }
    return results;
  }

  /**
   * One thread's reads. A copy is kept in a field until the next read, so the JIT cannot drop it as
   * unused.
   */
  private static LoadRunner.Worker reader(
      KvClient client, BenchKey[] keys, boolean copying, int thread) {
    SplittableRandom random = new SplittableRandom(42 + thread);
    if (!copying) {
      return () -> {
        if (!client.read(keys[random.nextInt(keys.length)])) {
          throw new IllegalStateException("a cached key read as absent");
        }
      };
    }
    byte[][] kept = new byte[1][];
    return () -> {
      kept[0] = client.readCopy(keys[random.nextInt(keys.length)]);
      if (kept[0] == null) {
        throw new IllegalStateException("a cached key read as absent");
      }
    };
  }

  /** Reads every key until the client's local cache holds it (a put need not cache it). */
  static void warmCache(KvClient client, BenchKey[] keys) {
    List<BenchKey> missing = new ArrayList<>(List.of(keys));
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!missing.isEmpty()) {
      List<BenchKey> still = new ArrayList<>();
      for (BenchKey k : missing) {
        if (client.get(k) == null) {
          throw new BenchException("key " + k + " vanished while warming the cache");
        }
        if (!client.isCached(k)) {
          still.add(k);
        }
      }
      missing = still;
      if (!missing.isEmpty() && System.nanoTime() - deadline > 0) {
        throw new BenchException(
            missing.size() + " keys were still not cached locally after 30 s of reads");
      }
    }
  }
}
