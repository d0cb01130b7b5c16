package io.dstore.bench.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code mixed}: 16 threads, each operation a read (95%) of one of 100,000 preloaded 1 KiB values
 * chosen with Zipf(0.99) skew, or a put (5%) of a new key. Every client's local cache is bounded to
 * 10% of the keys: 10,000 entries for the Hazelcast near cache and the Lettuce client-side map, and
 * for the dstore Local the bytes its cache weighs 10,000 such entries at. Reports throughput and
 * the hit ratio of the local cache over the measured reads.
 */
final class MixedScenario implements ScenarioRunner {
  static final int KEYS = 100_000;
  static final int VALUE_SIZE = 1_024;
  static final int THREADS = 16;
  static final double SKEW = 0.99;
  static final int CACHE_ENTRIES = KEYS / 10;
  private static final int READ_PERCENT = 95;
  private static final int SAMPLE = 1_000;
  private static final long SAMPLE_RSS_LIMIT = 512L << 20;

  @Override
  public void run(BenchContext ctx, List<Result> out) throws InterruptedException {
    ZipfGenerator zipf = new ZipfGenerator(KEYS, SKEW);
    byte[] value = Cells.randomBytes(VALUE_SIZE, 9);
    String prefix = "mx-" + ctx.runId() + "-";
    BenchKey[] keys = BenchKey.range(prefix, KEYS);
    // A fresh Global, so that the memory guard below sees this scenario's data only (a JVM
    // reuses heap that earlier scenarios freed without its resident memory growing).
    ctx.restart(SystemId.DSTORE);
    ctx.with(
        Scenario.MIXED,
        SystemId.DSTORE,
        ctx.dstore(),
        d -> {
          try (KvClient loader = d.thin("bench-mixed-loader")) {
            // Guard: a Global whose storage keeps far more than each value's bytes would run out
            // of memory on 100,000 values and stall the whole run; measure on the first 1,000.
            long before = d.rssBytes().orElse(0);
            Cells.parallel(SAMPLE, 16, i -> loader.put(keys[i], value));
            long grown = d.rssBytes().orElse(0) - before;
            if (grown > SAMPLE_RSS_LIMIT) {
              Cleanup.deleteAll(loader, List.of(keys).subList(0, SAMPLE));
              throw new BenchException(
                  String.format(
                      "the Global's resident memory grew by %d MiB for the first %,d values of %d"
                          + " bytes (%,d bytes per value); %,d values would not fit in memory",
                      grown >> 20, SAMPLE, VALUE_SIZE, grown / SAMPLE, KEYS));
            }
            load(ctx, SystemId.DSTORE, keys, SAMPLE, i -> loader.put(keys[i], value));
          }
          // dstore weighs an entry at value + key + 96 bytes of overhead.
          long bytes = (long) CACHE_ENTRIES * (VALUE_SIZE + keys[KEYS / 2].bytes().length + 96);
          measure(ctx, out, SystemId.DSTORE, d.caching("bench-mixed", bytes), keys, zipf, value);
        });
    ctx.with(
        Scenario.MIXED,
        SystemId.REDIS,
        ctx.redis(),
        r -> {
          try (RedisTarget.RedisClientConn loader = r.plain()) {
            load(ctx, SystemId.REDIS, keys, 0, i -> loader.put(keys[i], value));
          }
          measure(ctx, out, SystemId.REDIS, r.caching(CACHE_ENTRIES), keys, zipf, value);
        });
    ctx.with(
        Scenario.MIXED,
        SystemId.HAZELCAST,
        ctx.hazelcast(),
        h -> {
          String mapName = "mx-" + ctx.runId();
          Map<String, byte[]> batch = new HashMap<>();
          ctx.progress("mixed: hazelcast: loading %d keys", KEYS);
          for (BenchKey k : keys) {
            batch.put(k.text(), value);
            if (batch.size() == 5_000) {
              h.<byte[]>memberMap(mapName).putAll(batch);
              batch.clear();
            }
          }
          h.<byte[]>memberMap(mapName).putAll(batch);
          try (HazelcastTarget.HazelcastClientHandle client =
              h.nearCachedClient("mx-*", CACHE_ENTRIES)) {
            measure(ctx, out, SystemId.HAZELCAST, client.map(mapName), keys, zipf, value);
          }
        });
  }

  /** Loads keys[from..] with {@code put(i)}, 16 at a time. */
  private static void load(
      BenchContext ctx,
      SystemId system,
      BenchKey[] keys,
      int from,
      java.util.function.IntConsumer put) {
    ctx.progress("mixed: %s: loading %d keys", system.id(), keys.length - from);
    try {
      Cells.parallel(keys.length - from, 16, i -> put.accept(from + i));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }

  private static void measure(
      BenchContext ctx,
      List<Result> out,
      SystemId system,
      KvClient client,
      BenchKey[] keys,
      ZipfGenerator zipf,
      byte[] value) {
    try (client) {
      String newPrefix = "mxn-" + ctx.runId() + "-" + system.id() + "-";
      // Prime a freshly connected client (connections, routing tables) before the timed warm-up.
      for (int i = 0; i < 2_000; i++) {
        client.get(keys[i]);
      }
      // Warm-up runs the same mix, so caches fill as they would in a steady state.
      KvClient.CacheCounts[] before = new KvClient.CacheCounts[1];
      LoadRunner.Measurement m =
          LoadRunner.run(
              "mixed-" + system.id(),
              THREADS,
              ctx.settings().warmup().toNanos(),
              ctx.settings().measure().toNanos(),
              1,
              Long.MAX_VALUE,
              t -> {
                SplittableRandom random = new SplittableRandom(1000 + t);
                int[] written = {0};
                return () -> {
                  if (random.nextInt(100) < READ_PERCENT) {
                    if (client.get(keys[zipf.next(random)]) == null) {
                      throw new IllegalStateException("a preloaded key read as absent");
                    }
                  } else {
                    client.put(new BenchKey(newPrefix + t + "-" + written[0]++), value);
                  }
                };
              },
              () -> before[0] = client.cacheCounts());
      Double hit = before[0] == null ? null : client.cacheCounts().ratioSince(before[0]);
      Result r =
          Cells.result(
              Scenario.MIXED,
              system,
              null,
              THREADS,
              VALUE_SIZE,
              m,
              hit,
              false,
              ctx.serverRss(system));
      out.add(r);
      ctx.progress(Cells.describe(r));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }
}
