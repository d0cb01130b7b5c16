package io.dstore.bench.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * {@code invalidate}: N caching clients (N = 1, 8, 32, 256, 1,024; 1 and 32 with --quick) each hold
 * a key; client 0 deletes it. Two figures per delete: the delete call's latency, and the
 * invalidation lag, the time from the start of the delete call until the slowest of the N clients
 * no longer serves the value (a probe thread polls each client's local cache without touching the
 * server).
 *
 * <p>dstore: N Locals (strict coherence: the delete returns only once every Local dropped the key),
 * all in this JVM, each a full {@code Dstore.connect} with its own channel (so its own TCP
 * connection and subscription stream); the channels share grpc-java's default Netty event loop
 * group and executor, so a Local adds one scheduler thread of its own and no event loop. Redis: N
 * Lettuce client-side-caching connections (tracking) of one {@code RedisClient}, one DEL. Hazelcast
 * twice, as {@code hazelcast} with the member's default batched invalidation (sent when 100 are
 * queued or every 10 s) and as {@code hazelcast-nobatch} with {@code
 * hazelcast.map.invalidation.batch.enabled=false} (sent at once), N near-cached clients each, one
 * {@code IMap.delete}. One batched delete at a time would take up to 10 s each, so those deletes
 * are issued every 200 ms (never 100 in one 10 s window, so each waits for the timer as an isolated
 * delete would) and their lags are collected as they arrive. dstore, Redis and {@code
 * hazelcast-nobatch} issue the next delete as soon as the previous one was fully invalidated.
 * Hazelcast runs at most {@value #HAZELCAST_MAX_CLIENTS} clients: each is a full Hazelcast client
 * with a dozen threads of its own, so 1,024 of them in this JVM would measure the harness's thread
 * scheduling more than Hazelcast (the cap is noted under the table).
 *
 * <p>The cells of one system run one after the other, N rising, each with clients of its own (the
 * previous cell's are closed first). dstore's cells share one Global, which first runs a short
 * warm-up of its delete path through one Local; redis-server is restarted for each cell. Per cell,
 * for the server process:
 *
 * <ul>
 *   <li>{@code server KiB/client}: its resident memory with the N clients connected and caching
 *       minus with none, over N (a dstore Global is asked for a full collection before each
 *       reading, so garbage does not count); from {@value #MEMORY_MIN_CLIENTS} clients on, as below
 *       that the cell's keys and the heap's sizing outweigh the connections;
 *   <li>{@code server idle cpu %}: the CPU it uses with the N clients connected and no deletes
 *       (dstore: lease renewals, every 500 ms per Local);
 *   <li>{@code server cpu us/del}: its CPU time during the measured deletes less that idle rate,
 *       per delete (from {@code /proc/PID/stat}, 10 ms ticks).
 * </ul>
 *
 * Hazelcast's member runs in this JVM, so it has none of these.
 *
 * <p>Every client fills its cache with every key of the cell before the deletes, so a cell holds at
 * most {@value #FILL_BUDGET} fills: at 1,024 clients that leaves about 175 measured deletes (the
 * p99 is then the second-slowest).
 *
 * <p>The row's percentiles are the lag; {@code ops_per_s} is 1 / mean delete-call time; the
 * delete-call percentiles and the server costs go to extra table columns.
 */
final class InvalidateScenario implements ScenarioRunner {
  static final int VALUE_SIZE = 100;

  /** Hazelcast clients at most (see the class comment). */
  static final int HAZELCAST_MAX_CLIENTS = 256;

  /** Cache fills per cell at most (clients x keys). */
  static final int FILL_BUDGET = 200_000;

  static final String NOBATCH_VARIANT = "hazelcast-nobatch";

  /**
   * Memory per client is shown from this many clients on: below, the cell's own keys and the
   * server's heap sizing outweigh what the connections cost.
   */
  static final int MEMORY_MIN_CLIENTS = 100;

  private static final long HAZELCAST_PACING_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private static final long LAG_DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(15);
  private static final int FILL_THREADS = 16;

  @Override
  public void run(BenchContext ctx, List<Result> out) throws InterruptedException {
    byte[] value = Cells.randomBytes(VALUE_SIZE, 3);
    ctx.with(
        Scenario.INVALIDATE, SystemId.DSTORE, ctx.dstore(), d -> runDstore(ctx, d, value, out));
    ctx.with(Scenario.INVALIDATE, SystemId.REDIS, ctx.redis(), r -> runRedis(ctx, value, out));
    Optional<HazelcastTarget> hazelcast = ctx.hazelcast();
    ctx.with(
        Scenario.INVALIDATE,
        SystemId.HAZELCAST,
        hazelcast,
        h -> runHazelcast(ctx, h, null, HAZELCAST_PACING_NANOS, value, out));
    if (hazelcast.isPresent()) {
      ctx.attempt(
          Scenario.INVALIDATE,
          SystemId.HAZELCAST,
          () -> {
            ctx.progress("starting an embedded Hazelcast member with batching off ...");
            HazelcastTarget nobatch;
            try {
              nobatch = HazelcastTarget.start(false);
            } catch (IOException e) {
              throw new BenchException("the no-batching Hazelcast member did not start: " + e, e);
            }
            try (nobatch) {
              runHazelcast(ctx, nobatch, NOBATCH_VARIANT, 0, value, out);
            }
          });
    }
    if (ctx.settings().invalidateLocals().stream().anyMatch(n -> n > HAZELCAST_MAX_CLIENTS)) {
      ctx.notes()
          .add(
              "invalidate: hazelcast rows stop at "
                  + HAZELCAST_MAX_CLIENTS
                  + " clients (each Hazelcast client runs a dozen threads of its own in the"
                  + " harness JVM)");
    }
  }

  private void runDstore(BenchContext ctx, DstoreTarget dstore, byte[] value, List<Result> out)
      throws InterruptedException {
    warmUpGlobal(ctx, dstore, "inv-" + ctx.runId() + "-", value);
    for (int n : ctx.settings().invalidateLocals()) {
      String prefix = "inv-" + ctx.runId() + "-" + n + "-";
      // The previous cell's Locals are closed: its memory now is the Global's without Locals.
      OptionalLong rssWithout = ServerCost.settledJvmRss(dstore.pid());
      DstoreTarget.DstoreClient[] started = new DstoreTarget.DstoreClient[n];
      try {
        ctx.progress("invalidate: dstore: connecting %d Locals", n);
        Cells.parallel(
            n, Math.min(n, 8), i -> started[i] = dstore.caching("bench-inv-" + i, 64L << 20));
        List<KvClient> locals = List.of(started);
        List<BenchKey> keys = keys(ctx, prefix, 0, n);
        for (BenchKey k : keys) {
          locals.get(0).put(k, value);
        }
        cacheEverywhere(locals, keys);
        OptionalLong rssWith = ServerCost.settledJvmRss(dstore.pid());
        ServerSide server = new ServerSide(dstore.pid(), rssWithout, rssWith);
        out.add(measure(ctx, SystemId.DSTORE, null, locals, keys, 0, server));
      } finally {
        for (DstoreTarget.DstoreClient c : started) {
          if (c != null) {
            c.close();
          }
        }
      }
    }
  }

  /**
   * Puts and deletes through one Local that is closed again, so that the Global's delete path is
   * compiled before the first figure (the JIT's CPU would otherwise count as the deletes').
   */
  private static void warmUpGlobal(
      BenchContext ctx, DstoreTarget dstore, String prefix, byte[] value) {
    int rounds = ctx.settings().quick() ? 100 : 1_000;
    try (KvClient warm = dstore.caching("bench-inv-warm", 1L << 20)) {
      for (BenchKey k : BenchKey.range(prefix + "warm-", rounds)) {
        warm.put(k, value);
        warm.get(k);
        warm.delete(k);
      }
    }
  }

  private void runRedis(BenchContext ctx, byte[] value, List<Result> out)
      throws InterruptedException {
    for (int n : ctx.settings().invalidateLocals()) {
      // A fresh server per cell: redis-server starts in milliseconds, and keeps the memory that
      // an earlier cell's connections used.
      ctx.restart(SystemId.REDIS);
      RedisTarget redis =
          ctx.redis().orElseThrow(() -> new BenchException("redis-server did not restart"));
      OptionalLong rssWithout = redis.rssBytes();
      KvClient[] started = new KvClient[n];
      try {
        ctx.progress("invalidate: redis: connecting %d tracking connections", n);
        Cells.parallel(n, Math.min(n, 8), i -> started[i] = redis.caching(100_000));
        List<KvClient> clients = List.of(started);
        List<BenchKey> keys = keys(ctx, "inv-" + ctx.runId() + "-" + n + "-", 0, n);
        for (BenchKey k : keys) {
          clients.get(0).put(k, value);
        }
        cacheEverywhere(clients, keys);
        ServerSide server = new ServerSide(redis.pid(), rssWithout, redis.rssBytes());
        out.add(measure(ctx, SystemId.REDIS, null, clients, keys, 0, server));
      } finally {
        for (KvClient c : started) {
          if (c != null) {
            c.close();
          }
        }
      }
    }
  }

  private void runHazelcast(
      BenchContext ctx,
      HazelcastTarget h,
      @Nullable String variant,
      long pacingNanos,
      byte[] value,
      List<Result> out)
      throws InterruptedException {
    String label = variant != null ? variant : SystemId.HAZELCAST.id();
    List<Integer> cells =
        ctx.settings().invalidateLocals().stream().filter(n -> n <= HAZELCAST_MAX_CLIENTS).toList();
    int max = cells.stream().mapToInt(Integer::intValue).max().orElse(1);
    ctx.progress("invalidate: %s: starting %d near-cached clients", label, max);
    List<HazelcastTarget.HazelcastClientHandle> handles = new ArrayList<>();
    try {
      HazelcastTarget.HazelcastClientHandle[] started =
          new HazelcastTarget.HazelcastClientHandle[max];
      try {
        Cells.parallel(max, 8, i -> started[i] = h.nearCachedClient("inv-*", 100_000));
      } finally {
        for (HazelcastTarget.HazelcastClientHandle c : started) {
          if (c != null) {
            handles.add(c);
          }
        }
      }
      for (int n : cells) {
        // A fresh map per cell, filled through the member before any client opens it, so that no
        // batched invalidation of the loading writes can reach a near cache afterwards.
        String mapName = "inv-" + ctx.runId() + "-" + label + "-" + n;
        List<BenchKey> keys = keys(ctx, "k-", pacingNanos, n);
        Map<String, byte[]> load = new HashMap<>();
        keys.forEach(k -> load.put(k.text(), value));
        h.<byte[]>memberMap(mapName).putAll(load);
        List<KvClient> subset = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          subset.add(handles.get(i).map(mapName));
        }
        cacheEverywhere(subset, keys);
        out.add(measure(ctx, SystemId.HAZELCAST, variant, subset, keys, pacingNanos, null));
      }
    } finally {
      handles.forEach(HazelcastTarget.HazelcastClientHandle::close);
    }
  }

  /**
   * Enough keys for the warm-up and the measured deletes of one cell with {@code clients} clients:
   * as many as the settings allow, fewer when paced (so that they fit the time budget) or when
   * every client caching every key would pass {@link #FILL_BUDGET}.
   */
  static List<BenchKey> keys(BenchContext ctx, String prefix, long pacingNanos, int clients) {
    BenchSettings s = ctx.settings();
    return List.of(
        BenchKey.range(
            prefix,
            s.invalidateWarmupDeletes()
                + measuredDeletes(
                    s.invalidateMaxDeletes(),
                    s.invalidateWarmupDeletes(),
                    s.invalidateBudget().toNanos(),
                    pacingNanos,
                    clients)));
  }

  /** See {@link #keys}; at least 2. */
  static int measuredDeletes(
      int maxDeletes, int warmupDeletes, long budgetNanos, long pacingNanos, int clients) {
    long measured = maxDeletes;
    if (pacingNanos > 0) {
      measured = Math.min(measured, budgetNanos / pacingNanos);
    }
    measured = Math.min(measured, FILL_BUDGET / Math.max(1, clients) - warmupDeletes);
    return (int) Math.max(2, measured);
  }

  private static void cacheEverywhere(List<KvClient> clients, List<BenchKey> keys)
      throws InterruptedException {
    BenchKey[] array = keys.toArray(BenchKey[]::new);
    Cells.parallel(
        clients.size(),
        Math.min(clients.size(), FILL_THREADS),
        i -> LocalHitScenario.warmCache(clients.get(i), array));
  }

  /**
   * The server process of a cell and its memory without and with the cell's clients; null for a
   * system whose server runs in this JVM.
   */
  private record ServerSide(long pid, OptionalLong rssWithout, OptionalLong rssWith) {}

  private Result measure(
      BenchContext ctx,
      SystemId system,
      @Nullable String variant,
      List<KvClient> clients,
      List<BenchKey> keys,
      long pacingNanos,
      @Nullable ServerSide server)
      throws InterruptedException {
    int n = clients.size();
    String label = variant != null ? variant : system.id();
    ctx.progress("invalidate: %s: %d caching clients", label, n);
    int warm = ctx.settings().invalidateWarmupDeletes();
    long budget = ctx.settings().invalidateBudget().toNanos();
    double idleCpuPerSecond = 0;
    if (server != null) {
      long idleNanos = ctx.settings().quick() ? 250_000_000L : 1_000_000_000L;
      OptionalLong before = ServerCost.cpuNanos(server.pid());
      long t0 = System.nanoTime();
      LockSupport.parkNanos(idleNanos); // a measured idle period, not a wait for anything
      long elapsed = System.nanoTime() - t0;
      idleCpuPerSecond =
          ServerCost.cpuNanosPerSecond(before, ServerCost.cpuNanos(server.pid()), elapsed)
              .orElse(0);
    }
    Probe probe = new Probe(clients);
    Thread prober = new Thread(probe, "bench-invalidation-probe");
    prober.setDaemon(true);
    prober.start();
    Histogram deleteLatency = new Histogram(3);
    deleteLatency.setAutoResize(true);
    long deleteNanos = 0;
    int deletes = 0;
    KvClient deleter = clients.get(0);
    long start = System.nanoTime();
    long measuredStart = 0;
    long measuredEnd = 0;
    OptionalLong cpuBefore = OptionalLong.empty();
    OptionalLong cpuAfter = OptionalLong.empty();
    try {
      for (int i = 0; i < keys.size(); i++) {
        boolean measured = i >= warm;
        if (measured && deletes > 0 && System.nanoTime() - measuredStart > budget) {
          break;
        }
        if (pacingNanos > 0) {
          long due = start + i * pacingNanos;
          long wait;
          while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
          }
        } else {
          probe.awaitIdle(LAG_DEADLINE_NANOS);
        }
        if (i == warm) {
          if (server != null) {
            cpuBefore = ServerCost.cpuNanos(server.pid());
          }
          measuredStart = System.nanoTime();
        }
        Pending p = new Pending(keys.get(i), n, measured);
        probe.pending.add(p);
        deleter.delete(p.key);
        long took = System.nanoTime() - p.start;
        if (measured) {
          deleteLatency.recordValue(took);
          deleteNanos += took;
          deletes++;
        }
      }
      if (server != null) {
        cpuAfter = ServerCost.cpuNanos(server.pid());
      }
      measuredEnd = System.nanoTime();
      probe.awaitIdle(LAG_DEADLINE_NANOS);
    } finally {
      probe.stop = true;
      prober.join();
    }
    Map<String, String> extras = new HashMap<>();
    extras.put("delete p50 us", micros(deleteLatency, 50));
    extras.put("delete p99 us", micros(deleteLatency, 99));
    extras.put("delete p999 us", micros(deleteLatency, 99.9));
    if (server != null) {
      extras.put(
          "server cpu us/del",
          format(
              ServerCost.cpuMicrosPerOp(
                  cpuBefore, cpuAfter, measuredEnd - measuredStart, idleCpuPerSecond, deletes),
              1));
      extras.put("server idle cpu %", String.format(Locale.ROOT, "%.1f", idleCpuPerSecond / 1e7));
      extras.put(
          "server KiB/client",
          n < MEMORY_MIN_CLIENTS
              ? "-"
              : format(
                  ServerCost.bytesPerConnection(server.rssWithout(), server.rssWith(), n).stream()
                      .map(b -> b / 1024)
                      .findFirst(),
                  1));
    }
    int timeouts = probe.pending.size();
    if (timeouts > 0) {
      extras.put("lag timeouts", Integer.toString(timeouts));
    }
    Histogram lag = probe.lag;
    Result r =
        new Result(
            Scenario.INVALIDATE,
            system,
            1,
            VALUE_SIZE,
            n,
            deletes == 0 ? 0 : deletes * 1e9 / deleteNanos,
            lag.getTotalCount() == 0 ? null : lag.getValueAtPercentile(50) / 1000.0,
            lag.getTotalCount() == 0 ? null : lag.getValueAtPercentile(99) / 1000.0,
            lag.getTotalCount() == 0 ? null : lag.getValueAtPercentile(99.9) / 1000.0,
            null,
            null,
            variant == null ? ctx.serverRss(system) : null,
            variant,
            extras);
    ctx.progress(
        "%s  delete p50=%s us p99=%s us (%d deletes)%s%s",
        Cells.describe(r),
        extras.get("delete p50 us"),
        extras.get("delete p99 us"),
        deletes,
        server == null
            ? ""
            : String.format(
                "  server: %s us cpu/delete, %s%% idle cpu, %s KiB/client",
                extras.get("server cpu us/del"),
                extras.get("server idle cpu %"),
                extras.get("server KiB/client")),
        timeouts > 0 ? "  (" + timeouts + " invalidations not seen within 15 s)" : "");
    return r;
  }

  private static String format(OptionalDouble value, int decimals) {
    return value.isPresent()
        ? String.format(Locale.ROOT, "%." + decimals + "f", value.getAsDouble())
        : "-";
  }

  private static String micros(Histogram h, double percentile) {
    return h.getTotalCount() == 0
        ? "-"
        : ResultTable.micros(h.getValueAtPercentile(percentile) / 1000.0);
  }

  /** One delete whose invalidation the probe is waiting to see on every client. */
  private static final class Pending {
    final BenchKey key;
    final long start = System.nanoTime();
    final boolean[] gone; // probe thread only
    final boolean measured;
    int remaining; // probe thread only
    long last; // probe thread only

    Pending(BenchKey key, int clients, boolean measured) {
      this.key = key;
      this.gone = new boolean[clients];
      this.remaining = clients;
      this.measured = measured;
    }
  }

  /**
   * Polls every client's local cache for the pending keys and records, per delete, when the last
   * client dropped it. Spins (yielding) while a delete is fresh; backs off to short parks once the
   * newest one is older than 2 ms, which costs resolution only on lags of that order or more.
   */
  private static final class Probe implements Runnable {
    final List<KvClient> clients;
    final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
    final Histogram lag = new Histogram(3);
    volatile boolean stop;

    Probe(List<KvClient> clients) {
      this.clients = clients;
      lag.setAutoResize(true);
    }

    @Override
    @SuppressWarnings(
        "ThreadPriorityCheck") // yielding while spinning keeps the lag resolution fine
    public void run() {
      while (!stop) {
        long newest = Long.MIN_VALUE;
        for (Pending p : pending) {
          newest = Math.max(newest, p.start);
          for (int j = 0; j < p.gone.length; j++) {
            if (!p.gone[j] && !clients.get(j).isCached(p.key)) {
              p.gone[j] = true;
              p.last = System.nanoTime();
              p.remaining--;
            }
          }
          if (p.remaining == 0) {
            if (p.measured) {
              synchronized (lag) {
                lag.recordValue(Math.max(0, p.last - p.start));
              }
            }
            pending.remove(p);
          }
        }
        if (newest != Long.MIN_VALUE && System.nanoTime() - newest < 2_000_000L) {
          Thread.yield();
        } else {
          LockSupport.parkNanos(200_000L);
        }
      }
    }

    /** Waits until no delete is pending, or the deadline passes. */
    @SuppressWarnings("ThreadPriorityCheck") // a short spin first: lags are usually microseconds
    void awaitIdle(long timeoutNanos) {
      long begin = System.nanoTime();
      long waited;
      while (!pending.isEmpty() && (waited = System.nanoTime() - begin) < timeoutNanos) {
        if (waited < 1_000_000L) {
          Thread.yield();
        } else {
          LockSupport.parkNanos(100_000L);
        }
      }
    }
  }
}
