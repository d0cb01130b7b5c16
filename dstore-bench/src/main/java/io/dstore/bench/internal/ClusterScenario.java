package io.dstore.bench.internal;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * {@code cluster}: the cluster store (stateless gateways over etcd + S3, started by {@code
 * scripts/dev-cluster.sh}) against one RocksDB Global ({@link GlobalChild} {@code --rocksdb}), in
 * one run: first the single Global (stopped afterwards), then the cluster, so that the two never
 * share the two cores. The harness has no rounds option, so each runs once.
 *
 * <ol>
 *   <li><b>get / put</b>: 100 B and 1 MiB values, 16 threads, through Locals that cache nothing
 *       (cache size 0, as {@code remote-get} uses), so every get reaches the server. One Local on
 *       one gateway, and two Locals on two gateways (threads split, each Local listing the other
 *       gateway second); the single Global gets one Local, and two Locals, so that every cluster
 *       row has a single-Global row with as many Locals to be a ratio of.
 *   <li><b>strict delete</b>: 32 caching Locals (alternately on gateway 1 and 2; all on the single
 *       Global) each hold every key; Local 0 deletes them one at a time (10 unmeasured, then up to
 *       90 within the invalidate budget, 5 s). The row's percentiles are the delete call's latency.
 *       After each delete every Local is asked whether it still caches the key ({@code
 *       stale_after_delete}, which strict mode keeps at 0).
 *   <li><b>failover</b>: 4 caching Locals on gateway 1 (gateway 2 listed second); one thread per
 *       Local reads a cached key in a loop (50 us apart), one per Local reads keys that never exist
 *       (1 ms apart). Gateway 1 is SIGKILLed; the row gives the longest gap between successive
 *       served hits before and after the kill, the time from the kill to the first successful miss
 *       (a read started after the kill that got its NOT_FOUND, through gateway 2) on the first and
 *       on the last Local, and the reads that failed.
 * </ol>
 *
 * <p>Nothing is deleted after a cell (a strict delete through the cluster costs tens of
 * milliseconds): both stores live in temporary directories removed at the end, and every put writes
 * a new key.
 *
 * <p>Rows: system {@code dstore} (single Global) or {@code dstore-cluster}; the JSON field {@code
 * cluster} names the measure and gateways and holds the ratios and failover figures. Throws {@link
 * BenchException} when etcd or the source checkout is missing.
 */
final class ClusterScenario implements ScenarioRunner {
  static final int[] VALUE_SIZES = {100, 1 << 20};
  static final int THREADS = 16;
  static final int DELETE_LOCALS = 32;
  static final int FAILOVER_LOCALS = 4;
  private static final long PUT_BYTES_CAP = 256L << 20;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final long CLUSTER_UP_SECONDS = 600; // may include building the CLI
  private static final long HIT_PAUSE_NANOS = 50_000;
  private static final long MISS_PAUSE_NANOS = 1_000_000;

  @Override
  public void run(BenchContext ctx, List<Result> out) throws InterruptedException {
    Path root = DevCluster.checkout();
    List<Result> rows = new ArrayList<>();
    try {
      single(ctx, rows);
      cluster(ctx, root, rows);
    } catch (IOException e) {
      throw new BenchException("cluster: " + e.getMessage(), e);
    }
    out.addAll(withRatios(rows));
  }

  private void single(BenchContext ctx, List<Result> rows)
      throws IOException, InterruptedException {
    Path data = Files.createTempDirectory("dstore-bench-rocksdb-");
    ctx.progress("cluster: starting one RocksDB Global (child JVM, data in %s) ...", data);
    DstoreTarget global = DstoreTarget.start(START_TIMEOUT, List.of("--rocksdb", data.toString()));
    try {
      ctx.progress("  single Global: pid %d on %s", global.pid(), global.address());
      String a = global.address();
      Rss rss = () -> global.rssBytes().isPresent() ? global.rssBytes().getAsLong() : null;
      warmHarness(ctx, a);
      throughput(ctx, rows, SystemId.DSTORE, 0, List.of(a), rss);
      throughput(ctx, rows, SystemId.DSTORE, 0, List.of(a, a), rss);
      deletes(ctx, rows, SystemId.DSTORE, 0, List.of(a), rss);
    } finally {
      global.close();
      deleteTree(data);
    }
  }

