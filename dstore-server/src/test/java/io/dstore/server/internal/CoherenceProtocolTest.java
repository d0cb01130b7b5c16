package io.dstore.server.internal;

import static io.dstore.server.internal.GlobalFixture.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.proto.Ack;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.DeleteResponse;
import io.dstore.proto.Event;
import io.dstore.proto.Hello;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.JoinResponse;
import io.dstore.proto.LeaveRequest;
import io.dstore.proto.PutRequest;
import io.dstore.proto.Renew;
import io.dstore.proto.SubscribeRequest;
import io.dstore.server.Coherence;
import io.dstore.server.Storage;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The coherence protocol as a Local sees it on the wire: welcome, invalidations in seq order,
 * heartbeats, strict deletes waiting for acks or leases, replay and resync. Driven by a scripted
 * subscriber and a fake clock.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CoherenceProtocolTest {
  private GlobalFixture global;

  @AfterEach
  void stop() {
    if (global != null) {
      global.close();
    }
  }

  /** A scripted Local: joins, subscribes, and records every event. */
  private final class RawLocal implements StreamObserver<Event> {
    final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    final String id;
    StreamObserver<SubscribeRequest> requests;

    RawLocal() {
      JoinResponse joined = global.blocking.join(JoinRequest.newBuilder().setName("raw").build());
      id = joined.getLocalId();
    }

    /** The same Local again, reconnecting under its id. */
    RawLocal(String id) {
      this.id = id;
    }

    RawLocal subscribe(String incarnation, long lastSeq) {
      requests = global.async.subscribe(this);
      requests.onNext(
          SubscribeRequest.newBuilder()
              .setHello(
                  Hello.newBuilder().setLocalId(id).setIncarnation(incarnation).setLastSeq(lastSeq))
              .build());
      return this;
    }

    void renew(long nonce) {
      requests.onNext(
          SubscribeRequest.newBuilder().setRenew(Renew.newBuilder().setNonce(nonce)).build());
    }

    void ack(long seq) {
      requests.onNext(SubscribeRequest.newBuilder().setAck(Ack.newBuilder().setSeq(seq)).build());
    }

    void disconnect() {
      requests.onCompleted();
    }

    Event next() throws InterruptedException {
      Event e = events.poll(10, TimeUnit.SECONDS);
      assertThat(e).as("an event within 10 s").isNotNull();
      return e;
    }

    @Override
    public void onNext(Event value) {
      events.add(value);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  private void put(String key) {
    global.blocking.put(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes("v")).build());
  }

  private CompletableFuture<DeleteResponse> deleteAsync(String key) {
    CompletableFuture<DeleteResponse> done = new CompletableFuture<>();
    global.async.delete(
        DeleteRequest.newBuilder().setKey(bytes(key)).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(DeleteResponse value) {
            done.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return done;
  }

  @Test
  void welcomeThenInvalidationsInOrderThenHeartbeatsCarryingTheLatestSeq() throws Exception {
    global = new GlobalFixture(Coherence.EVENTUAL, 100);
    RawLocal local = new RawLocal().subscribe("", 0);
    Event welcome = local.next();
    assertThat(welcome.hasWelcome()).isTrue();
    assertThat(welcome.getWelcome().getSeq()).isZero();
    assertThat(welcome.getWelcome().getLeaseMillis()).isEqualTo(2000);

    put("a");
    put("b");
    global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("a")).build());
    global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("b")).build());
    Event first = local.next();
    Event second = local.next();
    assertThat(first.getInvalidation().getSeq()).isEqualTo(1);
    assertThat(first.getInvalidation().getKey().toStringUtf8()).isEqualTo("a");
    assertThat(second.getInvalidation().getSeq()).isEqualTo(2);
    assertThat(second.getInvalidation().getGeneration()).isPositive();

    local.renew(7);
    Event hb = local.next();
    assertThat(hb.getHeartbeat().getNonce()).isEqualTo(7);
    assertThat(hb.getHeartbeat().getSeq()).isEqualTo(2);
  }

  @Test
  void strictDeleteWaitsForTheAckOfALeasedLocal() throws Exception {
    global = new GlobalFixture(Coherence.STRICT, 100);
    RawLocal local = new RawLocal().subscribe("", 0);
    local.next(); // welcome
    local.renew(1);
    local.next(); // heartbeat: the Local now holds a lease
    put("k");

    CompletableFuture<DeleteResponse> delete = deleteAsync("k");
    Event inv = local.next();
    assertThat(inv.getInvalidation().getSeq()).isEqualTo(1);
    assertThat(delete).as("delete waits for the ack").isNotDone();
    local.ack(1);
    assertThat(delete.get(10, TimeUnit.SECONDS).getSeq()).isEqualTo(1);
  }

  @Test
  void strictDeleteReturnsWhenTheSilentLocalsLeaseRunsOut() throws Exception {
    global = new GlobalFixture(Coherence.STRICT, 100);
    RawLocal local = new RawLocal().subscribe("", 0);
    local.next();
    local.renew(1);
    local.next();
    put("k");

    CompletableFuture<DeleteResponse> delete = deleteAsync("k");
    local.next(); // the invalidation arrives but is never acknowledged
    global.advance(Duration.ofMillis(1999));
    assertThat(delete).as("the lease still runs").isNotDone();
    global.advance(Duration.ofMillis(2));
    assertThat(delete.get(10, TimeUnit.SECONDS).getSeq()).isEqualTo(1);
  }

  @Test
  void aLocalWithoutALeaseDoesNotDelayDeletes() throws Exception {
    global = new GlobalFixture(Coherence.STRICT, 100);
    RawLocal local = new RawLocal().subscribe("", 0);
    local.next(); // subscribed, but never renewed: it may not serve hits
    put("k");
    assertThat(deleteAsync("k").get(10, TimeUnit.SECONDS).getSeq()).isEqualTo(1);
  }

  @Test
  void leavingReleasesTheDeletesWaitingForIt() throws Exception {
    global = new GlobalFixture(Coherence.STRICT, 100);
    RawLocal local = new RawLocal().subscribe("", 0);
    local.next();
    local.renew(1);
    local.next();
    put("k");
    CompletableFuture<DeleteResponse> delete = deleteAsync("k");
    local.next();
    assertThat(delete).isNotDone();
    global.blocking.leave(LeaveRequest.newBuilder().setLocalId(local.id).build());
    assertThat(delete.get(10, TimeUnit.SECONDS).getSeq()).isEqualTo(1);
  }

  @Test
  void eventualDeleteDoesNotWait() throws Exception {
    global = new GlobalFixture(Coherence.EVENTUAL, 100);
    RawLocal local = new RawLocal().subscribe("", 0);
    local.next();
    local.renew(1);
    local.next();
    put("k");
    assertThat(deleteAsync("k").get(10, TimeUnit.SECONDS).getSeq()).isEqualTo(1);
  }

  @Test
  void aRestartedGlobalHoldsStrictDeletesForOneLease() throws Exception {
    global = new GlobalFixture(Coherence.STRICT, 100);
    // Rewind the fake clock to the moment the server started: inside its grace period.
    global.nanos.addAndGet(-Duration.ofSeconds(2).toNanos());
    put("k");
    CompletableFuture<DeleteResponse> delete = deleteAsync("k");
    assertThat(delete).as("leases of the previous run may still be live").isNotDone();
    global.advance(Duration.ofMillis(2001));
    assertThat(delete.get(10, TimeUnit.SECONDS).getSeq()).isEqualTo(1);
  }

  @Test
  void aReconnectingLocalIsReplayedWhatItMissed() throws Exception {
    global = new GlobalFixture(Coherence.EVENTUAL, 100);
    RawLocal local = new RawLocal().subscribe("", 0);
    String incarnation = local.next().getWelcome().getIncarnation();
    put("a");
    put("b");
    put("c");
    global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("a")).build());
    assertThat(local.next().getInvalidation().getSeq()).isEqualTo(1);
    local.disconnect();
    global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("b")).build());
    global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("c")).build());

    RawLocal again = new RawLocal(local.id).subscribe(incarnation, 1);
    Event welcome = again.next();
    assertThat(welcome.getWelcome().getReplayFrom()).isEqualTo(1);
    assertThat(welcome.getWelcome().getSeq()).isEqualTo(3);
    assertThat(again.next().getInvalidation().getKey().toStringUtf8()).isEqualTo("b");
    assertThat(again.next().getInvalidation().getKey().toStringUtf8()).isEqualTo("c");
  }

  @Test
  void whenTheLogNoLongerReachesBackTheLocalIsToldToResync() throws Exception {
    global = new GlobalFixture(Coherence.EVENTUAL, 2);
    RawLocal local = new RawLocal().subscribe("", 0);
    String incarnation = local.next().getWelcome().getIncarnation();
    for (String k : new String[] {"a", "b", "c", "d"}) {
      put(k);
      global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes(k)).build());
    }
    local.disconnect();
    RawLocal again = new RawLocal(local.id).subscribe(incarnation, 1);
    Event welcome = again.next();
    assertThat(welcome.getWelcome().getReplayFrom()).isEqualTo(4);
    assertThat(again.next().getResync().getSeq()).isEqualTo(4);

    RawLocal stranger = new RawLocal(local.id).subscribe("another-run", 4);
    stranger.next();
    assertThat(stranger.next().hasResync()).as("a seq of another run means nothing").isTrue();
  }

  @Test
  void theLogAlsoCoversAnExactCatchUp() throws Exception {
    global = new GlobalFixture(Coherence.EVENTUAL, 2, Storage.memory());
    RawLocal local = new RawLocal().subscribe("", 0);
    String incarnation = local.next().getWelcome().getIncarnation();
    for (String k : new String[] {"a", "b", "c"}) {
      put(k);
      global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes(k)).build());
    }
    local.disconnect();
    // The log holds seq 2 and 3: a Local at seq 1 misses nothing it cannot be sent.
    RawLocal again = new RawLocal(local.id).subscribe(incarnation, 1);
    assertThat(again.next().getWelcome().getReplayFrom()).isEqualTo(1);
    assertThat(again.next().getInvalidation().getSeq()).isEqualTo(2);
    assertThat(again.next().getInvalidation().getSeq()).isEqualTo(3);
  }
}
