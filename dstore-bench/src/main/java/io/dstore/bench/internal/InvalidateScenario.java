package io.dstore.bench.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * {@code invalidate}: N caching clients (N = 1, 8, 32; 1 and 32 with --quick) each hold a key;
 * client 0 deletes it. Two figures per delete: the delete call's latency, and the invalidation lag,
 * the time from the start of the delete call until the slowest of the N clients no longer serves
 * the value (a probe thread polls each client's local cache without touching the server).
 *
 * <p>dstore: N Locals (strict coherence: the delete returns only once every Local dropped the key).
 * Redis: N Lettuce client-side-caching connections (tracking), one DEL. Hazelcast: N clients with
 * near caches, one {@code IMap.delete}, with Hazelcast's default batched invalidation (sent when
 * 100 are queued or every 10 s): one delete at a time would take up to 10 s each, so Hazelcast's
 * deletes are issued every 200 ms (never 100 in one 10 s window, so each waits for the timer as an
 * isolated delete would) and their lags are collected as they arrive. dstore and Redis issue the
 * next delete as soon as the previous one was fully invalidated.
 *
 * <p>The row's percentiles are the lag; {@code ops_per_s} is 1 / mean delete-call time; the
 * delete-call percentiles go to extra table columns.
 */
final class InvalidateScenario implements ScenarioRunner {
  static final int VALUE_SIZE = 100;
  private static final long HAZELCAST_PACING_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private static final long LAG_DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(15);

  @Override
  public void run(BenchContext ctx, List<Result> out) throws InterruptedException {
    byte[] value = Cells.randomBytes(VALUE_SIZE, 3);
    ctx.with(
        Scenario.INVALIDATE, SystemId.DSTORE, ctx.dstore(), d -> runDstore(ctx, d, value, out));
    ctx.with(Scenario.INVALIDATE, SystemId.REDIS, ctx.redis(), r -> runRedis(ctx, r, value, out));
    ctx.with(
        Scenario.INVALIDATE,
        SystemId.HAZELCAST,
        ctx.hazelcast(),
        h -> runHazelcast(ctx, h, value, out));
  }

  private void runDstore(BenchContext ctx, DstoreTarget dstore, byte[] value, List<Result> out)
      throws InterruptedException {
    for (int n : ctx.settings().invalidateLocals()) {
      List<KvClient> locals = new ArrayList<>();
      try {
        for (int i = 0; i < n; i++) {
          locals.add(dstore.caching("bench-inv-" + i, 64L << 20));
        }
        String prefix = "inv-" + ctx.runId() + "-" + n + "-";
        List<BenchKey> keys = keys(ctx, prefix, 0);
        for (BenchKey k : keys) {
          locals.get(0).put(k, value);
        }
        cacheEverywhere(locals, keys);
        out.add(measure(ctx, SystemId.DSTORE, locals, keys, 0));
      } finally {
        locals.forEach(KvClient::close);
      }
    }
  }

  private void runRedis(BenchContext ctx, RedisTarget redis, byte[] value, List<Result> out)
      throws InterruptedException {
    List<KvClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < maxLocals(ctx); i++) {
        clients.add(redis.caching(100_000));
      }
      for (int n : ctx.settings().invalidateLocals()) {
        List<KvClient> subset = clients.subList(0, n);
        List<BenchKey> keys = keys(ctx, "inv-" + ctx.runId() + "-" + n + "-", 0);
        for (BenchKey k : keys) {
          subset.get(0).put(k, value);
        }
        cacheEverywhere(subset, keys); // only these n connections track the keys
        out.add(measure(ctx, SystemId.REDIS, subset, keys, 0));
      }
    } finally {
      clients.forEach(KvClient::close);
    }
  }

  private void runHazelcast(BenchContext ctx, HazelcastTarget h, byte[] value, List<Result> out)
      throws InterruptedException {
    int max = maxLocals(ctx);
    ctx.progress("invalidate: hazelcast: starting %d near-cached clients", max);
    List<HazelcastTarget.HazelcastClientHandle> handles = new ArrayList<>();
    try {
      HazelcastTarget.HazelcastClientHandle[] started =
          new HazelcastTarget.HazelcastClientHandle[max];
      Cells.parallel(max, 8, i -> started[i] = h.nearCachedClient("inv-*", 100_000));
      handles.addAll(List.of(started));
      for (int n : ctx.settings().invalidateLocals()) {
        // A fresh map per cell, filled through the member before any client opens it, so that no
        // batched invalidation of the loading writes can reach a near cache afterwards.
        String mapName = "inv-" + ctx.runId() + "-" + n;
        List<BenchKey> keys = keys(ctx, "k-", HAZELCAST_PACING_NANOS);
        Map<String, byte[]> load = new HashMap<>();
        keys.forEach(k -> load.put(k.text(), value));
        h.<byte[]>memberMap(mapName).putAll(load);
        List<KvClient> subset = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          subset.add(handles.get(i).map(mapName));
        }
        cacheEverywhere(subset, keys);
        out.add(measure(ctx, SystemId.HAZELCAST, subset, keys, HAZELCAST_PACING_NANOS));
      }
    } finally {
      handles.forEach(HazelcastTarget.HazelcastClientHandle::close);
    }
  }

  private static int maxLocals(BenchContext ctx) {
    return ctx.settings().invalidateLocals().stream().mapToInt(Integer::intValue).max().orElse(1);
  }

  /** Enough keys for the warm-up and the measured deletes of one cell. */
  private static List<BenchKey> keys(BenchContext ctx, String prefix, long pacingNanos) {
    BenchSettings s = ctx.settings();
    int measured = s.invalidateMaxDeletes();
    if (pacingNanos > 0) {
      measured =
          (int) Math.max(2, Math.min(measured, s.invalidateBudget().toNanos() / pacingNanos));
    }
    return List.of(BenchKey.range(prefix, s.invalidateWarmupDeletes() + measured));
  }

  private static void cacheEverywhere(List<KvClient> clients, List<BenchKey> keys)
      throws InterruptedException {
    BenchKey[] array = keys.toArray(BenchKey[]::new);
    Cells.parallel(
        clients.size(),
        Math.min(clients.size(), 8),
        i -> LocalHitScenario.warmCache(clients.get(i), array));
  }

  private Result measure(
      BenchContext ctx,
      SystemId system,
      List<KvClient> clients,
      List<BenchKey> keys,
      long pacingNanos)
      throws InterruptedException {
    int n = clients.size();
    ctx.progress("invalidate: %s: %d caching clients", system.id(), n);
    int warm = ctx.settings().invalidateWarmupDeletes();
    long budget = ctx.settings().invalidateBudget().toNanos();
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
    try {
      for (int i = 0; i < keys.size(); i++) {
        boolean measured = i >= warm;
        if (i == warm) {
          measuredStart = System.nanoTime();
        }
        if (measured && System.nanoTime() - measuredStart > budget) {
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
      probe.awaitIdle(LAG_DEADLINE_NANOS);
    } finally {
      probe.stop = true;
      prober.join();
    }
    Map<String, String> extras = new HashMap<>();
    extras.put("delete p50 us", micros(deleteLatency, 50));
    extras.put("delete p99 us", micros(deleteLatency, 99));
    extras.put("delete p999 us", micros(deleteLatency, 99.9));
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
            ctx.serverRss(system),
            null,
            extras);
    ctx.progress(
        "%s  delete p50=%s us p99=%s us%s",
        Cells.describe(r),
        extras.get("delete p50 us"),
        extras.get("delete p99 us"),
        timeouts > 0 ? "  (" + timeouts + " invalidations not seen within 15 s)" : "");
    return r;
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
