package io.dstore.server.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.proto.Event;
import io.dstore.proto.Heartbeat;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One Local as Global sees it: its lease, the last seq it acknowledged, and its current
 * subscription stream (at most one; a new one replaces the old). To strict deletes it is a {@link
 * DeleteCoordinator.Confirmer}: one that leaves has confirmed everything, as it serves nothing.
 *
 * <p>Concurrency: lease, stream and {@code lastEnqueuedSeq} change together under this object's
 * monitor. That is what makes strict deletes safe: a renewal updates the lease and queues its
 * heartbeat in one step, and an invalidation is queued and the lease read in one step, so a delete
 * sees every lease whose heartbeat went out ahead of its invalidation. Times are given by the
 * caller, read from the hub's injected monotonic clock.
 */
final class Member implements DeleteCoordinator.Confirmer {
  final String id;
  final String name;
  private final AtomicLong ackedSeq = new AtomicLong();

  @GuardedBy("this")
  private EventStream stream;

  @GuardedBy("this")
  private long lastEnqueuedSeq;

  @GuardedBy("this")
  private long leaseExpiryNanos;

  @GuardedBy("this")
  private boolean hasLease;

  /** Whether the current stream has renewed the lease at least once. */
  @GuardedBy("this")
  private boolean renewedOnStream;

  @GuardedBy("this")
  private long lastActiveNanos;

  Member(String id, String name, long nowNanos) {
    this.id = id;
    this.name = name;
    this.lastActiveNanos = nowNanos;
  }

  /** The Local applied every invalidation up to {@code seq}. */
  void acknowledge(long seq) {
    ackedSeq.accumulateAndGet(seq, Math::max);
  }

  /** The Local left: it serves nothing any more, so it confirms every invalidation. */
  void leave() {
    ackedSeq.set(Long.MAX_VALUE);
  }

  @Override
  public long confirmedSeq() {
    return ackedSeq.get();
  }

  @Override
  public String describe() {
    return "Local " + id;
  }

  /**
   * Queues an invalidation (if subscribed) and returns the lease expiry as of that moment.
   *
   * <p>A subscription that renewed the lease once and then let it run out is dropped instead: its
   * Local stopped talking (a frozen process, a full socket buffer, a stalled scheduler), and
   * without a lease it serves nothing, so queueing for it would only cost Global memory, without
   * bound. Dropped, it reconnects when it wakes and catches up by replay or revalidation.
   */
  synchronized long enqueue(Event invalidation, long seq, long nowNanos) {
    if (stream != null) {
      if (renewedOnStream && nowNanos - leaseExpiryNanos >= 0) {
        stream.close(
            Status.UNAVAILABLE.withDescription(
                "this Local stopped reading its subscription and its lease ran out; reconnect to"
                    + " catch up"));
        stream = null;
        lastActiveNanos = nowNanos;
      } else {
        stream.offer(invalidation);
      }
    }
    lastEnqueuedSeq = seq;
    return hasLease ? leaseExpiryNanos : Long.MIN_VALUE;
  }

  /** Extends the lease and answers with a heartbeat carrying the last seq queued before it. */
  synchronized void renew(EventStream from, long nonce, long nowNanos, long leaseNanos) {
    if (stream != from) {
      return; // a stale stream's renewal must not extend the lease of the new one
    }
    leaseExpiryNanos = nowNanos + leaseNanos;
    hasLease = true;
    renewedOnStream = true;
    lastActiveNanos = nowNanos;
    from.offer(
        Event.newBuilder()
            .setHeartbeat(
                Heartbeat.newBuilder()
                    .setSeq(lastEnqueuedSeq)
                    .setNonce(nonce)
                    .setLeaseMillis(leaseNanos / 1_000_000))
            .build());
  }

  /** Makes {@code next} the subscription, queueing {@code initial} first; closes the old one. */
  synchronized void attach(EventStream next, long cutSeq, List<Event> initial, long nowNanos) {
    EventStream old = stream;
    stream = next;
    renewedOnStream = false;
    lastEnqueuedSeq = cutSeq;
    lastActiveNanos = nowNanos;
    for (Event e : initial) {
      next.offer(e);
    }
    if (old != null) {
      old.close(Status.CANCELLED.withDescription("replaced by a newer subscription"));
    }
  }

  /** Forgets {@code s} if it is still the current stream (the lease runs on). */
  synchronized void detach(EventStream s, long nowNanos) {
    if (stream == s) {
      stream = null;
      lastActiveNanos = nowNanos;
    }
  }

  /** Ends the subscription, if any, with {@code status}. */
  synchronized void closeStream(Status status) {
    if (stream != null) {
      stream.close(status);
      stream = null;
    }
  }

  synchronized boolean isSubscribed() {
    return stream != null;
  }

  /** Whether the lease is valid at {@code nowNanos}. */
  synchronized boolean leaseValid(long nowNanos) {
    return hasLease && nowNanos - leaseExpiryNanos < 0;
  }

  /** Whether this member has had no stream and no valid lease for at least {@code idleNanos}. */
  synchronized boolean idleSince(long nowNanos, long idleNanos) {
    long lastUse = hasLease ? Math.max(leaseExpiryNanos, lastActiveNanos) : lastActiveNanos;
    return stream == null && nowNanos - lastUse >= idleNanos;
  }
}
