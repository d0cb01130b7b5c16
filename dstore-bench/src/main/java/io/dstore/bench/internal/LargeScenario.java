package io.dstore.bench.internal;

import io.dstore.Dstore;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * {@code large}: put, then get, of one large value per system, single-threaded, at issue 14's sizes
 * ({@link BenchSettings#largeValueSize}): dstore 1 GiB, Redis and Hazelcast 512 MiB (Redis's
 * bulk-string limit), 32 MiB for all with {@code --quick}. The sizes differ, so the rows compare by
 * bytes/s (GiB/s), which the progress lines and the row's extras give; each row's {@code
 * value_size} is that system's own size. dstore streams both ways ({@code put(key, InputStream,
 * size)} and {@code get(key, OutputStream)}, in 1 MiB chunks, with SHA-256 checked at both ends);
 * Redis does SET and GET of the bytes through Lettuce; Hazelcast {@code IMap.set} and {@code get}
 * through a client, and the bytes each peer reads back are compared with what it stored (after the
 * clock stops). The row reports the get (bytes/s, and the get latency); the put's rate is an extra
 * table column.
 *
 * <p>Memory: this JVM holds one source array at a time (dstore's 1 GiB array is dropped before the
 * peers' 512 MiB one is made); dstore's get streams into a null sink and its put reads the array
 * through a {@link ByteArrayInputStream}, so dstore never needs a second copy here. A peer's get
 * returns a second 512 MiB array, and the embedded Hazelcast member keeps its serialized copy in
 * this JVM too. Measured: live heap after GC at most 1.6 GiB here and 2.2 GiB in the Global child,
 * so the default heaps (a quarter of RAM) suffice from about 12 GiB of RAM; below that both JVMs
 * need {@code -Xmx3g} (see docs/benchmarks.md). Redis runs on a connection of its own ({@link
 * RedisTarget#plainForLargeValues()}) whose buffers grow by doubling.
 */
final class LargeScenario implements ScenarioRunner {

  /** Stores a value and reads it back, as one system does it. */
  private interface Mover {
    void put(String key, byte[] value) throws Exception;

    /** Reads the value of {@code key} and returns its length. */
    long get(String key) throws Exception;

    void delete(String key) throws Exception;

    /**
     * Checks that the bytes the last {@link #get} read are {@code value}, where the system hands
     * them back (outside the timed get); dstore's client checks SHA-256 itself while streaming.
     */
    @SuppressWarnings("UnusedVariable") // dstore's mover: its client checked the bytes already
    default void checkLastRead(byte[] value) {}
  }

  /**
   * The source array of the system being measured: one at a time, made when first asked for and
   * kept while the next system wants the same size (Redis and Hazelcast), so this JVM never holds
   * two large sources. Not thread-safe (the scenario is single-threaded).
   */
  private static final class Source {
    private byte @Nullable [] current;

    byte[] of(int size) {
      byte[] c = current;
      if (c != null && c.length == size) {
        return c;
      }
      current = null; // let the previous one go before making the next
      c = Cells.randomBytes(size, 5);
      current = c;
      return c;
    }
  }

  @Override
  public void run(BenchContext ctx, List<Result> out) throws InterruptedException {
    BenchSettings settings = ctx.settings();
    ctx.progress(
        "large: one value per system (dstore %s, redis %s, hazelcast %s): compare GiB/s",
        size(settings.largeValueSize(SystemId.DSTORE)),
        size(settings.largeValueSize(SystemId.REDIS)),
        size(settings.largeValueSize(SystemId.HAZELCAST)));
    Source source = new Source();
    ctx.with(
        Scenario.LARGE,
        SystemId.DSTORE,
        ctx.dstore(),
        d -> {
          byte[] value = source.of(settings.largeValueSize(SystemId.DSTORE));
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
          byte[] value = source.of(settings.largeValueSize(SystemId.REDIS));
          try (RedisTarget.RedisClientConn c = r.plainForLargeValues()) {
            measure(ctx, out, SystemId.REDIS, moverOf(c), value);
          }
        });
    ctx.with(
        Scenario.LARGE,
        SystemId.HAZELCAST,
        ctx.hazelcast(),
        h -> {
          byte[] value = source.of(settings.largeValueSize(SystemId.HAZELCAST));
          try (HazelcastTarget.HazelcastClientHandle client = h.plainClient()) {
            measure(
                ctx, out, SystemId.HAZELCAST, moverOf(client.map("large-" + ctx.runId())), value);
          }
        });
  }

  /** {@code bytes} as "1 GiB" or "512 MiB" (whole MiB or GiB; the sizes here are). */
  static String size(long bytes) {
    return bytes % (1L << 30) == 0 ? (bytes >> 30) + " GiB" : (bytes >> 20) + " MiB";
  }

  private static byte[] key(String key) {
    return key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static Mover moverOf(KvClient c) {
    return new Mover() {
      private byte @Nullable [] lastRead;

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
        lastRead = v;
        return v.length;
      }

      @Override
      public void checkLastRead(byte[] value) {
        byte[] v = lastRead;
        lastRead = null;
        if (v != null && !Arrays.equals(v, value)) {
          throw new IllegalStateException(
              "the large value read back differs from the one stored, at byte "
                  + Arrays.mismatch(v, value));
        }
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
        mover.checkLastRead(value);
        mover.delete(key);
        if (i >= warm) {
          putNanos[i - warm] = t1 - t0;
          getNanos[i - warm] = t2 - t1;
          gets.recordValue(t2 - t1);
        }
        ctx.progress(
            "large: %s: %s value, %s: put %.2f GiB/s, get %.2f GiB/s",
            system.id(),
            size(value.length),
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
                String.format("%.2f", gibPerSecond(value.length, meanPut)),
                "get GiB/s",
                String.format("%.2f", gibPerSecond(value.length, meanGet)))));
  }

  private static double gibPerSecond(long bytes, double nanos) {
    return bytes * 1e9 / nanos / (1L << 30);
  }
}
