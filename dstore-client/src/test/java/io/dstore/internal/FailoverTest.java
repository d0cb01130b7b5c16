package io.dstore.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.Entry;
import io.dstore.proto.Hello;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.testing.Await;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Local with two gateways, over real sockets: when the gateway it talks to dies, reads go on
 * through the other (hits from the cache under the lease, misses retried), its subscription moves
 * there with the same incarnation and last seq, and an invalidation the new gateway delivers is
 * applied. A gateway of another store is revalidated before its answers are cached.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FailoverTest {
  private final FakeCluster cluster = new FakeCluster("cluster-1");
  private final List<GlobalServer> globals = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() {
    cluster.close();
    globals.forEach(GlobalServer::close);
  }

  @Test
  void killingTheGatewayFailsNoReadAndTheNextGatewaysInvalidationIsApplied() throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    for (int i = 0; i < 5_000; i++) {
      cluster.store("cold-" + i, "c" + i);
    }
    try (Dstore local = Dstore.connect(first.target() + "," + second.target(), options())) {
      local.awaitReady(Duration.ofSeconds(20));
      assertThat(local.target()).as("starts with the first").isEqualTo(first.target());
      local.put(b("hot"), b("h"));
      assertThat(local.isCached(b("hot"))).isTrue();

      List<String> failures = new CopyOnWriteArrayList<>();
      AtomicInteger hits = new AtomicInteger();
      AtomicInteger misses = new AtomicInteger();
      AtomicBoolean stop = new AtomicBoolean();
      Thread reader =
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; !stop.get() && i < 5_000; i++) {
                      try {
                        Entry hot = local.getEntry(b("hot"));
                        if (hot.fromCache()) {
                          hits.incrementAndGet();
                        } else {
                          failures.add("hot read was a miss: the lease lapsed");
                        }
                        assertThat(local.get(b("cold-" + i))).isEqualTo(b("c" + i));
                        misses.incrementAndGet();
                      } catch (RuntimeException | AssertionError e) {
                        failures.add(e.toString());
                      }
                    }
                  });
      Await.until("some reads through the first gateway", () -> misses.get() > 20);
      long seqAtKill = cluster.lastSeq();
      long killedAt = System.nanoTime();
      first.kill();
      int missesAtKill = misses.get();

      Await.until("the subscription on the second gateway", () -> !second.hellos.isEmpty());
      long movedMillis = (System.nanoTime() - killedAt) / 1_000_000;
      Await.until("in sync on the second gateway", () -> local.stats().connected());
      long syncedMillis = (System.nanoTime() - killedAt) / 1_000_000;
      Hello hello = second.hellos.get(0);
      assertThat(hello.getIncarnation()).isEqualTo("cluster-1");
      assertThat(hello.getLastSeq()).isEqualTo(seqAtKill);
      Await.until("reads through the second gateway", () -> misses.get() > missesAtKill + 200);
      assertThat(local.stats().connected()).isTrue();
      stop.set(true);
      reader.join();
      assertThat(failures).as("failed reads").isEmpty();
      assertThat(second.reads.get()).isPositive();
      assertThat(local.target()).isEqualTo(second.target());
      assertThat(local.stats().revalidations()).as("same store: no Resync").isZero();

      // Deleted through the second gateway: its invalidation (seq skipping) reaches this Local.
      cluster.delete("hot");
      Await.until("the invalidation applied", () -> !local.isCached(b("hot")));
      assertThatThrownBy(() -> local.get(b("hot")))
          .isInstanceOfSatisfying(
              DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
      assertThat(local.stats().gapsDetected()).isZero();
      System.err.printf(
          "FailoverTest: %d hits and %d misses, none failed, across a gateway's death; Hello on the"
              + " next gateway %d ms after the kill, in sync %d ms after%n",
          hits.get(), misses.get(), movedMillis, syncedMillis);
    }
  }

  @Test
  void withNoCallsTheSubscriptionAloneMovesToTheNextGatewayWhichRenewsTheLease() throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    try (Dstore local = Dstore.connect(first.target() + "," + second.target(), options())) {
      local.awaitReady(Duration.ofSeconds(20));
      local.put(b("hot"), b("h"));
      long seq = cluster.lastSeq();

      first.kill(); // the stream breaks, a reconnection to the first fails, the second is next

      Await.until("the subscription on the second gateway", () -> !second.hellos.isEmpty());
      assertThat(second.hellos.get(0).getIncarnation()).isEqualTo("cluster-1");
      assertThat(second.hellos.get(0).getLastSeq()).isEqualTo(seq);
      Await.until("renewals answered by the second gateway", () -> second.renewals.get() >= 5);
      assertThat(local.stats().leaseValid()).isTrue();
      assertThat(local.getEntry(b("hot")).fromCache()).as("a hit, served locally").isTrue();
      assertThat(second.reads.get()).as("no call needed for the move").isZero();
      assertThat(local.target()).isEqualTo(second.target());
    }
  }

  @Test
  void aGatewayOfAnotherStoreIsTreatedAsAResyncAndServesNothingStale() throws Exception {
    GlobalServer one = global();
    GlobalServer other = global();
    try (Dstore local =
        Dstore.connect("127.0.0.1:" + one.port() + ",127.0.0.1:" + other.port(), options())) {
      local.awaitReady(Duration.ofSeconds(20));
      local.put(b("k"), b("from one"));
      assertThat(local.isCached(b("k"))).isTrue();

      one.close();
      Await.until("revalidated against the other store", () -> local.stats().revalidations() > 0);
      assertThat(local.isCached(b("k"))).as("not in the other store: dropped").isFalse();
      assertThatThrownBy(() -> local.get(b("k")))
          .isInstanceOfSatisfying(
              DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
      local.awaitReady(Duration.ofSeconds(20));
      local.put(b("k"), b("from other"));
      assertThat(local.get(b("k"))).isEqualTo(b("from other"));
    }
  }

  private GlobalServer global() throws Exception {
    GlobalServer g =
        GlobalServer.builder()
            .listen("127.0.0.1", 0)
            .storage(Storage.memory())
            .startupGrace(Duration.ZERO)
            .build()
            .start();
    globals.add(g);
    return g;
  }

  private static DstoreOptions options() {
    return DstoreOptions.builder()
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(500))
        .requestTimeout(Duration.ofSeconds(10))
        .build();
  }

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }
}
