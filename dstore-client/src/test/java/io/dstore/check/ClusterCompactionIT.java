package io.dstore.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.Coherence;
import io.dstore.testing.Await;
import io.dstore.testing.EtcdCluster;
import io.dstore.testing.S3Proxy;
import io.dstore.testing.TcpProxy;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Local that fails over to a gateway whose etcd history was compacted past the Local's last
 * applied revision revalidates its cache instead of replaying, and serves nothing stale meanwhile.
 *
 * <p>The set-up: Local {@code L} lists {@code g1} (behind a fault proxy) then {@code g2}; {@code
 * g2} is cut off from etcd, {@code L} is frozen, keys {@code L} cached are deleted and replaced
 * through {@code g1}, etcd is compacted at its current revision, {@code g2} gets etcd back (its
 * watch finds its revision compacted), and {@code g1} is killed: {@code L} moves to {@code g2},
 * which cannot replay what {@code L} missed.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterCompactionIT {
  private static final Duration LEASE = Duration.ofMillis(500);
  private static final Pattern REVISION = Pattern.compile("\"revision\":(\\d+)");

  @TempDir Path temp;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeEverything() {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        System.out.println("closing " + open.get(i) + ": " + e);
      }
    }
  }

  @Test
  void aLocalFailingOverToAGatewayPastACompactionRevalidatesAndServesNothingStale()
      throws Exception {
    EtcdCluster etcd = EtcdCluster.start(temp.resolve("etcd"), 3);
    open.add(etcd);
    S3Proxy s3 = S3Proxy.start(temp.resolve("s3"));
    open.add(s3);
    List<TcpProxy> g2Etcd = new ArrayList<>();
    List<String> g2Endpoints = new ArrayList<>();
    for (String member : etcd.endpoints()) {
      TcpProxy link = new TcpProxy(URI.create(member).getPort());
      open.add(link);
      g2Etcd.add(link);
      g2Endpoints.add("http://" + link.address());
    }
    GatewayProcess g1 = gateway(etcd.endpointsCsv(), s3);
    GatewayProcess g2 = gateway(String.join(",", g2Endpoints), s3);
    TcpProxy toG1 = new TcpProxy(g1.port());
    open.add(toG1);
    Dstore local = connect(toG1.address() + "," + g2.address(), "L");
    Dstore writer = connect(g1.address(), "W");

    for (int i = 0; i < 10; i++) {
      writer.put(key("k" + i), value("old" + i, i));
    }
    for (int i = 0; i < 10; i++) {
      assertThat(local.get(key("k" + i))).isEqualTo(value("old" + i, i));
    }
    Await.until("L caches every key", () -> allCached(local, 10));
    long revalidationsBefore = local.stats().revalidations();
    long seqBefore = local.stats().lastAppliedSeq();

    g2Etcd.forEach(TcpProxy::drop); // g2's watch stops where it is
    toG1.stall(true, true); // L hears nothing more
    for (int i = 0; i < 5; i++) {
      writer.delete(key("k" + i)); // strict: returns once L's lease has run out
    }
    for (int i = 10; i < 20; i++) {
      writer.put(key("k" + i), value("new" + i, i));
    }
    long revision = revision(etcd);
    etcd.etcdctl("compact", Long.toString(revision));
    g2Etcd.forEach(TcpProxy::pass); // g2's watch resumes below the compaction
    g1.kill();
    toG1.drop(); // L must move to g2

    // From now on, every read through L is checked until it has revalidated.
    Await.until(
        "L revalidates through g2",
        Duration.ofSeconds(60),
        () -> {
          assertNothingStale(local);
          return local.stats().revalidations() > revalidationsBefore;
        });
    assertNothingStale(local);
    for (int i = 5; i < 10; i++) {
      assertThat(local.get(key("k" + i))).isEqualTo(value("old" + i, i));
    }
    for (int i = 10; i < 20; i++) {
      assertThat(local.get(key("k" + i))).isEqualTo(value("new" + i, i));
    }
    System.out.printf(
        "compaction: L at seq %d before, compacted at revision %d; after: seq %d, revalidations %d,"
            + " replays %d, gaps %d, reconnects %d%n",
        seqBefore,
        revision,
        local.stats().lastAppliedSeq(),
        local.stats().revalidations(),
        local.stats().replays(),
        local.stats().gapsDetected(),
        local.stats().reconnects());
  }

  /** Every deleted key reads as absent, whether from L's cache or through a gateway. */
  private static void assertNothingStale(Dstore local) {
    for (int i = 0; i < 5; i++) {
      byte[] k = key("k" + i);
      try {
        byte[] v = local.get(k);
        throw new AssertionError("L served deleted k" + i + ": " + v.length + " bytes");
      } catch (DstoreException e) {
        if (e.code() != ErrorCode.NOT_FOUND && e.code() != ErrorCode.UNAVAILABLE) {
          throw e;
        }
      }
    }
  }

  private static boolean allCached(Dstore local, int n) {
    for (int i = 0; i < n; i++) {
      if (!local.isCached(key("k" + i))) {
        return false;
      }
    }
    return true;
  }

  private static long revision(EtcdCluster etcd) throws Exception {
    String out = etcd.etcdctl("endpoint", "status", "-w", "json");
    Matcher m = REVISION.matcher(out);
    long max = 0;
    while (m.find()) {
      max = Math.max(max, Long.parseLong(m.group(1)));
    }
    assertThat(max).as("etcd revision in %s", out).isPositive();
    return max;
  }

  private GatewayProcess gateway(String etcdEndpoints, S3Proxy s3) throws Exception {
    GatewayProcess g =
        GatewayProcess.start(
            0,
            new GatewayProcess.Settings(
                etcdEndpoints,
                "/compaction/",
                s3.endpoint(),
                "s3://" + s3.bucket() + "/compaction",
                s3.accessKey(),
                s3.secretKey(),
                Coherence.STRICT,
                LEASE,
                Duration.ofSeconds(2),
                512));
    open.add(g);
    return g;
  }

  private Dstore connect(String targets, String name) {
    Dstore d =
        Dstore.connect(
            targets,
            DstoreOptions.builder()
                .name("compaction-" + name)
                .requestTimeout(Duration.ofSeconds(3))
                .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(200))
                .build());
    open.add(d);
    return d;
  }

  private static byte[] key(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Small for even {@code i}, over the 512 B inline threshold (in S3) for odd. */
  private static byte[] value(String s, int i) {
    return (s + (i % 2 == 0 ? "" : "|" + "y".repeat(1000))).getBytes(StandardCharsets.UTF_8);
  }
}
