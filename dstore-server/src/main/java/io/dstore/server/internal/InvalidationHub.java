package io.dstore.server.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import io.dstore.proto.Event;
import io.dstore.proto.Hello;
import io.dstore.proto.Invalidation;
import io.dstore.proto.Resync;
import io.dstore.proto.Welcome;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Membership, leases and invalidation fan-out: registers Locals, grants their leases, assigns each
 * invalidation its {@code seq}, keeps the replay log and pushes invalidations to every subscribed
 * Local. For strict deletes it is the {@link DeleteCoordinator}'s {@link
 * DeleteCoordinator.Confirmers}: publishing says which Locals must confirm, and their
 * acknowledgements (and leaves) are passed on to the coordinator, which decides when a delete may
 * go ahead.
 *
 * <p><b>Ordering.</b> One sequencer lock covers seq assignment, the log append and queueing to
 * every member, so every stream carries invalidations in seq order and a new subscription is cut at
 * a seq with nothing lost or doubled between replay and live events.
 *
 * <p><b>Seqs.</b> A single Global numbers its invalidations 1, 2, 3, ... ({@link #publish}). A
 * gateway of the cluster store publishes each at the etcd revision of its delete ({@link
 * #publishAt}): increasing, not consecutive. Every invalidation carries its {@code previous_seq},
 * so a Local finds gaps either way.
 *
 * <p><b>Lease fence.</b> A gateway may grant Local leases only while it holds its own etcd lease
 * and its watch is caught up, and never past its etcd lease's expiry: the injected {@link
 * LeaseFence} says how long a lease may be granted now. A single Global's fence always allows a
 * full lease.
 *
 * <p>Time is read from the injected monotonic clock; the idle-member pruning runs on the injected
 * scheduler.
 */
public final class InvalidationHub implements AutoCloseable, DeleteCoordinator.Confirmers {
  private static final Logger log = LoggerFactory.getLogger(InvalidationHub.class);
  private static final int MAX_QUEUED_EVENTS = 1_000_000;

  private final long leaseNanos;
  private final long renewIntervalMillis;
  private final LongSupplier nanoClock;
  private final String incarnation;
  private final LeaseFence fence;

  private final Object sequencer = new Object();

  @GuardedBy("sequencer")
  private final InvalidationLog invalidationLog;

  private volatile long lastSeq; // written under sequencer, after the log
  private final Map<String, Member> members = new ConcurrentHashMap<>();
  private volatile DeleteCoordinator deletes; // set once, before the server starts
  private volatile boolean closed;

  /** A single Global's hub: a random incarnation, seqs from 1, full leases always. */
  public InvalidationHub(
      long leaseNanos,
      long renewIntervalMillis,
      int logCapacity,
      LongSupplier nanoClock,
      ScheduledExecutorService scheduler) {
    this(
        leaseNanos,
        renewIntervalMillis,
        logCapacity,
        nanoClock,
        scheduler,
        UUID.randomUUID().toString(),
        0,
        (now, wanted) -> wanted);
  }

  /**
   * @param incarnation what a Local's seq is relative to: shared by every gateway of one cluster
   * @param floor the seq this hub starts after; a Local that applied less must resync
   * @param fence how long a lease may be granted now
   */
  public InvalidationHub(
      long leaseNanos,
      long renewIntervalMillis,
      int logCapacity,
      LongSupplier nanoClock,
      ScheduledExecutorService scheduler,
      String incarnation,
      long floor,
      LeaseFence fence) {
    this.leaseNanos = leaseNanos;
    this.renewIntervalMillis = renewIntervalMillis;
    this.invalidationLog = new InvalidationLog(logCapacity, floor);
    this.lastSeq = floor;
    this.incarnation = incarnation;
    this.fence = fence;
    this.nanoClock = nanoClock;
    long pruneEvery = Math.max(leaseNanos, TimeUnit.SECONDS.toNanos(1));
    scheduler.scheduleWithFixedDelay(
        this::pruneIdleMembers, pruneEvery, pruneEvery, TimeUnit.NANOSECONDS);
  }

  @Override
  public void reportTo(DeleteCoordinator deletes) {
    if (this.deletes != null) {
      throw new IllegalStateException("the hub already reports to a DeleteCoordinator");
    }
    this.deletes = deletes;
  }

  public String incarnation() {
    return incarnation;
  }

  public long leaseMillis() {
    return leaseNanos / 1_000_000;
  }

  public long renewIntervalMillis() {
    return renewIntervalMillis;
  }

  /** The latest seq assigned. */
  public long currentSeq() {
    return lastSeq; // every Get reads it: no lock
  }

  /** Number of Locals known now (joined and not pruned). */
  public int memberCount() {
    return members.size();
  }

  /** Number of Locals with an open subscription now. */
  public int subscribedCount() {
    int n = 0;
    for (Member m : members.values()) {
      if (m.isSubscribed()) {
        n++;
      }
    }
    return n;
  }

  /** Registers a new Local. */
  public Member join(String name) {
    Member m = new Member(UUID.randomUUID().toString(), name, nanoClock.getAsLong());
    members.put(m.id, m);
    log.info("Local joined: {} ({})", m.id, name.isEmpty() ? "unnamed" : name);
    return m;
  }

  /** The member with this id, registering it if unknown (a Local from before a restart). */
  Member memberFor(String id) {
    return members.computeIfAbsent(
        id,
        k -> {
          log.info("Local rejoined: {}", k);
          return new Member(k, "", nanoClock.getAsLong());
        });
  }

  /** Deregisters a Local: deletes stop waiting for it, its stream ends. */
  public void leave(String id) {
    Member m = members.remove(id);
    if (m == null) {
      return;
    }
    m.closeStream(Status.OK);
    m.leave();
    confirmed(m, Long.MAX_VALUE);
    log.info("Local left: {}", id);
  }

  /**
   * Assigns the invalidation of {@code key} at {@code generation} the next seq, logs it and queues
   * it to every member, in one step; with {@code collect}, returns each member that held a lease at
   * that moment, with the lease's expiry as it stood then.
   *
   * @throws io.grpc.StatusRuntimeException UNAVAILABLE once the hub is closed
   */
  @Override
  public DeleteCoordinator.Published publish(
      ByteString key, long generation, long deletedAtUnixNanos, boolean collect) {
    synchronized (sequencer) {
      return publishAt(invalidationLog.lastSeq() + 1, key, generation, deletedAtUnixNanos, collect);
    }
  }

  /**
   * As {@link #publish}, at a given {@code seq}, which must be above every seq published before:
   * for a gateway, the etcd revision of the delete.
   *
   * @throws io.grpc.StatusRuntimeException UNAVAILABLE once the hub is closed
   * @throws IllegalArgumentException if {@code seq} does not follow the last one
   */
  public DeleteCoordinator.Published publishAt(
      long seq, ByteString key, long generation, long deletedAtUnixNanos, boolean collect) {
    if (closed) {
      throw GrpcErrors.status(ErrorCode.UNAVAILABLE, "Global is shutting down");
    }
    List<DeleteCoordinator.Awaited> leased = collect ? new ArrayList<>() : List.of();
    synchronized (sequencer) {
      Invalidation inv =
          invalidationLog.append(
              Invalidation.newBuilder()
                  .setSeq(seq)
                  .setKey(key)
                  .setGeneration(generation)
                  .setDeletedAtUnixNanos(deletedAtUnixNanos)
                  .build());
      lastSeq = seq;
      Event event = Event.newBuilder().setInvalidation(inv).build();
      long nowNanos = nanoClock.getAsLong();
      for (Member m : members.values()) {
        long expiry = m.enqueue(event, seq, nowNanos);
        if (collect && expiry != Long.MIN_VALUE && expiry - nowNanos > 0) {
          leased.add(new DeleteCoordinator.Awaited(m, expiry));
        }
      }
    }
    return new DeleteCoordinator.Published(seq, leased);
  }

  /**
   * Forgets the replay log and starts it again after {@code floor}, and cuts every subscription: a
   * gateway's watch lost events (etcd compacted them), so Locals that had not applied everything up
   * to {@code floor} must resync. Publishing continues above it.
   */
  public void resetFloor(long floor) {
    synchronized (sequencer) {
      invalidationLog.resetFloor(floor);
      lastSeq = invalidationLog.lastSeq();
    }
    dropSubscriptions();
  }

  /** Opens a subscription for {@code member}: Welcome, then replay or Resync, then live events. */
  public void subscribe(Member member, Hello hello, EventStream stream) {
    synchronized (sequencer) {
      long cut = invalidationLog.lastSeq();
      List<Event> initial = new ArrayList<>();
      boolean fresh = hello.getIncarnation().isEmpty() && hello.getLastSeq() == 0;
      boolean replayable =
          incarnation.equals(hello.getIncarnation())
              && invalidationLog.reachesBackTo(hello.getLastSeq());
      long replayFrom = replayable ? Math.min(hello.getLastSeq(), cut) : cut;
      initial.add(
          Event.newBuilder()
              .setWelcome(
                  Welcome.newBuilder()
                      .setIncarnation(incarnation)
                      .setReplayFrom(replayFrom)
                      .setSeq(cut)
                      .setLeaseMillis(leaseMillis())
                      .setRenewIntervalMillis(renewIntervalMillis))
              .build());
      if (replayable) {
        for (Invalidation inv : invalidationLog.after(replayFrom)) {
          initial.add(Event.newBuilder().setInvalidation(inv).build());
        }
      } else if (!fresh) {
        initial.add(Event.newBuilder().setResync(Resync.newBuilder().setSeq(cut)).build());
        log.info(
            "Local {} resyncs: it knew seq {} of {}, the log holds {}..{} of {}",
            member.id,
            hello.getLastSeq(),
            hello.getIncarnation().isEmpty() ? "no run" : "run " + hello.getIncarnation(),
            invalidationLog.floor(),
            cut,
            incarnation);
      }
      member.attach(stream, cut, initial, nanoClock.getAsLong());
    }
  }

  /** Handles a lease renewal that arrived on {@code stream}. */
  public void renew(Member member, EventStream stream, long nonce) {
    long now = nanoClock.getAsLong();
    member.renew(stream, nonce, now, Math.max(0, fence.grantableNanos(now, leaseNanos)));
  }

  /** Handles an acknowledgement: {@code member} applied everything up to {@code seq}. */
  public void ack(Member member, long seq) {
    member.acknowledge(seq);
    confirmed(member, seq);
  }

  private void confirmed(Member member, long seq) {
    DeleteCoordinator d = deletes;
    if (d != null) {
      d.confirmed(member, seq);
    }
  }

  /** The stream ended; the member's lease runs on until it expires or it reconnects. */
  public void unsubscribe(Member member, EventStream stream) {
    member.detach(stream, nanoClock.getAsLong());
  }

  /**
   * Lets the strict deletes waiting for leases act on the clock now: timers do this; tests that
   * move a fake clock and see only the hub call it directly.
   */
  public void expireLeases() {
    DeleteCoordinator d = deletes;
    if (d != null) {
      d.recheckDeadlines();
    }
  }

  /** Strict deletes waiting for acknowledgements now (for metrics and tests). */
  public int pendingDeletes() {
    DeleteCoordinator d = deletes;
    return d == null ? 0 : d.waiting();
  }

  private void pruneIdleMembers() {
    long now = nanoClock.getAsLong();
    long idle = Math.max(10 * leaseNanos, TimeUnit.SECONDS.toNanos(30));
    for (Member m : members.values()) {
      if (m.idleSince(now, idle)) {
        members.remove(m.id, m);
        log.info("Local left: {} (no subscription, lease expired)", m.id);
      }
    }
  }

  /**
   * Cuts every subscription (UNAVAILABLE) without forgetting the Locals or their leases, as a
   * network fault would; they reconnect and are replayed what they missed. For fault injection.
   */
  public void dropSubscriptions() {
    for (Member m : members.values()) {
      m.closeStream(Status.UNAVAILABLE.withDescription("subscription dropped"));
    }
  }

  /**
   * Ends every subscription and fails every waiting delete, keeping its key (see {@link
   * DeleteCoordinator}); publishing fails from now on. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    for (Member m : members.values()) {
      m.closeStream(Status.UNAVAILABLE.withDescription("Global is shutting down"));
    }
    DeleteCoordinator d = deletes;
    if (d != null) {
      d.close();
    }
  }

  /**
   * How long a Local lease may be granted now. A gateway's fence allows none while it does not hold
   * its etcd lease or its watch is behind, and never one that outlasts its etcd lease.
   */
  @FunctionalInterface
  public interface LeaseFence {
    /**
     * @param nowNanos the monotonic clock now
     * @param wantedNanos the configured lease
     * @return the lease to grant, at most {@code wantedNanos}; 0 or less grants none
     */
    long grantableNanos(long nowNanos, long wantedNanos);
  }

  /** Creates the sending half of a new subscription. */
  EventStream newStream(io.grpc.stub.ServerCallStreamObserver<Event> observer) {
    return new EventStream(observer, MAX_QUEUED_EVENTS);
  }

  /** Members known now; for tests and metrics. */
  Collection<Member> members() {
    return members.values();
  }
}
