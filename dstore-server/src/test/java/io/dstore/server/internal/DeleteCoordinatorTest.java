package io.dstore.server.internal;

import static io.dstore.server.internal.GlobalFixture.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.dstore.proto.Event;
import io.dstore.proto.Hello;
import io.dstore.server.Coherence;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The delete state machine against a real {@link InvalidationHub}, driven by a fake monotonic clock
 * and a fixed wall clock. Waits end on the test's own thread (acks, {@link
 * DeleteCoordinator#recheckDeadlines}, leaves), and removal runs in place, so every step is
 * synchronous: no test sleeps or polls.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeleteCoordinatorTest {
  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final Instant WALL = Instant.ofEpochSecond(1_700_000_000L, 123);
  private static final ByteString KEY = bytes("k");

  private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  private Storage storage = Storage.memory();
  private InvalidationHub hub;
  private DeleteCoordinator deletes;

  @AfterEach
  void stop() {
    if (hub != null) {
      hub.close();
    }
    timers.shutdownNow();
    storage.close();
  }

  private void start(Coherence coherence, Duration startupGrace) {
    hub = new InvalidationHub(LEASE.toNanos(), LEASE.toMillis() / 4, 100, nanos::get, timers);
    GlobalMetrics metrics =
        new GlobalMetrics(new SimpleMeterRegistry(), storage, hub, () -> 0, () -> 0);
    deletes =
        new DeleteCoordinator(
            coherence,
            storage,
            hub,
            startupGrace,
            nanos::get,
            InstantSource.fixed(WALL),
            timers,
            Runnable::run,
            metrics);
  }

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
    deletes.recheckDeadlines();
  }

  private long put(ByteString key) throws IOException {
    return new Writes(storage)
        .putWhole(key.toByteArray(), bytes("value"), ByteString.EMPTY, ByteString.EMPTY)
        .getInfo()
        .getGeneration();
  }

  private Optional<StoredInfo> stored(ByteString key) throws IOException {
    return storage.stat(key.toByteArray());
  }

  private static StatusRuntimeException failure(CompletableFuture<?> f) {
    assertThat(f).isCompletedExceptionally();
    Throwable t = f.handle((x, e) -> e).join();
    assertThat(t).isInstanceOf(StatusRuntimeException.class);
    return (StatusRuntimeException) t;
  }

  @Test
  void aDeleteWaitsForAnUnacknowledgedLeasedLocalUntilItsLeaseExpiresOnTheInjectedClock()
      throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal().renew();
    long generation = put(KEY);

    CompletableFuture<DeleteCoordinator.Deleted> delete = deletes.delete(KEY);
    assertThat(local.invalidations()).containsExactly(1L);
    advance(LEASE.minusMillis(1));
    assertThat(delete).as("the lease still runs").isNotDone();
    assertThat(stored(KEY)).as("not removed while the Local may serve it").isPresent();
    assertThat(hub.pendingDeletes()).isEqualTo(1);

    advance(Duration.ofMillis(1));
    assertThat(delete).isCompletedWithValue(new DeleteCoordinator.Deleted(generation, 1));
    assertThat(stored(KEY)).isEmpty();
    assertThat(hub.pendingDeletes()).isZero();
  }

  @Test
  void aDeleteCompletesAsSoonAsEveryLeasedLocalHasAcknowledged() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal first = new FakeLocal().renew();
    FakeLocal second = new FakeLocal().renew();
    long generation = put(KEY);

    CompletableFuture<DeleteCoordinator.Deleted> delete = deletes.delete(KEY);
    first.ack(1);
    assertThat(delete).as("the second Local has not acknowledged").isNotDone();
    second.ack(1);
    assertThat(delete).isCompletedWithValue(new DeleteCoordinator.Deleted(generation, 1));
    assertThat(stored(KEY)).isEmpty();
  }

  @Test
  void anAcknowledgementOfALaterSeqCoversEarlierDeletes() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal().renew();
    put(KEY);
    put(bytes("other"));

    CompletableFuture<DeleteCoordinator.Deleted> one = deletes.delete(KEY);
    CompletableFuture<DeleteCoordinator.Deleted> two = deletes.delete(bytes("other"));
    local.ack(2);
    assertThat(one).isCompleted();
    assertThat(two).isCompleted();
  }

  @Test
  void readsDuringTheWaitSeeTheValueFlaggedDeleting() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal().renew();
    long generation = put(KEY);
    long readSpanningTheDelete = deletes.beforeRead();

    CompletableFuture<DeleteCoordinator.Deleted> delete = deletes.delete(KEY);
    assertThat(stored(KEY)).as("reads still find the value").isPresent();
    assertThat(deletes.isDeleting(KEY)).isTrue();
    assertThat(deletes.flagDeleting(KEY, generation, deletes.beforeRead())).isTrue();
    assertThat(deletes.isDeleting(bytes("unrelated"))).isFalse();

    local.ack(1);
    assertThat(delete).isCompleted();
    assertThat(deletes.isDeleting(KEY)).isFalse();
    assertThat(deletes.flagDeleting(KEY, generation, readSpanningTheDelete))
        .as("a read that began before the delete and ended after it must not be cached")
        .isTrue();
    long recreated = put(KEY);
    assertThat(deletes.flagDeleting(KEY, recreated, deletes.beforeRead())).isFalse();
  }

  @Test
  void anEventualDeleteReturnsWithoutWaiting() throws Exception {
    start(Coherence.EVENTUAL, LEASE);
    FakeLocal local = new FakeLocal().renew();
    long generation = put(KEY);

    CompletableFuture<DeleteCoordinator.Deleted> delete = deletes.delete(KEY);
    assertThat(delete).isCompletedWithValue(new DeleteCoordinator.Deleted(generation, 1));
    assertThat(stored(KEY)).isEmpty();
    assertThat(local.invalidations()).containsExactly(1L);
    assertThat(deletes.isDeleting(KEY)).isFalse();
    assertThat(hub.pendingDeletes()).isZero();
  }

  @Test
  void aLocalThatLeavesStopsBeingWaitedFor() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal().renew();
    put(KEY);

    CompletableFuture<DeleteCoordinator.Deleted> delete = deletes.delete(KEY);
    assertThat(delete).isNotDone();
    hub.leave(local.member.id);
    assertThat(delete).isCompleted();
    assertThat(stored(KEY)).isEmpty();
  }

  @Test
  void aLocalWithoutALeaseIsNotWaitedFor() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal(); // subscribed, never renewed: it may not serve hits
    put(KEY);

    assertThat(deletes.delete(KEY)).isCompleted();
    assertThat(local.invalidations()).containsExactly(1L);
  }

  @Test
  void aDeleteDuringTheStartupGraceWaitsForTheGrace() throws Exception {
    start(Coherence.STRICT, LEASE);
    put(KEY);

    CompletableFuture<DeleteCoordinator.Deleted> delete = deletes.delete(KEY);
    advance(LEASE.minusMillis(1));
    assertThat(delete).as("leases of the previous run may still be live").isNotDone();
    advance(Duration.ofMillis(1));
    assertThat(delete).isCompleted();

    put(bytes("after"));
    assertThat(deletes.delete(bytes("after"))).as("once the grace is over").isCompleted();
  }

  @Test
  void aSecondDeleteOfTheSameKeyWaitsForTheFirstThenFindsTheKeyGone() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal().renew();
    put(KEY);

    CompletableFuture<DeleteCoordinator.Deleted> first = deletes.delete(KEY);
    CompletableFuture<DeleteCoordinator.Deleted> second = deletes.delete(KEY);
    assertThat(second).isNotDone();
    assertThat(local.invalidations()).as("only the first one publishes").containsExactly(1L);
    local.ack(1);
    assertThat(first).isCompleted();
    assertThat(failure(second).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void deletingAMissingKeyFailsWithNotFoundAndPublishesNothing() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal().renew();
    assertThat(failure(deletes.delete(KEY)).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(local.invalidations()).isEmpty();
    assertThat(deletes.isDeleting(KEY)).isFalse();
  }

  @Test
  void aFailedRemovalAnswersTheErrorAndLeavesTheKeyUnmarked() throws Exception {
    storage = new RemovalFails(storage);
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal().renew();
    long generation = put(KEY);

    CompletableFuture<DeleteCoordinator.Deleted> delete = deletes.delete(KEY);
    local.ack(1);
    assertThat(delete).isCompletedExceptionally();
    assertThat(delete.handle((x, e) -> e).join()).hasMessageContaining("disk failed");
    assertThat(stored(KEY)).isPresent();
    assertThat(deletes.isDeleting(KEY)).isFalse();
    assertThat(deletes.flagDeleting(KEY, generation, deletes.beforeRead())).isFalse();
  }

  @Test
  void closingFailsWaitingDeletesKeepingTheirKeysAndRefusesNewOnes() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    new FakeLocal().renew();
    long generation = put(KEY);
    put(bytes("later"));

    CompletableFuture<DeleteCoordinator.Deleted> waiting = deletes.delete(KEY);
    assertThat(waiting).isNotDone();
    hub.close();
    // The Local's lease runs on after its subscription was cut: removing the key and answering OK
    // would let it serve a value whose delete was acknowledged. Unacknowledged, the key may stay.
    StatusRuntimeException e = failure(waiting);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e).hasMessageContaining("shutting down");
    assertThat(stored(KEY)).map(StoredInfo::generation).contains(generation);
    assertThat(deletes.isDeleting(KEY)).isFalse();
    assertThat(deletes.waiting()).isZero();

    CompletableFuture<DeleteCoordinator.Deleted> refused = deletes.delete(bytes("later"));
    assertThat(failure(refused).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(stored(bytes("later"))).isPresent();
    assertThat(deletes.isDeleting(bytes("later"))).isFalse();
  }

  @Test
  void aDeleteWhoseWaitEndedBeforeTheCloseStillRemovesItsKey() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal().renew();
    long generation = put(KEY);

    CompletableFuture<DeleteCoordinator.Deleted> confirmed = deletes.delete(KEY);
    local.ack(1);
    hub.close();
    assertThat(confirmed).isCompletedWithValue(new DeleteCoordinator.Deleted(generation, 1));
    assertThat(stored(KEY)).isEmpty();
  }

  @Test
  void theInvalidationIsStampedByTheInjectedWallClock() throws Exception {
    start(Coherence.STRICT, Duration.ZERO);
    FakeLocal local = new FakeLocal();
    put(KEY);
    assertThat(deletes.delete(KEY)).isCompleted();
    assertThat(local.events.getLast().getInvalidation().getDeletedAtUnixNanos())
        .isEqualTo(1_700_000_000_000_000_123L);
  }

  /** A Local subscribed to the hub through a recording stream. */
  private final class FakeLocal {
    final Member member = hub.join("test");
    final List<Event> events = new CopyOnWriteArrayList<>();
    final EventStream stream = hub.newStream(new Recorder(events));

    FakeLocal() {
      hub.subscribe(member, Hello.newBuilder().setLocalId(member.id).build(), stream);
    }

    /** Renews the lease: it runs for {@link #LEASE} from now on the fake clock. */
    FakeLocal renew() {
      hub.renew(member, stream, 1);
      return this;
    }

    void ack(long seq) {
      hub.ack(member, seq);
    }

    List<Long> invalidations() {
      return events.stream()
          .filter(Event::hasInvalidation)
          .map(e -> e.getInvalidation().getSeq())
          .toList();
    }
  }

  /** A subscription's transport: always ready, records what is sent. */
  private static final class Recorder extends ServerCallStreamObserver<Event> {
    private final List<Event> events;

    Recorder(List<Event> events) {
      this.events = events;
    }

    @Override
    public void onNext(Event value) {
      events.add(value);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnReadyHandler(Runnable onReady) {}

    @Override
    public void setOnCancelHandler(Runnable onCancel) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}
  }

  /** Storage whose removals fail, as a broken disk's would. */
  private static final class RemovalFails implements Storage {
    private final Storage inner;

    RemovalFails(Storage inner) {
      this.inner = inner;
    }

    @Override
    public Optional<StoredInfo> delete(byte[] key) throws IOException {
      throw new IOException("disk failed");
    }

    @Override
    public Optional<StoredInfo> stat(byte[] key) throws IOException {
      return inner.stat(key);
    }

    @Override
    public Upload create(byte[] key, long declaredSize) throws IOException {
      return inner.create(key, declaredSize);
    }

    @Override
    public Optional<Reader> open(byte[] key) throws IOException {
      return inner.open(key);
    }

    @Override
    public long keyCount() {
      return inner.keyCount();
    }

    @Override
    public long valueBytes() {
      return inner.valueBytes();
    }

    @Override
    public String describe() {
      return "failing removals";
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
