package io.dstore.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.LocalStats;
import io.dstore.server.Coherence;
import io.dstore.testing.EtcdCluster;
import io.dstore.testing.S3Proxy;
import io.dstore.testing.TcpProxy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The linearizability checker over a cluster store: two gateways (child JVMs, {@link
 * GatewayProcess}) over a real 3-member etcd and s3proxy, strict mode, {@value #LOCALS} Locals of
 * {@value #THREADS_PER_LOCAL} client threads each on {@value #KEYS} keys, half of the Locals
 * listing the gateways {@code g1,g2} and half {@code g2,g1}. Clients run random put/get/delete;
 * about one put in ten writes a value over the inline threshold ({@value #INLINE_THRESHOLD} B), so
 * its bytes go to S3. Every operation is recorded with its invoke and return times and each key's
 * history is checked with {@link LinearizabilityChecker}: there must be no violation.
 *
 * <p>Faults, injected one at a time in rounds, each round every kind once in a seeded order, with a
 * quiet gap of 1 to 2.5 s between two faults (so every kind happens at least once; the run goes on
 * until a whole round is done even when the operations are issued first):
 *
 * <ul>
 *   <li>gateway crash: kill -9 of a random gateway, restarted on the same port 0.3 to 1.3 s later;
 *   <li>etcd leader crash: kill -9 of the leader, restarted 0.5 to 2 s later;
 *   <li>gateway cut off from etcd: the TCP proxies between one gateway and every etcd member stall
 *       for 2 to 3.5 s (longer than the gateway's 2 s etcd lease), then drop every connection for
 *       0.5 to 1.5 s, then pass;
 *   <li>S3 slow: the TCP proxy between the gateways and s3proxy stalls for 1 to 3 s;
 *   <li>S3 unavailable: s3proxy killed (SIGKILL), restarted 0.5 to 1.5 s later.
 * </ul>
 *
 * <p>A failed write is recorded with an unknown outcome that may take effect up to {@value
 * #UNKNOWN_WINDOW_SECONDS} s after its caller saw it fail (longer than any fault holds bytes on
 * their way, and longer than a gateway's etcd call deadline of 20 s); a failed read is not
 * recorded. The run is {@code -Ddstore.check.cluster.ops} operations: 100,000 with {@code
 * -Ddstore.check.full=true}, else 15,000, to keep {@code ./mvnw verify} short (on a loaded 2-core
 * machine the cluster runs about 70 to 90 operations a second, so 100,000 take about 20 minutes),
 * seeded with {@code -Ddstore.check.seed} (printed on failure).
 */
@Timeout(value = 45, unit = TimeUnit.MINUTES)
class ClusterCoherenceCheckIT {
  static final Duration LEASE = Duration.ofMillis(500);
  static final Duration GATEWAY_LEASE = Duration.ofSeconds(2);
  static final int INLINE_THRESHOLD = 512;
  private static final int LOCALS = 4;
  private static final int THREADS_PER_LOCAL = 6;
  private static final int KEYS = 8;
  // A gateway keeps trying an etcd call for up to 20 s (EtcdCalls.DEADLINE), long after the
  // Local gave up on it (3 s) and retried elsewhere: a failed write may land that late.
  private static final int UNKNOWN_WINDOW_SECONDS = 25;

  @TempDir Path temp;

  /** The kinds of fault, in the order of the Javadoc. */
  enum Fault {
    GATEWAY_CRASH,
    ETCD_LEADER_CRASH,
    GATEWAY_CUT_FROM_ETCD,
    S3_SLOW,
    S3_DOWN
  }

  @Test
  void strictHistoriesThroughTwoGatewaysAreLinearizableUnderClusterFaults() throws Exception {
    long seed = Long.getLong("dstore.check.seed", System.nanoTime());
    int ops =
        Integer.getInteger(
            "dstore.check.cluster.ops", Boolean.getBoolean("dstore.check.full") ? 100_000 : 15_000);
    Run run = new Run(seed, ops);
    try {
      run.execute();
    } catch (Throwable t) {
      throw new AssertionError("seed " + seed + ": the run failed", t);
    }
    run.report();
    List<String> violations = new ArrayList<>();
    long checkStart = System.nanoTime();
    for (Map.Entry<String, List<Op>> key : new TreeMap<>(run.history.byKey()).entrySet()) {
      Optional<String> violation = LinearizabilityChecker.check(key.getValue());
      if (violation.isPresent()) {
        dump(seed, key.getKey(), key.getValue());
        violations.add(key.getKey() + ": " + violation.get());
      }
    }
    System.out.printf(
        "cluster check: seed %d, %d violations, histories checked in %.1f s%n",
        seed, violations.size(), (System.nanoTime() - checkStart) / 1e9);
    assertThat(run.faults).as("seed %d: every kind of fault was injected", seed).hasSize(5);
    assertThat(violations).as("seed %d: violations", seed).isEmpty();
  }

  /** Writes a key's whole history, sorted by invocation, next to the test reports. */
  private static void dump(long seed, String key, List<Op> ops) {
    List<Op> sorted = new ArrayList<>(ops);
    sorted.sort(Comparator.comparingLong(Op::invoke));
    Path file = Path.of("target", "cluster-check-" + seed + "-" + key + ".txt");
    try {
      Files.write(file, sorted.stream().map(Op::toString).toList());
      System.out.println("history of " + key + " written to " + file.toAbsolutePath());
    } catch (java.io.IOException e) {
      System.out.println("could not write " + file + ": " + e);
    }
  }

  /** One seeded run: etcd, s3proxy, proxies, two gateways, Locals, clients, a fault schedule. */
  private final class Run {
    final long seed;
    final int totalOps;
    final HistoryRecorder history =
        new HistoryRecorder(TimeUnit.SECONDS.toNanos(UNKNOWN_WINDOW_SECONDS));
    final Map<Fault, Integer> faults = new EnumMap<>(Fault.class);
    final List<LocalStats> stats = new ArrayList<>();
    final AtomicBoolean everyFaultDone = new AtomicBoolean();
    long elapsedNanos;
    long issuedOps;

    Run(long seed, int totalOps) {
      this.seed = seed;
      this.totalOps = totalOps;
    }

    void execute() throws Exception {
      System.out.printf("cluster coherence check: seed %d, %d operations%n", seed, totalOps);
      Random random = new Random(seed);
      List<AutoCloseable> open = new ArrayList<>();
      ExecutorService clients = Executors.newFixedThreadPool(LOCALS * THREADS_PER_LOCAL);
      try {
        EtcdCluster etcd = EtcdCluster.start(temp.resolve("etcd"), 3);
        open.add(etcd);
        S3Proxy s3 = S3Proxy.start(temp.resolve("s3"));
        open.add(s3);
        TcpProxy s3Link = new TcpProxy(s3.port());
        open.add(s3Link);
        List<List<TcpProxy>> etcdLinks = new ArrayList<>();
        List<GatewayProcess> gateways = new ArrayList<>();
        for (int g = 0; g < 2; g++) {
          List<TcpProxy> links = new ArrayList<>();
          List<String> endpoints = new ArrayList<>();
          for (String member : etcd.endpoints()) {
            TcpProxy link = new TcpProxy(URI.create(member).getPort());
            open.add(link);
            links.add(link);
            endpoints.add("http://" + link.address());
          }
          etcdLinks.add(links);
          GatewayProcess gateway =
              GatewayProcess.start(
                  0,
                  new GatewayProcess.Settings(
                      String.join(",", endpoints),
                      "/check/",
                      "http://" + s3Link.address(),
                      "s3://" + s3.bucket() + "/check",
                      s3.accessKey(),
                      s3.secretKey(),
                      Coherence.STRICT,
                      LEASE,
                      GATEWAY_LEASE,
                      INLINE_THRESHOLD));
          open.add(gateway);
          gateways.add(gateway);
        }
        List<Dstore> locals = new ArrayList<>();
        for (int i = 0; i < LOCALS; i++) {
          GatewayProcess first = gateways.get(i % 2);
          GatewayProcess second = gateways.get(1 - i % 2);
          Dstore local =
              Dstore.connect(
                  first.address() + "," + second.address(),
                  DstoreOptions.builder()
                      .name("cluster-check-" + i)
                      .requestTimeout(Duration.ofSeconds(3))
                      .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(200))
                      .build());
          open.add(local);
          locals.add(local);
        }
        AtomicLong issued = new AtomicLong();
        long start = System.nanoTime();
        List<Future<?>> running = new ArrayList<>();
        for (int l = 0; l < LOCALS; l++) {
          for (int t = 0; t < THREADS_PER_LOCAL; t++) {
            Dstore local = locals.get(l);
            String client = "L" + l + "T" + t;
            Random r = new Random(seed * 31 + l * 7L + t);
            running.add(clients.submit(() -> work(client, local, r, issued)));
          }
        }
        List<Fault> round = new ArrayList<>();
        while (running.stream().anyMatch(f -> !f.isDone())) {
          if (round.isEmpty()) {
            round.addAll(List.of(Fault.values()));
            Collections.shuffle(round, random);
          }
          Thread.sleep(1000 + random.nextInt(1500)); // the quiet gap is part of the workload
          inject(round.remove(0), random, etcd, s3, s3Link, etcdLinks, gateways);
          if (faults.size() == Fault.values().length) {
            everyFaultDone.set(true);
          }
        }
        for (Future<?> f : running) {
          f.get();
        }
        elapsedNanos = System.nanoTime() - start;
        issuedOps = Math.min(issued.get(), Long.MAX_VALUE);
        for (Dstore local : locals) {
          stats.add(local.stats());
        }
      } finally {
        clients.shutdownNow();
        for (int i = open.size() - 1; i >= 0; i--) {
          try {
            open.get(i).close();
          } catch (Exception e) {
            System.out.println("closing " + open.get(i) + ": " + e);
          }
        }
      }
    }

    private void work(String client, Dstore local, Random random, AtomicLong issued) {
      int n = 0;
      boolean probing = false;
      while (issued.incrementAndGet() <= totalOps || !everyFaultDone.get()) {
        if (HistoryRecorder.LAST_FAILED.get()) {
          // As in CoherenceCheckIT: a client whose call failed backs off, then only reads until a
          // read succeeds, so an unavailable cluster neither burns the budget nor piles up writes
          // whose outcome nobody knows.
          HistoryRecorder.LAST_FAILED.set(false);
          probing = true;
          try {
            Thread.sleep(20 + random.nextInt(30));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        } else if (probing) {
          probing = false;
        }
        String key = "key" + random.nextInt(KEYS);
        int dice = probing ? 0 : random.nextInt(100);
        if (dice < 60) {
          history.get(client, local, key);
        } else if (dice < 80) {
          String value = client + "-" + n++;
          if (random.nextInt(10) == 0) {
            // Over the inline threshold: the bytes go to S3.
            value =
                value + "|" + "x".repeat(INLINE_THRESHOLD + random.nextInt(4 * INLINE_THRESHOLD));
          }
          history.put(client, local, key, value);
        } else {
          history.delete(client, local, key);
        }
      }
    }

    private void inject(
        Fault fault,
        Random random,
        EtcdCluster etcd,
        S3Proxy s3,
        TcpProxy s3Link,
        List<List<TcpProxy>> etcdLinks,
        List<GatewayProcess> gateways)
        throws Exception {
      faults.merge(fault, 1, Integer::sum);
      long t0 = System.nanoTime();
      String what;
      switch (fault) {
        case GATEWAY_CRASH -> {
          int g = random.nextInt(gateways.size());
          gateways.get(g).kill();
          Thread.sleep(300 + random.nextInt(1000));
          gateways.get(g).restart();
          what = "gateway " + g;
        }
        case ETCD_LEADER_CRASH -> {
          int leader = etcd.leader();
          etcd.kill(leader);
          Thread.sleep(500 + random.nextInt(1500));
          etcd.restart(leader);
          what = "etcd member " + leader;
        }
        case GATEWAY_CUT_FROM_ETCD -> {
          int g = random.nextInt(gateways.size());
          List<TcpProxy> links = etcdLinks.get(g);
          links.forEach(l -> l.stall(true, true));
          Thread.sleep(2000 + random.nextInt(1500));
          links.forEach(TcpProxy::drop);
          Thread.sleep(500 + random.nextInt(1000));
          links.forEach(TcpProxy::pass);
          what = "gateway " + g;
        }
        case S3_SLOW -> {
          s3Link.stall(true, true);
          Thread.sleep(1000 + random.nextInt(2000));
          s3Link.pass();
          what = "s3";
        }
        case S3_DOWN -> {
          s3.kill();
          Thread.sleep(500 + random.nextInt(1000));
          s3.restart();
          what = "s3proxy";
        }
        default -> throw new IllegalStateException(fault.name());
      }
      System.out.printf(
          "fault %s (%s) for %d ms, %d ops recorded so far%n",
          fault, what, (System.nanoTime() - t0) / 1_000_000, history.size());
    }

    void report() {
      Map<String, Integer> byKind = new TreeMap<>();
      for (List<Op> ops : history.byKey().values()) {
        for (Op op : ops) {
          byKind.merge(op.kind() + " " + op.outcome(), 1, Integer::sum);
        }
      }
      int recorded = history.size();
      System.out.printf(
          "cluster: %d ops issued, %d recorded in %.1f s (%.0f ops/s); by kind and outcome %s%n",
          issuedOps, recorded, elapsedNanos / 1e9, recorded / (elapsedNanos / 1e9), byKind);
      System.out.println("cluster: faults injected " + faults);
      Map<String, Long> byCode = new TreeMap<>();
      history.failures().forEach((why, n) -> byCode.merge(why.split(":", 2)[0], n, Long::sum));
      System.out.println("cluster: failed calls by code " + byCode);
      System.out.println("cluster: failed calls " + history.failures());
      System.out.printf(
          "cluster: hits %d, misses %d; gaps %d, replays %d, revalidations %d, reconnects %d%n",
          stats.stream().mapToLong(LocalStats::cacheHits).sum(),
          stats.stream().mapToLong(LocalStats::cacheMisses).sum(),
          stats.stream().mapToLong(LocalStats::gapsDetected).sum(),
          stats.stream().mapToLong(LocalStats::replays).sum(),
          stats.stream().mapToLong(LocalStats::revalidations).sum(),
          stats.stream().mapToLong(LocalStats::reconnects).sum());
    }
  }
}