  private void cluster(BenchContext ctx, Path root, List<Result> rows)
      throws IOException, InterruptedException {
    ctx.progress("cluster: scripts/dev-cluster.sh up --gateways 2 (3 etcd, s3proxy, 2 gateways)");
    long t0 = System.nanoTime();
    DevCluster cluster = DevCluster.up(root, 2, "", CLUSTER_UP_SECONDS);
    ctx.progress("  up in %.1f s", (System.nanoTime() - t0) / 1e9);
    Thread hook = new Thread(cluster::kill, "dstore-bench-cluster-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      for (DevCluster.Proc p : cluster.procs()) {
        ctx.progress("  %s %s pid %d", p.kind(), p.address(), p.pid());
      }
      List<String> gw = cluster.gateways();
      String one = gw.get(0) + "," + gw.get(1);
      String two = gw.get(1) + "," + gw.get(0);
      Rss rss = cluster::rssBytes;
      throughput(ctx, rows, SystemId.DSTORE_CLUSTER, 1, List.of(gw.get(0)), rss);
      throughput(ctx, rows, SystemId.DSTORE_CLUSTER, 2, List.of(one, two), rss);
      deletes(ctx, rows, SystemId.DSTORE_CLUSTER, 2, List.of(one, two), rss);
      rows.add(failover(ctx, cluster, one));
    } finally {
      ctx.progress("cluster: scripts/dev-cluster.sh down --purge");
      long t1 = System.nanoTime();
      cluster.close();
      ctx.progress("  down in %.1f s", (System.nanoTime() - t1) / 1e9);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down; the hook runs anyway
      }
    }
  }

  /**
   * Unmeasured gets and puts of 100 B values through one Local, so that the harness JVM's client
   * code is compiled before the first measured cell (the single Global's, which would otherwise pay
   * for it alone: the cluster's cells come later in the same JVM).
   */
  private void warmHarness(BenchContext ctx, String address) throws InterruptedException {
    ctx.progress("cluster: warming the harness's client code (not measured)");
    try (DstoreTarget.DstoreClient c = local(address, "bench-cluster-warm", 0)) {
      BenchKey[] keys = BenchKey.range("cw-" + ctx.runId() + "-", 200);
      byte[] value = Cells.randomBytes(100, 1);
      Cells.parallel(keys.length, 8, i -> c.put(keys[i], value));
      long until = System.nanoTime() + 2 * warmup(ctx);
      AtomicLong n = new AtomicLong();
      Cells.parallel(
          THREADS,
          THREADS,
          t -> {
            SplittableRandom random = new SplittableRandom(t);
            while (System.nanoTime() - until < 0) {
              c.get(keys[random.nextInt(keys.length)]);
              c.put(new BenchKey("cw-" + ctx.runId() + "-" + t + "-" + n.incrementAndGet()), value);
            }
          });
    }
  }

  /** Resident memory of the server side: the Global's JVM, or every process of the cluster. */
  @FunctionalInterface
  private interface Rss {
    Long bytes();
  }

  private static DstoreTarget.DstoreClient local(String target, String name, long cacheBytes) {
    DstoreOptions options = DstoreOptions.builder().name(name).cacheSizeBytes(cacheBytes).build();
    DstoreTarget.DstoreClient c = new DstoreTarget.DstoreClient(Dstore.connect(target, options));
    c.awaitLease(START_TIMEOUT);
    return c;
  }

  private static String label(SystemId system, int gateways, int locals) {
    return system == SystemId.DSTORE ? "single-" + locals + "l" : gateways + "gw";
  }

  /** get and put cells, 16 threads split over one uncached Local per target. */
  private void throughput(
      BenchContext ctx,
      List<Result> rows,
      SystemId system,
      int gateways,
      List<String> targets,
      Rss rss)
      throws InterruptedException {
    String label = label(system, gateways, targets.size());
    List<DstoreTarget.DstoreClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < targets.size(); i++) {
        clients.add(local(targets.get(i), "bench-cluster-" + label + "-" + i, 0));
      }
      for (int size : VALUE_SIZES) {
        byte[] value = Cells.randomBytes(size, size);
        int count = size >= (1 << 20) ? 64 : 500;
        BenchKey[] keys =
            BenchKey.range("cg-" + ctx.runId() + "-" + label + "-" + size + "-", count);
        KvClient loader = clients.get(0);
        Cells.parallel(count, 8, i -> loader.put(keys[i], value));
        LoadRunner.Measurement get =
            LoadRunner.run(
                "cluster-get-" + label,
                THREADS,
                warmup(ctx),
                measure(ctx),
                1,
                Long.MAX_VALUE,
                t -> {
                  KvClient c = clients.get(t % clients.size());
                  SplittableRandom random = new SplittableRandom(11 + t);
                  return () -> {
                    if (c.get(keys[random.nextInt(keys.length)]) == null) {
                      throw new IllegalStateException("a preloaded key read as absent");
                    }
                  };
                });
        rows.add(throughputRow("get", system, gateways, clients.size(), size, get, rss));
        ctx.progress(Cells.describe(rows.get(rows.size() - 1)) + "  " + label);

        String prefix = "cp-" + ctx.runId() + "-" + label + "-" + size + "-";
        LoadRunner.Measurement put =
            LoadRunner.run(
                "cluster-put-" + label,
                THREADS,
                warmup(ctx),
                measure(ctx),
                1,
                Math.max(200, PUT_BYTES_CAP / size),
                t -> {
                  KvClient c = clients.get(t % clients.size());
                  AtomicLong n = new AtomicLong();
                  return () -> {
                    c.put(new BenchKey(prefix + t + "-" + n.get()), value);
                    n.incrementAndGet();
                  };
                });
        rows.add(throughputRow("put", system, gateways, clients.size(), size, put, rss));
        ctx.progress(Cells.describe(rows.get(rows.size() - 1)) + "  " + label);
      }
    } finally {
      clients.forEach(KvClient::close);
    }
  }

  private static long warmup(BenchContext ctx) {
    return ctx.settings().warmup().toNanos() / 2;
  }

  private static long measure(BenchContext ctx) {
    return ctx.settings().measure().toNanos() * 3 / 4;
  }

  private static Result throughputRow(
      String measure,
      SystemId system,
      int gateways,
      int locals,
      int size,
      LoadRunner.Measurement m,
      Rss rss) {
    Map<String, Object> cluster = new LinkedHashMap<>();
    cluster.put("measure", measure);
    cluster.put("gateways", system == SystemId.DSTORE ? null : gateways);
    double ops = m.opsPerSecond();
    return new Result(
        Scenario.CLUSTER,
        system,
        THREADS,
        size,
        locals,
        ops,
        m.percentileMicros(50),
        m.percentileMicros(99),
        m.percentileMicros(99.9),
        null,
        ops * size,
        rss.bytes(),
        null,
        Map.of(),
        cluster);
  }

  /** Strict deletes by Local 0 while 32 Locals (round-robin over {@code targets}) cache the key. */
  private void deletes(
      BenchContext ctx,
      List<Result> rows,
      SystemId system,
      int gateways,
      List<String> targets,
      Rss rss)
      throws InterruptedException {
    String label = label(system, gateways, DELETE_LOCALS);
    ctx.progress("cluster: %s: strict deletes with %d caching Locals", label, DELETE_LOCALS);
    DstoreTarget.DstoreClient[] locals = new DstoreTarget.DstoreClient[DELETE_LOCALS];
    try {
      Cells.parallel(
          DELETE_LOCALS,
          8,
          i ->
              locals[i] =
                  local(targets.get(i % targets.size()), "bench-cluster-del-" + i, 8L << 20));
      // Every Local reads every key once to cache it, at some 200 reads/s through the cluster
      // here: 100 keys keep that under 20 s.
      int warm = Math.min(10, ctx.settings().invalidateWarmupDeletes());
      int max = Math.min(90, ctx.settings().invalidateMaxDeletes());
      BenchKey[] keys = BenchKey.range("cd-" + ctx.runId() + "-" + label + "-", warm + max);
      byte[] value = Cells.randomBytes(InvalidateScenario.VALUE_SIZE, 5);
      Cells.parallel(keys.length, 4, i -> locals[0].put(keys[i], value));
      Cells.parallel(DELETE_LOCALS, 8, i -> LocalHitScenario.warmCache(locals[i], keys));
      Histogram latency = new Histogram(3);
      latency.setAutoResize(true);
      long budget = ctx.settings().invalidateBudget().toNanos();
      long totalNanos = 0;
      int measured = 0;
      int stale = 0;
      long begin = 0;
      for (int i = 0; i < keys.length; i++) {
        if (i == warm) {
          begin = System.nanoTime();
        }
        if (i >= warm && System.nanoTime() - begin > budget) {
          break;
        }
        long t0 = System.nanoTime();
        locals[0].delete(keys[i]);
        long took = System.nanoTime() - t0;
        for (DstoreTarget.DstoreClient l : locals) {
          if (l.isCached(keys[i])) {
            stale++;
          }
        }
        if (i >= warm) {
          latency.recordValue(took);
          totalNanos += took;
          measured++;
        }
      }
      Map<String, Object> cluster = new LinkedHashMap<>();
      cluster.put("measure", "strict delete");
      cluster.put("gateways", system == SystemId.DSTORE ? null : gateways);
      cluster.put("deletes", measured);
      cluster.put("stale_after_delete", stale);
      Map<String, String> extras = new LinkedHashMap<>();
      if (stale > 0) {
        extras.put("stale after delete", Integer.toString(stale));
      }
      Result r =
          new Result(
              Scenario.CLUSTER,
              system,
              1,
              InvalidateScenario.VALUE_SIZE,
              DELETE_LOCALS,
              measured == 0 ? 0 : measured * 1e9 / totalNanos,
              measured == 0 ? null : latency.getValueAtPercentile(50) / 1000.0,
              measured == 0 ? null : latency.getValueAtPercentile(99) / 1000.0,
              measured == 0 ? null : latency.getValueAtPercentile(99.9) / 1000.0,
              null,
              null,
              rss.bytes(),
              null,
              extras,
              cluster);
      rows.add(r);
      ctx.progress(
          "%s  %s  (%d deletes, %d stale after delete)", Cells.describe(r), label, measured, stale);
    } finally {
      for (DstoreTarget.DstoreClient l : locals) {
        if (l != null) {
          l.close();
        }
      }
    }
  }

  /** What one reader thread of the failover saw; written by that thread, read after its join. */
  private static final class Reader {
    long served;
    long failed;
    long maxGapBefore; // nanos between successive served hits, both before the kill
    long maxGapAfter; // ... the later one after the kill
    volatile long firstAfterKill; // when a read started after the kill was served, 0 if none
  }

  private Result failover(BenchContext ctx, DevCluster cluster, String target)
      throws InterruptedException {
    ctx.progress(
        "cluster: failover: %d Locals on %s; SIGKILL of gateway 1 (pid %d) under readers",
        FAILOVER_LOCALS, target, cluster.gatewayPid(0));
    DstoreTarget.DstoreClient[] locals = new DstoreTarget.DstoreClient[FAILOVER_LOCALS];
    List<Thread> threads = new ArrayList<>();
    Reader[] hits = new Reader[FAILOVER_LOCALS];
    Reader[] misses = new Reader[FAILOVER_LOCALS];
    AtomicLong killAt = new AtomicLong(); // 0 until the kill
    AtomicLong stop = new AtomicLong();
    Histogram missLatency = new Histogram(3);
    missLatency.setAutoResize(true);
    KvClient.CacheCounts[] before = new KvClient.CacheCounts[FAILOVER_LOCALS];
    try {
      Cells.parallel(
          FAILOVER_LOCALS, 4, i -> locals[i] = local(target, "bench-cluster-fo-" + i, 8L << 20));
      BenchKey hit = new BenchKey("cf-" + ctx.runId() + "-hit");
      byte[] value = Cells.randomBytes(InvalidateScenario.VALUE_SIZE, 9);
      locals[0].put(hit, value);
      for (DstoreTarget.DstoreClient l : locals) {
        LocalHitScenario.warmCache(l, new BenchKey[] {hit});
      }
      for (int i = 0; i < FAILOVER_LOCALS; i++) {
        before[i] = locals[i].cacheCounts();
        KvClient c = locals[i];
        Reader h = hits[i] = new Reader();
        Reader m = misses[i] = new Reader();
        int index = i;
        threads.add(
            new Thread(
                () -> {
                  long last = 0;
                  while (stop.get() == 0) {
                    try {
                      if (c.get(hit) != null) {
                        long now = System.nanoTime();
                        if (last != 0) {
                          long k = killAt.get();
                          long gap = now - last;
                          if (k != 0 && now > k) {
                            h.maxGapAfter = Math.max(h.maxGapAfter, gap);
                          } else {
                            h.maxGapBefore = Math.max(h.maxGapBefore, gap);
                          }
                        }
                        last = now;
                        h.served++;
                      } else {
                        h.failed++;
                      }
                    } catch (RuntimeException e) {
                      h.failed++;
                    }
                    LockSupport.parkNanos(HIT_PAUSE_NANOS);
                  }
                },
                "bench-failover-hit-" + i));
        threads.add(
            new Thread(
                () -> {
                  long n = 0;
                  while (stop.get() == 0) {
                    BenchKey k = new BenchKey("cf-" + ctx.runId() + "-miss-" + index + "-" + n++);
                    long t0 = System.nanoTime();
                    long killed = killAt.get();
                    try {
                      if (c.get(k) != null) {
                        m.failed++; // a key nobody wrote cannot be present
                      } else {
                        long now = System.nanoTime();
                        m.served++;
                        synchronized (missLatency) {
                          missLatency.recordValue(now - t0);
                        }
                        if (killed != 0 && m.firstAfterKill == 0) {
                          m.firstAfterKill = now;
                        }
                      }
                    } catch (RuntimeException e) {
                      m.failed++;
                    }
                    LockSupport.parkNanos(MISS_PAUSE_NANOS);
                  }
                },
                "bench-failover-miss-" + i));
      }
      threads.forEach(
          t -> {
            t.setDaemon(true);
            t.start();
          });
      Thread.sleep(2_000); // the readers' normal jitter, before the kill
      long pid = cluster.gatewayPid(0);
      long killed = System.nanoTime();
      killAt.set(killed);
      DevCluster.killNow(pid);
      ctx.progress("cluster: failover: gateway 1 (pid %d) killed", pid);
      // Until every Local served a miss through gateway 2 (at most 30 s), then 2 s more.
      long deadline = killed + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() - deadline < 0
          && Stream.of(misses).anyMatch(r -> r.firstAfterKill == 0)) {
        Thread.sleep(10);
      }
      Thread.sleep(2_000);
    } finally {
      stop.set(1);
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
      }
    }
    long killed = killAt.get();
    long hitsServed = Stream.of(hits).mapToLong(r -> r.served).sum();
    long hitsFailed = Stream.of(hits).mapToLong(r -> r.failed).sum();
    long missesServed = Stream.of(misses).mapToLong(r -> r.served).sum();
    long missesFailed = Stream.of(misses).mapToLong(r -> r.failed).sum();
    long gapBefore = Stream.of(hits).mapToLong(r -> r.maxGapBefore).max().orElse(0);
    long gapAfter = Stream.of(hits).mapToLong(r -> r.maxGapAfter).max().orElse(0);
    List<Long> firsts =
        Stream.of(misses).map(r -> r.firstAfterKill).filter(t -> t != 0).sorted().toList();
    Double firstMissMs = firsts.isEmpty() ? null : (firsts.get(0) - killed) / 1e6;
    Double lastMissMs =
        firsts.size() < FAILOVER_LOCALS ? null : (firsts.get(firsts.size() - 1) - killed) / 1e6;
    long cacheHits = 0;
    for (int i = 0; i < FAILOVER_LOCALS; i++) {
      KvClient.CacheCounts now = locals[i].cacheCounts();
      cacheHits += now.hits() - before[i].hits();
    }
    for (DstoreTarget.DstoreClient l : locals) {
      if (l != null) {
        l.close();
      }
    }
    // The Locals' cache counters include the miss loop's reads (one cache miss each); the hit
    // ratio is of the hit loop's reads only.
    long hitReads = hitsServed + hitsFailed;
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("measure", "failover");
    figures.put("gateways", 2);
    figures.put("max_hit_gap_before_kill_us", gapBefore / 1000.0);
    figures.put("max_hit_gap_after_kill_us", gapAfter / 1000.0);
    figures.put("kill_to_first_miss_ms", firstMissMs);
    figures.put("kill_to_every_local_miss_ms", lastMissMs);
    figures.put("hits_served", hitsServed);
    figures.put("hits_failed", hitsFailed);
    figures.put("misses_served", missesServed);
    figures.put("misses_failed", missesFailed);
    Map<String, String> extras = new LinkedHashMap<>();
    extras.put(
        "max hit gap before/after kill ms", ms(gapBefore / 1e6) + " / " + ms(gapAfter / 1e6));
    extras.put(
        "kill to 1st miss (first/last Local) ms",
        (firstMissMs == null ? "none" : ms(firstMissMs))
            + " / "
            + (lastMissMs == null ? "none" : ms(lastMissMs)));
    extras.put("failed reads (hit/miss)", hitsFailed + " / " + missesFailed);
    double seconds = (System.nanoTime() - killed) / 1e9 + 2;
    Result r =
        new Result(
            Scenario.CLUSTER,
            SystemId.DSTORE_CLUSTER,
            2 * FAILOVER_LOCALS,
            InvalidateScenario.VALUE_SIZE,
            FAILOVER_LOCALS,
            (hitsServed + missesServed) / seconds,
            missLatency.getTotalCount() == 0 ? null : missLatency.getValueAtPercentile(50) / 1000.0,
            missLatency.getTotalCount() == 0 ? null : missLatency.getValueAtPercentile(99) / 1000.0,
            missLatency.getTotalCount() == 0
                ? null
                : missLatency.getValueAtPercentile(99.9) / 1000.0,
            hitReads == 0 ? null : Math.min(1.0, (double) cacheHits / hitReads),
            null,
            cluster.rssBytes(),
            null,
            extras,
            figures);
    ctx.progress(
        "cluster: failover: hit gap max %s ms before the kill, %s ms after; first miss through"
            + " gateway 2 after %s ms (every Local: %s ms); failed reads: %d hits, %d misses",
        ms(gapBefore / 1e6),
        ms(gapAfter / 1e6),
        firstMissMs == null ? "none" : ms(firstMissMs),
        lastMissMs == null ? "none" : ms(lastMissMs),
        hitsFailed,
        missesFailed);
    return r;
  }

  private static String ms(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /**
   * Adds to each cluster get/put row its ratio of ops/s to the single-Global row with the same
   * measure, value size and number of Locals ({@code ratio_to_single}), and, for two gateways, to
   * the single Global with one Local ({@code ratio_to_single_1_local}); to the cluster's delete row
   * its p50 and p99 ratios to the single Global's.
   */
  static List<Result> withRatios(List<Result> rows) {
    List<Result> out = new ArrayList<>();
    for (Result r : rows) {
      if (r.system() != SystemId.DSTORE_CLUSTER) {
        out.add(r);
        continue;
      }
      Object measure = r.cluster().get("measure");
      Map<String, Object> figures = new LinkedHashMap<>(r.cluster());
      Map<String, String> extras = new LinkedHashMap<>(r.extras());
      if ("get".equals(measure) || "put".equals(measure)) {
        Result same = single(rows, measure, r.valueSize(), r.locals());
        if (same != null && same.opsPerSecond() > 0) {
          double ratio = r.opsPerSecond() / same.opsPerSecond();
          figures.put("ratio_to_single", ratio);
          extras.put("vs single (same Locals)", String.format(Locale.ROOT, "%.2fx", ratio));
        }
        Result one = single(rows, measure, r.valueSize(), 1);
        if (one != null && one.opsPerSecond() > 0 && r.locals() != null && r.locals() != 1) {
          double ratio = r.opsPerSecond() / one.opsPerSecond();
          figures.put("ratio_to_single_1_local", ratio);
          extras.put("vs single (1 Local)", String.format(Locale.ROOT, "%.2fx", ratio));
        }
      } else if ("strict delete".equals(measure)) {
        Result same = single(rows, measure, r.valueSize(), r.locals());
        if (same != null
            && same.p50Micros() != null
            && r.p50Micros() != null
            && same.p99Micros() != null
            && r.p99Micros() != null) {
          double p50 = r.p50Micros() / same.p50Micros();
          double p99 = r.p99Micros() / same.p99Micros();
          figures.put("p50_ratio_to_single", p50);
          figures.put("p99_ratio_to_single", p99);
          extras.put(
              "delete p50/p99 vs single", String.format(Locale.ROOT, "%.1fx / %.1fx", p50, p99));
        }
      }
      out.add(r.withFigures(extras, figures));
    }
    return out;
  }

  private static Result single(List<Result> rows, Object measure, long size, Integer locals) {
    return rows.stream()
        .filter(
            x ->
                x.system() == SystemId.DSTORE
                    && measure.equals(x.cluster().get("measure"))
                    && x.valueSize() == size
                    && java.util.Objects.equals(x.locals(), locals))
        .findFirst()
        .orElse(null);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // a temp directory; harmless
                }
              });
    } catch (IOException e) {
      // a temp directory; harmless
    }
  }
}
