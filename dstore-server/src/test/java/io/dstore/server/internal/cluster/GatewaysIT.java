package io.dstore.server.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.dstore.proto.Ack;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.DeleteResponse;
import io.dstore.proto.Event;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GetResponse;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.Hello;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.JoinResponse;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.Renew;
import io.dstore.proto.SubscribeRequest;
import io.dstore.server.ClusterConfig;
import io.dstore.server.Coherence;
import io.dstore.server.GlobalServer;
import io.dstore.testing.Await;
import io.dstore.testing.EtcdCluster;
import io.dstore.testing.S3Proxy;
import io.dstore.testing.TcpProxy;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateways of one cluster store (a real 3-member etcd and s3proxy, each gateway a {@link
 * GlobalServer} in this JVM over real sockets), talked to through the raw gRPC service: values
 * cross gateways, a strict delete through one waits for the Locals of another, a gateway cut off
 * from etcd stops granting leases and stops holding up deletes, and retried writes answer as their
 * first attempts.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class GatewaysIT {
  private static final Duration LEASE = Duration.ofMillis(1000);
  private static final Duration GATEWAY_LEASE = Duration.ofSeconds(3);

  @TempDir static Path temp;
  private static EtcdCluster etcd;
  private static S3Proxy s3;
  private static int prefixes;

  private final List<AutoCloseable> open = new ArrayList<>();
  private String prefix;

  @BeforeAll
  static void startEtcdAndS3() throws Exception {
    etcd = EtcdCluster.start(temp.resolve("etcd"), 3);
    s3 = S3Proxy.start(temp.resolve("s3"));
    System.setProperty("aws.accessKeyId", s3.accessKey());
    System.setProperty("aws.secretAccessKey", s3.secretKey());
  }

  @AfterAll
  static void stopEtcdAndS3() {
    if (s3 != null) {
      s3.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  @AfterEach
  void closeEverything() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** Each test is a cluster of its own: its own etcd prefix and S3 prefix. */
  private ClusterConfig config(String etcdEndpoints) {
    if (prefix == null) {
      prefix = "t" + (++prefixes);
    }
    return ClusterConfig.builder()
        .etcd(etcdEndpoints)
        .etcdPrefix("/" + prefix + "/")
        .blobs("s3://" + s3.bucket() + "/" + prefix)
        .s3Endpoint(URI.create(s3.endpoint()))
        .region("us-east-1")
        .inlineThreshold(1024)
        .leaseTtl(GATEWAY_LEASE)
        .build();
  }

  private GlobalServer gateway(String etcdEndpoints, Coherence coherence) throws Exception {
    GlobalServer g =
        GlobalServer.builder()
            .listen("127.0.0.1", 0)
            .lease(LEASE)
            .coherence(coherence)
            .cluster(config(etcdEndpoints))
            .build()
            .start();
    open.add(g);
    return g;
  }

  private GlobalServer gateway() throws Exception {
    return gateway(etcd.endpointsCsv(), Coherence.STRICT);
  }

  private GlobalGrpc.GlobalBlockingStub stub(GlobalServer g) {
    ManagedChannel ch = NettyChannelBuilder.forTarget(g.address()).usePlaintext().build();
    open.add(ch::shutdownNow);
    return GlobalGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static ByteString random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return ByteString.copyFrom(b);
  }

  @Test
  void aValuePutThroughOneGatewayIsReadThroughAnotherInlineOrInS3() throws Exception {
    GlobalGrpc.GlobalBlockingStub a = stub(gateway());
    GlobalGrpc.GlobalBlockingStub b = stub(gateway());
    ByteString small = bytes("hello");
    ByteString large = random(200_000); // over the 1 KiB inline limit: in S3

    PutResponse p1 = a.put(PutRequest.newBuilder().setKey(bytes("small")).setValue(small).build());
    PutResponse p2 = a.put(PutRequest.newBuilder().setKey(bytes("large")).setValue(large).build());

    GetResponse g1 = b.get(GetRequest.newBuilder().setKey(bytes("small")).build());
    GetResponse g2 = b.get(GetRequest.newBuilder().setKey(bytes("large")).build());
    assertThat(g1.getValue()).isEqualTo(small);
    assertThat(g2.getValue()).isEqualTo(large);
    assertThat(g1.getInfo()).isEqualTo(p1.getInfo());
    assertThat(g2.getInfo().getGeneration()).isGreaterThan(p1.getInfo().getGeneration());
    assertThat(g2.getInfo()).isEqualTo(p2.getInfo());
    assertThatThrownBy(
            () -> b.put(PutRequest.newBuilder().setKey(bytes("small")).setValue(small).build()))
        .satisfies(
            e ->
                assertThat(Status.fromThrowable(e).getCode())
                    .isEqualTo(Status.Code.ALREADY_EXISTS));
  }

  @Test
  void aGatewaysMetricsShowItsFencingWatchPeersAndEtcdAndS3Latency() throws Exception {
    gateway();
    GlobalServer g =
        GlobalServer.builder()
            .listen("127.0.0.1", 0)
            .lease(LEASE)
            .metricsListen("127.0.0.1", 0)
            .cluster(config(etcd.endpointsCsv()))
            .build()
            .start();
    open.add(g);
    stub(g).put(PutRequest.newBuilder().setKey(bytes("m")).setValue(random(5000)).build());
    String url = "http://127.0.0.1:" + g.metricsPort() + "/metrics";

    Await.until(
        "the gateway grants leases and sees its peer",
        Duration.ofSeconds(30),
        () -> {
          String page = metrics(url);
          return page.contains("dstore_gateway_granting 1.0")
              && page.contains("dstore_gateway_peers 2.0");
        });
    String body = metrics(url);

    assertThat(body)
        .contains("dstore_gateway_watch_revision ")
        .contains("dstore_gateway_watch_lag_revisions ")
        .contains("dstore_gateway_watch_lag_seconds ")
        .contains("dstore_gateway_deletes_waiting_for ")
        .containsPattern(
            "dstore_cluster_calls_seconds_count\\{operation=\"[a-z_.]+\",system=\"etcd\"}")
        .containsPattern(
            "dstore_cluster_calls_seconds_count\\{operation=\"[a-z_.]+\",system=\"s3\"}");
  }

  private static String metrics(String url) {
    try {
      return io.dstore.testing.MetricsPage.fetch(url).body();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void everyGatewayOfAClusterGivesLocalsTheSameIncarnation() throws Exception {
    JoinResponse j1 = stub(gateway()).join(JoinRequest.getDefaultInstance());
    JoinResponse j2 = stub(gateway()).join(JoinRequest.getDefaultInstance());

    assertThat(j1.getIncarnation()).startsWith("cluster-").isEqualTo(j2.getIncarnation());
  }

  @Test
  void aStrictDeleteThroughOneGatewayWaitsUntilALocalOfAnotherHasAcknowledged() throws Exception {
    GlobalServer a = gateway();
    GlobalServer b = gateway();
    stub(a).put(PutRequest.newBuilder().setKey(bytes("k")).setValue(bytes("v")).build());
    FakeLocal local = FakeLocal.subscribe(a, open);
    local.renewUntilLeased();

    CompletableFuture<DeleteResponse> delete =
        CompletableFuture.supplyAsync(
            () -> stub(b).delete(DeleteRequest.newBuilder().setKey(bytes("k")).build()));
    Event invalidation = local.next(Event.KindCase.INVALIDATION);

    assertThat(invalidation.getInvalidation().getKey()).isEqualTo(bytes("k"));
    assertThat(invalidation.getInvalidation().getPreviousSeq())
        .isLessThan(invalidation.getInvalidation().getSeq());
    // Unacknowledged, with its lease renewed: the delete must wait.
    local.renewUntilLeased();
    assertThat(delete).isNotDone();
    // Gateway a has seen the mark (it told its Local): its reads flag the value, not to be cached.
    GetResponse during = stub(a).get(GetRequest.newBuilder().setKey(bytes("k")).build());
    assertThat(during.getDeleting()).isTrue();
    assertThat(during.getValue()).isEqualTo(bytes("v"));

    local.ack(invalidation.getInvalidation().getSeq());
    DeleteResponse done = delete.get(30, TimeUnit.SECONDS);

    assertThat(done.getSeq()).isEqualTo(invalidation.getInvalidation().getSeq());
    assertThatThrownBy(() -> stub(a).get(GetRequest.newBuilder().setKey(bytes("k")).build()))
        .satisfies(
            e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void aGatewayCutOffFromEtcdStopsGrantingLeasesAndHoldsUpDeletesOnlyUntilItsLeaseRunsOut()
      throws Exception {
    int leaderPort = URI.create(etcd.endpoints().get(0)).getPort();
    TcpProxy cut = new TcpProxy(leaderPort);
    open.add(cut);
    GlobalServer a = gateway("http://" + cut.address(), Coherence.STRICT);
    GlobalServer b = gateway();
    stub(b).put(PutRequest.newBuilder().setKey(bytes("k")).setValue(bytes("v")).build());
    FakeLocal local = FakeLocal.subscribe(a, open);
    local.renewUntilLeased();

    cut.stall(true, true);
    long cutAt = System.nanoTime();
    // Renewals keep being answered, but the grant shrinks to nothing before a's etcd lease ends.
    Await.until(
        "gateway a stops granting leases",
        Duration.ofSeconds(30),
        () -> local.renewAndGetLeaseMillis() == 0);
    long stoppedAfterMillis = (System.nanoTime() - cutAt) / 1_000_000;
    assertThat(stoppedAfterMillis).isLessThan(GATEWAY_LEASE.toMillis());

    DeleteResponse deleted = stub(b).delete(DeleteRequest.newBuilder().setKey(bytes("k")).build());
    long deletedAfterMillis = (System.nanoTime() - cutAt) / 1_000_000;

    assertThat(deleted.getGeneration()).isPositive();
    // Held up by a's registration until etcd expired it (its TTL, rounded up to seconds).
    assertThat(deletedAfterMillis).isLessThan(GATEWAY_LEASE.plus(LEASE).plusSeconds(10).toMillis());
    cut.drop();
  }

  @Test
  void aPutRetriedThroughAnotherGatewayWithItsRequestIdAnswersAsItsFirstAttempt() throws Exception {
    GlobalGrpc.GlobalBlockingStub a = stub(gateway());
    GlobalGrpc.GlobalBlockingStub b = stub(gateway());
    ByteString id = random(16);
    PutRequest put =
        PutRequest.newBuilder().setKey(bytes("once")).setValue(bytes("v")).setRequestId(id).build();

    PutResponse first = a.put(put);
    PutResponse retry = b.put(put);
    PutResponse large =
        a.put(
            PutRequest.newBuilder()
                .setKey(bytes("once-large"))
                .setValue(random(5000))
                .setRequestId(random(17))
                .build());

    assertThat(retry).isEqualTo(first);
    assertThat(retry.getCreated()).isTrue();
    assertThat(large.getCreated()).isTrue();
    assertThatThrownBy(() -> b.put(put.toBuilder().setRequestId(random(15)).build()))
        .satisfies(
            e ->
                assertThat(Status.fromThrowable(e).getCode())
                    .isEqualTo(Status.Code.ALREADY_EXISTS));
  }

  @Test
  void aDeleteRetriedThroughAnotherGatewayWithItsRequestIdAnswersAsItsFirstAttempt()
      throws Exception {
    GlobalGrpc.GlobalBlockingStub a = stub(gateway());
    GlobalGrpc.GlobalBlockingStub b = stub(gateway());
    a.put(PutRequest.newBuilder().setKey(bytes("gone")).setValue(bytes("v")).build());
    DeleteRequest delete =
        DeleteRequest.newBuilder().setKey(bytes("gone")).setRequestId(random(16)).build();

    DeleteResponse first = a.delete(delete);
    DeleteResponse retry = b.delete(delete);

    assertThat(retry).isEqualTo(first);
    assertThatThrownBy(() -> b.delete(delete.toBuilder().setRequestId(random(20)).build()))
        .satisfies(
            e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void anEventualDeleteReachesTheLocalsOfEveryGatewayWithoutWaitingForThem() throws Exception {
    GlobalServer a = gateway(etcd.endpointsCsv(), Coherence.EVENTUAL);
    GlobalServer b = gateway(etcd.endpointsCsv(), Coherence.EVENTUAL);
    stub(a).put(PutRequest.newBuilder().setKey(bytes("e")).setValue(bytes("v")).build());
    FakeLocal local = FakeLocal.subscribe(a, open);
    local.renewUntilLeased();

    DeleteResponse deleted = stub(b).delete(DeleteRequest.newBuilder().setKey(bytes("e")).build());
    Event invalidation = local.next(Event.KindCase.INVALIDATION);

    assertThat(invalidation.getInvalidation().getKey()).isEqualTo(bytes("e"));
    assertThat(invalidation.getInvalidation().getSeq()).isEqualTo(deleted.getSeq());
  }

  @Test
  void aLocalMovingToAGatewayThatJoinedLaterIsReplayedWhatItMissedFromEtcdsHistory()
      throws Exception {
    GlobalServer a = gateway();
    GlobalGrpc.GlobalBlockingStub sa = stub(a);
    sa.put(PutRequest.newBuilder().setKey(bytes("k1")).setValue(bytes("v")).build());
    sa.put(PutRequest.newBuilder().setKey(bytes("k2")).setValue(bytes("v")).build());
    JoinResponse joined = sa.join(JoinRequest.getDefaultInstance());
    long seenBefore = sa.delete(DeleteRequest.newBuilder().setKey(bytes("k1")).build()).getSeq();
    long missed = sa.delete(DeleteRequest.newBuilder().setKey(bytes("k2")).build()).getSeq();

    GlobalServer b = gateway(); // joins after both deletes
    FakeLocal moved =
        FakeLocal.hello(b, joined.getLocalId(), joined.getIncarnation(), seenBefore, open);

    Event welcome = moved.next(Event.KindCase.WELCOME);
    Event replayed = moved.nextAny();
    assertThat(welcome.getWelcome().getReplayFrom()).isEqualTo(seenBefore);
    assertThat(replayed.getKindCase()).isEqualTo(Event.KindCase.INVALIDATION);
    assertThat(replayed.getInvalidation().getSeq()).isEqualTo(missed);
    assertThat(replayed.getInvalidation().getKey()).isEqualTo(bytes("k2"));
    assertThat(replayed.getInvalidation().getPreviousSeq()).isEqualTo(seenBefore);
  }

  @Test
  void aLocalWhoseLastRevisionEtcdHasCompactedAwayIsToldToRevalidate() throws Exception {
    GlobalServer a = gateway();
    GlobalGrpc.GlobalBlockingStub sa = stub(a);
    sa.put(PutRequest.newBuilder().setKey(bytes("c1")).setValue(bytes("v")).build());
    JoinResponse joined = sa.join(JoinRequest.getDefaultInstance());
    long old = sa.delete(DeleteRequest.newBuilder().setKey(bytes("c1")).build()).getSeq();
    sa.put(PutRequest.newBuilder().setKey(bytes("c2")).setValue(bytes("v")).build());
    long now = sa.delete(DeleteRequest.newBuilder().setKey(bytes("c2")).build()).getSeq();
    etcd.etcdctl("compact", Long.toString(now));

    GlobalServer b = gateway(); // its history starts at the compaction
    FakeLocal behind = FakeLocal.hello(b, joined.getLocalId(), joined.getIncarnation(), old, open);

    behind.next(Event.KindCase.WELCOME);
    Event next = behind.nextAny();
    assertThat(next.getKindCase()).isEqualTo(Event.KindCase.RESYNC);
  }

  /** A Local reduced to its subscription: joins, renews on demand, acknowledges on demand. */
  static final class FakeLocal {
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final StreamObserver<SubscribeRequest> requests;
    private long nonce;

    private FakeLocal(StreamObserver<SubscribeRequest> requests) {
      this.requests = requests;
    }

    static FakeLocal subscribe(GlobalServer g, List<AutoCloseable> open) throws Exception {
      ManagedChannel ch = NettyChannelBuilder.forTarget(g.address()).usePlaintext().build();
      open.add(ch::shutdownNow);
      JoinResponse joined =
          GlobalGrpc.newBlockingStub(ch).join(JoinRequest.newBuilder().setName("fake").build());
      FakeLocal local =
          hello(g, joined.getLocalId(), joined.getIncarnation(), joined.getSeq(), open);
      local.next(Event.KindCase.WELCOME);
      return local;
    }

    /** Subscribes as Local {@code localId} that applied everything up to {@code lastSeq}. */
    static FakeLocal hello(
        GlobalServer g,
        String localId,
        String incarnation,
        long lastSeq,
        List<AutoCloseable> open) {
      ManagedChannel ch = NettyChannelBuilder.forTarget(g.address()).usePlaintext().build();
      open.add(ch::shutdownNow);
      FakeLocal[] self = new FakeLocal[1];
      StreamObserver<SubscribeRequest> req =
          GlobalGrpc.newStub(ch)
              .subscribe(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(Event e) {
                      self[0].events.add(e);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      self[0] = new FakeLocal(req);
      synchronized (req) {
        req.onNext(
            SubscribeRequest.newBuilder()
                .setHello(
                    Hello.newBuilder()
                        .setLocalId(localId)
                        .setIncarnation(incarnation)
                        .setLastSeq(lastSeq))
                .build());
      }
      return self[0];
    }

    /** The next event, whatever its kind. */
    Event nextAny() throws InterruptedException {
      Event e = events.poll(30, TimeUnit.SECONDS);
      if (e == null) {
        throw new AssertionError("no event within 30 s");
      }
      return e;
    }

    /** The next event of {@code kind}, skipping others (heartbeats). */
    Event next(Event.KindCase kind) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        Event e = events.poll(100, TimeUnit.MILLISECONDS);
        if (e != null && e.getKindCase() == kind) {
          return e;
        }
      }
      throw new AssertionError("no " + kind + " within 30 s");
    }

    /** Renews once and returns the lease granted (0: none). */
    long renewAndGetLeaseMillis() {
      long n = ++nonce;
      synchronized (requests) {
        requests.onNext(
            SubscribeRequest.newBuilder().setRenew(Renew.newBuilder().setNonce(n)).build());
      }
      try {
        while (true) {
          Event e = next(Event.KindCase.HEARTBEAT);
          if (e.getHeartbeat().getNonce() == n) {
            return e.getHeartbeat().getLeaseMillis();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** Renews until a lease is granted (a gateway grants none until its watch is confirmed). */
    void renewUntilLeased() {
      Await.until("a lease is granted", Duration.ofSeconds(30), () -> renewAndGetLeaseMillis() > 0);
    }

    void ack(long seq) {
      synchronized (requests) {
        requests.onNext(SubscribeRequest.newBuilder().setAck(Ack.newBuilder().setSeq(seq)).build());
      }
    }
  }
}
