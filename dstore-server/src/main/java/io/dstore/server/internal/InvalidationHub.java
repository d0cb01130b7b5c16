package io.dstore.server.internal;

import com.google.protobuf.ByteString;
import io.dstore.proto.Event;
import io.dstore.proto.Hello;
import io.dstore.proto.Invalidation;
import io.dstore.proto.Resync;
import io.dstore.proto.Welcome;
import io.dstore.server.Coherence;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.Status;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Membership and invalidation fan-out: assigns each delete its {@code seq}, keeps the replay log,
 * pushes invalidations to every subscribed Local, and (in strict mode) decides when a delete may
 * return.
 *
 * <p><b>Ordering.</b> One sequencer lock covers seq assignment, the log append and queueing to
 * every member, so every stream carries invalidations in seq order and a new subscription is cut at
 * a seq with nothing lost or doubled between replay and live events.
 *
 * <p><b>Strict deletes.</b> A delete with seq {@code s} waits for each member that held a lease
 * when its invalidation was queued, until that member acknowledged {@code s} or the lease (as it
 * stood then) ran out. Acks and the wait set are reconciled by a double check (ack: raise ackedSeq,
 * then scan pending; delete: join the wait set, then re-read ackedSeq), so neither can miss the
 * other. Leases granted by an earlier run of Global are unknown here, so for a grace period after
 * start (one lease by default) strict deletes also wait.
 *
 * <p>Time is read from the injected monotonic clock; timers run on the injected scheduler, and
 * {@link #expireLeases()} re-checks deadlines for tests that drive a fake clock.
 */
public final class InvalidationHub implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(InvalidationHub.class);
  private static final int MAX_QUEUED_EVENTS = 1_000_000;

  private final Coherence coherence;
  private final long leaseNanos;
  private final long renewIntervalMillis;
  private final LongSupplier nanoClock;
  private final Clock wallClock;
  private final ScheduledExecutorService scheduler;
  private final String incarnation = UUID.randomUUID().toString();
  private final long graceEndNanos;

  private final Object sequencer = new Object();
  private final InvalidationLog invalidationLog; // guarded by sequencer
  private volatile long lastSeq; // written under sequencer, after the log
  private final Map<String, Member> members = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<Long, PendingDelete> pending = new ConcurrentSkipListMap<>();
  private volatile boolean closed;

  public InvalidationHub(
      Coherence coherence,
      long leaseNanos,
      long graceNanos,
      long renewIntervalMillis,
      int logCapacity,
      LongSupplier nanoClock,
      Clock wallClock,
      ScheduledExecutorService scheduler) {
    this.coherence = coherence;
    this.leaseNanos = leaseNanos;
    this.renewIntervalMillis = renewIntervalMillis;
    this.invalidationLog = new InvalidationLog(logCapacity);
    this.nanoClock = nanoClock;
    this.wallClock = wallClock;
    this.scheduler = scheduler;
    this.graceEndNanos = nanoClock.getAsLong() + graceNanos;
    long pruneEvery = Math.max(leaseNanos, TimeUnit.SECONDS.toNanos(1));
    scheduler.scheduleWithFixedDelay(
        this::pruneIdleMembers, pruneEvery, pruneEvery, TimeUnit.NANOSECONDS);
  }

  public Coherence coherence() {
    return coherence;
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
    for (PendingDelete p : pending.values()) {
      p.waiting.remove(m);
      p.tryComplete(nanoClock.getAsLong());
    }
    log.info("Local left: {}", id);
  }

  /**
   * Publishes the invalidation of {@code key} at {@code generation}. The future completes with the
   * new seq once the delete may return to its caller: at once in eventual mode; in strict mode once
   * every Local that could still serve the old value has acknowledged or lost its lease.
   */
  public CompletableFuture<Long> publish(ByteString key, long generation) {
    if (closed) {
      return CompletableFuture.failedFuture(
          GrpcErrors.status(ErrorCode.UNAVAILABLE, "Global is shutting down"));
    }
    Instant now = wallClock.instant();
    long deletedAtNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    PendingDelete p;
    long seq;
    synchronized (sequencer) {
      seq = invalidationLog.lastSeq() + 1;
      Invalidation inv =
          Invalidation.newBuilder()
              .setSeq(seq)
              .setKey(key)
              .setGeneration(generation)
              .setDeletedAtUnixNanos(deletedAtNanos)
              .build();
      invalidationLog.append(inv);
      lastSeq = seq;
      Event event = Event.newBuilder().setInvalidation(inv).build();
      long nowNanos = nanoClock.getAsLong();
      p = coherence == Coherence.STRICT ? new PendingDelete(seq, graceEndNanos) : null;
      if (p != null) {
        pending.put(seq, p);
      }
      for (Member m : members.values()) {
        long expiry = m.enqueue(event, seq);
        if (p != null && expiry != Long.MIN_VALUE && expiry - nowNanos > 0) {
          p.await(m, expiry);
        }
      }
    }
    if (p == null) {
      return CompletableFuture.completedFuture(seq);
    }
    // Acks that raced ahead of joining the wait set.
    for (Member m : p.waiting) {
      if (m.ackedSeq.get() >= p.seq) {
        p.waiting.remove(m);
      }
    }
    // Only now is the wait set whole: until here an early ack could have found it empty.
    p.armed = true;
    long nowNanos = nanoClock.getAsLong();
    if (!p.tryComplete(nowNanos)) {
      scheduler.schedule(
          () -> checkDeadline(p), Math.max(0, p.deadlineNanos - nowNanos), TimeUnit.NANOSECONDS);
    }
    return p.done;
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
      long replayFrom = replayable ? hello.getLastSeq() : cut;
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
            invalidationLog.firstSeq(),
            cut,
            incarnation);
      }
      member.attach(stream, cut, initial, nanoClock.getAsLong());
    }
  }

  /** Handles a lease renewal that arrived on {@code stream}. */
  public void renew(Member member, EventStream stream, long nonce) {
    member.renew(stream, nonce, nanoClock.getAsLong(), leaseNanos);
  }

  /** Handles an acknowledgement: {@code member} applied everything up to {@code seq}. */
  public void ack(Member member, long seq) {
    member.ackedSeq.accumulateAndGet(seq, Math::max);
    long now = nanoClock.getAsLong();
    for (PendingDelete p : pending.headMap(seq, true).values()) {
      if (p.waiting.remove(member)) {
        p.tryComplete(now);
      }
    }
  }

  /** The stream ended; the member's lease runs on until it expires or it reconnects. */
  public void unsubscribe(Member member, EventStream stream) {
    member.detach(stream, nanoClock.getAsLong());
  }

  /** Re-checks every pending delete against the clock (timers do this; tests call it directly). */
  public void expireLeases() {
    long now = nanoClock.getAsLong();
    for (PendingDelete p : pending.values()) {
      p.tryComplete(now);
    }
  }

  /** Pending strict deletes now (for metrics and tests). */
  public int pendingDeletes() {
    return pending.size();
  }

  private void checkDeadline(PendingDelete p) {
    long now = nanoClock.getAsLong();
    if (!p.tryComplete(now) && !closed) {
      // A fake or coarse clock: look again shortly.
      scheduler.schedule(
          () -> checkDeadline(p),
          Math.max(TimeUnit.MILLISECONDS.toNanos(1), p.deadlineNanos - now),
          TimeUnit.NANOSECONDS);
    }
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

  /** Ends every subscription and releases every waiting delete. Idempotent. */
  @Override
  public void close() {
    closed = true;
    for (Member m : members.values()) {
      m.closeStream(Status.UNAVAILABLE.withDescription("Global is shutting down"));
    }
    for (PendingDelete p : pending.values()) {
      p.waiting.clear();
      p.complete();
    }
  }

  /** Creates the sending half of a new subscription. */
  EventStream newStream(io.grpc.stub.ServerCallStreamObserver<Event> observer) {
    return new EventStream(observer, MAX_QUEUED_EVENTS);
  }

  /** Members known now; for tests and metrics. */
  Collection<Member> members() {
    return members.values();
  }

  /** A strict delete waiting for acknowledgements. */
  private final class PendingDelete {
    final long seq;
    final java.util.Set<Member> waiting = ConcurrentHashMap.newKeySet();
    final CompletableFuture<Long> done = new CompletableFuture<>();
    volatile long deadlineNanos;
    volatile boolean armed; // set once every member to wait for has been added

    PendingDelete(long seq, long graceEnd) {
      this.seq = seq;
      this.deadlineNanos = graceEnd;
    }

    void await(Member m, long leaseExpiry) {
      waiting.add(m);
      if (leaseExpiry - deadlineNanos > 0) {
        deadlineNanos = leaseExpiry;
      }
    }

    /** Completes if nobody is left to wait for (after the grace period) or the deadline passed. */
    boolean tryComplete(long now) {
      if (done.isDone()) {
        return true;
      }
      if (!armed) {
        return false;
      }
      boolean graceOver = now - graceEndNanos >= 0;
      boolean deadlinePassed = now - deadlineNanos >= 0;
      if ((waiting.isEmpty() && graceOver) || deadlinePassed) {
        if (!waiting.isEmpty()) {
          for (Member m : waiting) {
            log.info(
                "Local {} did not acknowledge invalidation {} before its lease expired", m.id, seq);
          }
        }
        complete();
        return true;
      }
      return false;
    }

    void complete() {
      pending.remove(seq, this);
      done.complete(seq);
    }
  }
}
