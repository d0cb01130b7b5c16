package io.dstore.bench.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * {@code remote-get} and {@code put}: operations that must reach the server, with 100-byte and 64
 * KiB values, from 1 and 16 threads sharing one client. Reads pick uniformly among 1,000 preloaded
 * keys; no client caches (a dstore Local with a zero-byte cache, a plain Lettuce connection, a
 * Hazelcast client without a near cache). Writes create new keys. In a full run dstore's thin
 * client ({@code coherentCache(false)}) is measured too and shown in the table as {@code
 * dstore-thin} (not in the JSON, whose system names are fixed).
 *
 * <p>Writes are capped at 256 MiB of measured values per cell, and every key a cell wrote is
 * deleted after it (not measured), so that servers do not run out of memory.
 */
final class RemoteScenario implements ScenarioRunner {
  static final int[] VALUE_SIZES = {100, 64 << 10};
  static final int[] THREADS = {1, 16};
  static final int KEYS = 1_000;

  /** The thin client's table label. */
  static final String THIN = "dstore-thin";

  private static final long PUT_BYTES_CAP = 256L << 20;

  private final boolean puts;

  RemoteScenario(boolean puts) {
    this.puts = puts;
  }

  private Scenario scenario() {
    return puts ? Scenario.PUT : Scenario.REMOTE_GET;
  }

  @Override
  public void run(BenchContext ctx, List<Result> out) throws InterruptedException {
    String id = scenario().id();
    ctx.with(
        scenario(),
        SystemId.DSTORE,
        ctx.dstore(),
        d -> {
          measure(ctx, out, SystemId.DSTORE, null, () -> d.uncached("bench-" + id));
          if (ctx.settings().withThinClient()) {
            measure(ctx, out, SystemId.DSTORE, THIN, () -> d.thin("bench-" + id + "-thin"));
          }
        });
    ctx.with(
        scenario(),
        SystemId.REDIS,
        ctx.redis(),
        r -> measure(ctx, out, SystemId.REDIS, null, r::plain));
    ctx.with(
        scenario(),
        SystemId.HAZELCAST,
        ctx.hazelcast(),
        h -> {
          try (HazelcastTarget.HazelcastClientHandle client = h.plainClient()) {
            measure(ctx, out, SystemId.HAZELCAST, null, () -> client.map(id + "-" + ctx.runId()));
          }
        });
  }

  private void measure(
      BenchContext ctx,
      List<Result> out,
      SystemId system,
      String variant,
      Supplier<KvClient> clients) {
    String label = variant != null ? variant : system.id();
    try (KvClient client = clients.get()) {
      for (int size : VALUE_SIZES) {
        byte[] value = Cells.randomBytes(size, size);
        BenchKey[] keys = null;
        if (!puts) {
          keys = BenchKey.range("rg-" + ctx.runId() + "-" + label + "-" + size + "-", KEYS);
          ctx.progress("%s: %s: loading %d keys of %d bytes", scenario().id(), label, KEYS, size);
          BenchKey[] load = keys;
          Cells.parallel(KEYS, 8, i -> client.put(load[i], value));
        }
        for (int threads : THREADS) {
          out.add(cell(ctx, system, variant, client, keys, value, threads));
          ctx.progress(Cells.describe(out.get(out.size() - 1)));
        }
        if (!puts) {
          Cleanup.deleteAll(client, List.of(keys));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }

  private Result cell(
      BenchContext ctx,
      SystemId system,
      String variant,
      KvClient client,
      BenchKey[] keys,
      byte[] value,
      int threads)
      throws InterruptedException {
    String label = variant != null ? variant : system.id();
    int size = value.length;
    String name = scenario().id() + "-" + label + "-" + size + "-" + threads;
    String prefix = "p-" + ctx.runId() + "-" + label + "-" + size + "-" + threads + "-";
    List<PutWorker> writers = new ArrayList<>();
    LoadRunner.Measurement m =
        LoadRunner.run(
            name,
            threads,
            ctx.settings().warmup().toNanos(),
            ctx.settings().measure().toNanos(),
            1,
            puts ? Math.max(2_000, PUT_BYTES_CAP / size) : Long.MAX_VALUE,
            t -> {
              if (puts) {
                PutWorker w = new PutWorker(client, prefix + t + "-", value);
                synchronized (writers) {
                  writers.add(w);
                }
                return w;
              }
              SplittableRandom random = new SplittableRandom(7 + t);
              return () -> {
                if (client.get(keys[random.nextInt(keys.length)]) == null) {
                  throw new IllegalStateException("a preloaded key read as absent");
                }
              };
            });
    Result r =
        Cells.result(
            scenario(), system, variant, threads, size, m, null, true, ctx.serverRss(system));
    if (puts) {
      List<BenchKey> written = new ArrayList<>();
      for (PutWorker w : writers) {
        for (int i = 0; i < w.count; i++) {
          written.add(new BenchKey(w.prefix + i));
        }
      }
      Cleanup.deleteAll(client, written);
    }
    return r;
  }

  /** Writes new keys {@code prefix0, prefix1, ...}; remembers how many for the cleanup. */
  private static final class PutWorker implements LoadRunner.Worker {
    final KvClient client;
    final String prefix;
    final byte[] value;
    volatile int count;

    PutWorker(KvClient client, String prefix, byte[] value) {
      this.client = client;
      this.prefix = prefix;
      this.value = value;
    }

    @Override
    public void op() {
      int n = count;
      client.put(new BenchKey(prefix + n), value);
      count = n + 1; // only this worker's thread writes it
    }
  }
}
