package io.dstore.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.dstore.DstoreOptions;
import io.dstore.proto.Event;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.Heartbeat;
import io.dstore.proto.Hello;
import io.dstore.proto.Invalidation;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.JoinResponse;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.SubscribeRequest;
import io.dstore.proto.ValueInfo;
import io.dstore.proto.Welcome;
import io.dstore.testing.Await;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Local against a scripted Global that can do what a real one never does on purpose: skip a seq
 * on a live stream. The Local must notice, count the gap, stop trusting the stream, and resubscribe
 * from the last seq it applied so the gap is replayed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SubscriptionGapTest {
  private final String name = "scripted-" + UUID.randomUUID();
  private final ScriptedGlobal global = new ScriptedGlobal();
  private Server server;
  private ManagedChannel channel;
  private LocalStore local;

  @BeforeEach
  void start() throws Exception {
    server = InProcessServerBuilder.forName(name).addService(global).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
    local =
        LocalStore.create(
            name,
            channel,
            DstoreOptions.builder()
                .reconnectBackoff(Duration.ofMillis(5), Duration.ofMillis(50))
                .build());
    Await.until("the first subscription", () -> global.streams.size() == 1);
    local.awaitReady(Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() {
    local.close();
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void aSkippedSeqOnALiveStreamIsDetectedAndReplayedFromTheLastAppliedSeq() throws Exception {
    local.put(b("a"), b("1"));
    local.put(b("b"), b("2"));
    assertThat(local.isCached(b("a"))).isTrue();

    // seq 1 is lost on the way: 2 arrives first.
    send(global.streams.get(0), invalidation(2, "b", 2));

    Await.until("the gap to be noticed", () -> local.stats().gapsDetected() == 1);
    Await.until("a new subscription", () -> global.streams.size() == 2);
    assertThat(global.hellos.get(1).getLastSeq())
        .as("resubscribes from the last seq it applied")
        .isZero();
    assertThat(local.stats().invalidationsApplied()).as("nothing past the gap applied").isZero();

    // The replay brings both, in order.
    StreamObserver<Event> second = global.streams.get(1);
    send(second, welcome(0, 2));
    send(second, invalidation(1, "a", 1));
    send(second, invalidation(2, "b", 2));
    Await.until("the replay to be applied", () -> local.stats().invalidationsApplied() == 2);
    assertThat(local.stats().lastAppliedSeq()).isEqualTo(2);
    assertThat(local.stats().replays()).isEqualTo(1);
    assertThat(local.isCached(b("a"))).isFalse();
    assertThat(local.isCached(b("b"))).isFalse();
  }

  @Test
  void aHeartbeatAheadOfWhatWasAppliedIsAGapAndGrantsNoLease() throws Exception {
    long renewalsBefore = global.renewals.size();
    Await.until("a renewal", () -> global.renewals.size() > renewalsBefore);
    long nonce = global.renewals.get(global.renewals.size() - 1);
    // Claims seq 5 went out on this stream, but the Local applied none of it.
    send(
        global.streams.get(0),
        Event.newBuilder()
            .setHeartbeat(Heartbeat.newBuilder().setSeq(5).setNonce(nonce).setLeaseMillis(2000))
            .build());
    Await.until("the gap to be noticed", () -> local.stats().gapsDetected() == 1);
    Await.until("a new subscription", () -> global.streams.size() == 2);
    assertThat(global.hellos.get(1).getLastSeq()).isZero();
  }

  @Test
  void seqsThatSkipAreAppliedWithoutAResyncWhenEachNamesThePreviousOne() throws Exception {
    local.put(b("a"), b("1"));
    local.put(b("b"), b("2"));
    local.put(b("c"), b("3"));
    StreamObserver<Event> stream = global.streams.get(0);

    send(stream, invalidation(1, 0, "a", 1)); // a single Global's numbering: previous_seq unset
    send(stream, invalidation(7, 1, "b", 2)); // a cluster's: revisions skip, previous_seq links
    send(stream, invalidation(12, 7, "c", 3));

    Await.until("three invalidations applied", () -> local.stats().invalidationsApplied() == 3);
    assertThat(local.stats().lastAppliedSeq()).isEqualTo(12);
    assertThat(local.stats().gapsDetected()).isZero();
    assertThat(global.streams).as("no resubscription").hasSize(1);
    assertThat(local.isCached(b("b"))).isFalse();
    assertThat(local.isCached(b("c"))).isFalse();
    Await.until("the last one acknowledged", () -> global.acks.contains(12L));
  }

  @Test
  void anInvalidationAlreadyAppliedIsIgnoredButAcknowledged() throws Exception {
    local.put(b("a"), b("1"));
    StreamObserver<Event> stream = global.streams.get(0);
    send(stream, invalidation(1, 0, "a", 1));
    send(stream, invalidation(9, 1, "x", 5));
    Await.until("both acknowledged", () -> global.acks.equals(List.of(1L, 9L)));
    local.put(b("again"), b("2"));
    assertThat(local.isCached(b("again"))).isTrue();
    int acksBefore = global.acks.size();

    // A gateway resends seq 9 (its watch restarted, say), carrying the same key as "again"'s.
    send(stream, invalidation(9, 1, "again", 2));

    Await.until("the duplicate acknowledged", () -> global.acks.size() > acksBefore);
    assertThat(global.acks).containsExactly(1L, 9L, 9L);
    assertThat(local.stats().invalidationsApplied()).as("not applied twice").isEqualTo(2);
    assertThat(local.isCached(b("again"))).as("the duplicate dropped nothing").isTrue();
    assertThat(local.stats().gapsDetected()).isZero();
  }

  @Test
  void aPreviousSeqBeyondWhatWasAppliedIsAGapReplayedFromTheLastAppliedSeq() throws Exception {
    StreamObserver<Event> stream = global.streams.get(0);
    send(stream, invalidation(1, 0, "a", 1));
    send(stream, invalidation(12, 1, "b", 2));
    Await.until("both applied", () -> local.stats().lastAppliedSeq() == 12);

    // The event after 12 (say 15) was lost: 20 names 15 as its predecessor.
    send(stream, invalidation(20, 15, "c", 3));

    Await.until("the gap to be noticed", () -> local.stats().gapsDetected() == 1);
    Await.until("a new subscription", () -> global.streams.size() == 2);
    assertThat(global.hellos.get(1).getLastSeq()).isEqualTo(12);
    assertThat(local.stats().lastAppliedSeq()).as("20 not applied").isEqualTo(12);
  }

  /** gRPC observers take one caller at a time; the scripted Global's handlers lock the same. */
  private static void send(StreamObserver<Event> stream, Event event) {
    synchronized (stream) {
      stream.onNext(event);
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static Event welcome(long replayFrom, long seq) {
    return Event.newBuilder()
        .setWelcome(
            Welcome.newBuilder()
                .setIncarnation("run-1")
                .setReplayFrom(replayFrom)
                .setSeq(seq)
                .setLeaseMillis(2000)
                .setRenewIntervalMillis(50))
        .build();
  }

  private static Event invalidation(long seq, String key, long generation) {
    return invalidation(seq, 0, key, generation);
  }

  private static Event invalidation(long seq, long previousSeq, String key, long generation) {
    return Event.newBuilder()
        .setInvalidation(
            Invalidation.newBuilder()
                .setSeq(seq)
                .setPreviousSeq(previousSeq)
                .setKey(ByteString.copyFromUtf8(key))
                .setGeneration(generation)
                .setDeletedAtUnixNanos(System.currentTimeMillis() * 1_000_000L))
        .build();
  }

  /**
   * Answers Join and Put like Global; for Subscribe it records the Hello, sends a Welcome (on the
   * first stream only: later ones are scripted by the test), and answers every renewal with a
   * heartbeat at seq 0 so the Local holds a lease.
   */
  private static final class ScriptedGlobal extends GlobalGrpc.GlobalImplBase {
    final List<StreamObserver<Event>> streams = new CopyOnWriteArrayList<>();
    final List<Hello> hellos = new CopyOnWriteArrayList<>();
    final List<Long> renewals = new CopyOnWriteArrayList<>();
    final List<Long> acks = new CopyOnWriteArrayList<>();
    private long generations;

    @Override
    public void join(JoinRequest request, StreamObserver<JoinResponse> responses) {
      responses.onNext(
          JoinResponse.newBuilder()
              .setLocalId("local-1")
              .setLeaseMillis(2000)
              .setRenewIntervalMillis(50)
              .setIncarnation("run-1")
              .build());
      responses.onCompleted();
    }

    @Override
    public synchronized void put(PutRequest request, StreamObserver<PutResponse> responses) {
      try {
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(request.getValue().toByteArray());
        responses.onNext(
            PutResponse.newBuilder()
                .setKey(request.getKey())
                .setCreated(true)
                .setInfo(
                    ValueInfo.newBuilder()
                        .setSize(request.getValue().size())
                        .setGeneration(++generations)
                        .setSha256(ByteString.copyFrom(sha)))
                .build());
        responses.onCompleted();
      } catch (java.security.NoSuchAlgorithmException e) {
        responses.onError(e);
      }
    }

    @Override
    public StreamObserver<SubscribeRequest> subscribe(StreamObserver<Event> events) {
      return new StreamObserver<>() {
        @Override
        public void onNext(SubscribeRequest request) {
          switch (request.getKindCase()) {
            case HELLO -> {
              hellos.add(request.getHello());
              if (streams.isEmpty()) {
                send(events, welcome(0, 0));
              }
              streams.add(events);
            }
            case RENEW -> {
              renewals.add(request.getRenew().getNonce());
              if (streams.size() == 1) {
                send(
                    events,
                    Event.newBuilder()
                        .setHeartbeat(
                            Heartbeat.newBuilder()
                                .setSeq(0)
                                .setNonce(request.getRenew().getNonce())
                                .setLeaseMillis(2000))
                        .build());
              }
            }
            case ACK -> acks.add(request.getAck().getSeq());
            default -> {}
          }
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          synchronized (events) {
            events.onCompleted();
          }
        }
      };
    }
  }
}
