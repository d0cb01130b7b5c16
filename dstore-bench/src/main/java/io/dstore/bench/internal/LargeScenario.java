package io.dstore.bench.internal;

import io.dstore.Dstore;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * {@code large}: put, then get, of one 256 MiB value (32 MiB with --quick), single-threaded. dstore
 * streams both ways ({@code put(key, InputStream, size)} and {@code get(key, OutputStream)}, in 1
 * MiB chunks, with SHA-256 checked at both ends); Redis does SET and GET of the same bytes through
 * Lettuce; Hazelcast {@code IMap.set} and {@code get} through a client. The row reports the get
 * (bytes/s, and the get latency); the put's rate is an extra table column.
 */
final class LargeScenario implements ScenarioRunner {

  /** Stores a value and reads it back, as one system does it. */
  private interface Mover {
    void put(String key, byte[] value) throws Exception;

    /** Reads the value of {@code key} and returns its length. */
    long get(String key) throws Exception;

    void delete(String key) throws Exception;
  }

  @Override
  public void run(BenchContext ctx, List<Result> out) throws InterruptedException {
    byte[] value = Cells.randomBytes(ctx.settings().largeValueSize(), 5);
    ctx.with(
        Scenario.LARGE,
        SystemId.DSTORE,
        ctx.dstore(),
        d -> {
          try (DstoreTarget.DstoreClient client = d.caching("bench-large", 256L << 20)) {
            Dstore s = client.dstore();
            measure(
                ctx,
                out,
                SystemId.DSTORE,
                new Mover() {
                  @Override
                  public void put(String key, byte[] v) {
                    s.put(key(key), new ByteArrayInputStream(v), v.length);
                  }

                  @Override
                  public long get(String key) {
                    return s.get(key(key), OutputStream.nullOutputStream()).size();
                  }

                  @Override
                  public void delete(String key) {
                    s.delete(key(key));
                  }
                },
                value);
          }
        });
    ctx.with(
        Scenario.LARGE,
        SystemId.REDIS,
        ctx.redis(),
        r -> {
          try (RedisTarget.RedisClientConn c = r.plain()) {
            measure(ctx, out, SystemId.REDIS, moverOf(c), value);
          }
        });
    ctx.with(
        Scenario.LARGE,
        SystemId.HAZELCAST,
        ctx.hazelcast(),
        h -> {
          try (HazelcastTarget.HazelcastClientHandle client = h.plainClient()) {
            measure(
                ctx, out, SystemId.HAZELCAST, moverOf(client.map("large-" + ctx.runId())), value);
          }
        });
  }

  private static byte[] key(String key) {
    return key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static Mover moverOf(KvClient c) {
    return new Mover() {
      @Override
      public void put(String key, byte[] v) {
        c.put(new BenchKey(key), v);
      }

      @Override
      public long get(String key) {
        byte[] v = c.get(new BenchKey(key));
        if (v == null) {
          throw new IllegalStateException("the large value read back as absent");
        }
        return v.length;
      }

      @Override
      public void delete(String key) {
        c.delete(new BenchKey(key));
      }
    };
  }

  private static void measure(
      BenchContext ctx, List<Result> out, SystemId system, Mover mover, byte[] value) {
    int warm = ctx.settings().largeWarmupRounds();
    int rounds = ctx.settings().largeRounds();
    Histogram gets = new Histogram(3);
    gets.setAutoResize(true);
    long[] putNanos = new long[rounds];
    long[] getNanos = new long[rounds];
    try {
      for (int i = 0; i < warm + rounds; i++) {
        String key = "large-" + ctx.runId() + "-" + system.id() + "-" + i;
        long t0 = System.nanoTime();
        mover.put(key, value);
        long t1 = System.nanoTime();
        long size = mover.get(key);
        long t2 = System.nanoTime();
        if (size != value.length) {
          throw new IllegalStateException("read back " + size + " bytes of " + value.length);
        }
        mover.delete(key);
        if (i >= warm) {
          putNanos[i - warm] = t1 - t0;
          getNanos[i - warm] = t2 - t1;
          gets.recordValue(t2 - t1);
        }
        ctx.progress(
            "large: %s: %s put %.2f GiB/s, get %.2f GiB/s",
            system.id(),
            i < warm ? "warm-up" : "round " + (i - warm + 1),
            gibPerSecond(value.length, t1 - t0),
            gibPerSecond(value.length, t2 - t1));
      }
    } catch (Exception e) {
      throw new BenchException("large: " + system.id() + " failed: " + e, e);
    }
    double meanGet = Arrays.stream(getNanos).average().orElse(0);
    double meanPut = Arrays.stream(putNanos).average().orElse(0);
    out.add(
        new Result(
            Scenario.LARGE,
            system,
            1,
            value.length,
            null,
            1e9 / meanGet,
            gets.getValueAtPercentile(50) / 1000.0,
            gets.getValueAtPercentile(99) / 1000.0,
            gets.getValueAtPercentile(99.9) / 1000.0,
            null,
            value.length * 1e9 / meanGet,
            ctx.serverRss(system),
            null,
            Map.of(
                "put GiB/s",
                String.format("%.2f", value.length * 1e9 / meanPut / (1L << 30)),
                "get GiB/s",
                String.format("%.2f", value.length * 1e9 / meanGet / (1L << 30)))));
  }

  private static double gibPerSecond(long bytes, long nanos) {
    return bytes * 1e9 / nanos / (1L << 30);
  }
}
