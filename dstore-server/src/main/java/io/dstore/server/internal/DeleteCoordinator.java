package io.dstore.server.internal;

import com.google.protobuf.ByteString;
import io.dstore.server.Coherence;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes, end to end: the one place that decides when a deleted key disappears and when the delete
 * may answer. {@link GlobalService} only validates the request and turns the outcome into a
 * response; the {@link InvalidationHub} only delivers invalidations and says who holds a lease.
 *
 * <h2>Design note: the strict delete</h2>
 *
 * <p><b>Order.</b> A strict delete goes <em>mark, publish, await, remove, answer</em>:
 *
 * <ol>
 *   <li><b>Mark</b> the key deleting. At most one delete of a key runs at a time: a second one
 *       waits for the first to end and then starts over (and usually finds the key gone). The key
 *       must exist (else NOT_FOUND) and its generation is read now; it cannot change until the
 *       removal, as keys are write-once and a put of an existing key is refused.
 *   <li><b>Publish</b> its invalidation through the {@link Confirmers}: the invalidation gets its
 *       seq, is logged for replay and is queued to every Local, and in that same step the {@code
 *       Confirmers} name who must confirm it: every Local that held a lease at that moment, with
 *       the lease's expiry as it stood then.
 *   <li><b>Await</b>, without holding a thread, until each of them has acknowledged that seq (or a
 *       later one) or its lease has run out on the monotonic clock, and the startup grace is over.
 *   <li><b>Remove</b> the key from storage.
 *   <li><b>Unmark</b> the key and <b>answer</b> with the generation removed and the seq.
 * </ol>
 *
 * <p><b>What "deleting" means to reads.</b> Until the removal, reads still return the value, but
 * flagged {@code deleting} ({@link #flagDeleting}) so that no Local caches it, and revalidation
 * ({@link #isDeleting}) calls any cached copy invalid. A read that began before a delete and ended
 * after it was answered is flagged too (see {@link #beforeRead}). So no reader sees the key gone
 * while a Local may still serve it from its cache, and no Local can cache it afresh: the delete
 * takes effect for everyone at one instant, the removal, which is what makes reads linearizable.
 *
 * <p><b>A slow Local delays a delete by at most one lease.</b> A Local serves cache hits only while
 * its lease is valid, and a renewal extends the lease only through a heartbeat queued behind every
 * invalidation sent before it. So once the lease it held when the invalidation was queued has run
 * out, a Local that has not acknowledged cannot be serving the old value, and the delete goes ahead
 * without it (this is logged). That lease was granted at most one lease ago. A Local without a
 * lease is not waited for at all, and one that leaves counts as having confirmed everything.
 *
 * <p><b>Startup grace.</b> Leases granted by an earlier run of Global are unknown to this one, so
 * until {@code startupGrace} (one lease by default) has passed since this coordinator was created,
 * strict deletes also wait for the grace to end, even with nobody to wait for.
 *
 * <p><b>Eventual mode</b> removes the key at once, publishes the invalidation and answers without
 * waiting: Locals may serve the old value until the invalidation reaches them. Keys are never
 * marked, so reads are never flagged.
 *
 * <p><b>Failures.</b> If the storage fails before the invalidation is published, the key is
 * unmarked and the error answered; nothing was published. If it fails to remove the key after the
 * wait, the key is unmarked and the error answered: the key stays as it was, and the Locals merely
 * dropped their cached copies. If the {@code Confirmers} refuse to publish because Global is
 * shutting down, the delete fails with UNAVAILABLE and the key stays. <b>Closing</b> ({@link
 * #close}, called by {@link InvalidationHub#close}) ends every wait at once, and the deletes that
 * were waiting fail with UNAVAILABLE and keep their keys, as if the invalidation had never been
 * published. Every subscription has just been cut, but a Local's lease runs on, so removing the key
 * and answering OK then would let such a Local serve a value whose delete had been acknowledged.
 * Keeping the key is allowed: a delete that has not answered OK has not happened, the Locals merely
 * dropped their cached copies, and the caller may retry once Global is back. (Before this, closing
 * removed the keys and answered as if confirmed.) A wait that ended before the close, by its last
 * confirmation or its deadline, goes ahead: its removal and answer are already on their way.
 *
 * <p><b>Who must confirm.</b> {@link Confirmers} is the seam for that question: today only this
 * server's {@link InvalidationHub}, whose parties ({@link Confirmer}s) are its leased Locals
 * ({@link Member}). Confirmations come back through {@link #confirmed}. A composite {@code
 * Confirmers} could add other parties (other gateways, say) without changing the state machine
 * here.
 *
 * <p><b>Concurrency.</b> Thread-safe and lock-free. A confirmation and a wait cannot miss each
 * other: a confirmation first raises the party's {@link Confirmer#confirmedSeq} and then looks for
 * waits on it, while a wait first becomes visible and then re-reads each party's {@code
 * confirmedSeq}. Closing is reconciled the same way with its {@code closed} flag. A wait ends on
 * the thread of the last confirmation, of a timer or of {@link #close}; the removal and the answer
 * then run on the executor.
 *
 * <p><b>Time.</b> Lease expiries, the grace and the deadlines are read from the injected monotonic
 * clock; timers run on the injected scheduler and re-check that clock, and {@link
 * #recheckDeadlines} lets tests that move a fake clock act at once. The injected wall clock only
 * stamps {@code deleted_at_unix_nanos}.
 */
public final class DeleteCoordinator implements Deletes {
  private static final Logger log = LoggerFactory.getLogger(DeleteCoordinator.class);

  private final Coherence coherence;
  private final Storage storage;
  private final Confirmers confirmers;
  private final LongSupplier nanoClock;
  private final InstantSource wallClock;
  private final ScheduledExecutorService scheduler;
  private final Executor executor;
  private final GlobalMetrics metrics;
  private final long graceEndNanos;

  /** Keys being deleted (strict mode), each with a future completed when its delete ends. */
  private final Map<ByteString, CompletableFuture<Void>> deleting = new ConcurrentHashMap<>();

  /**
   * Strict deletes ended so far; bumped after the removal and before the key is unmarked, so that a
   * read can tell that a delete began and ended while it was reading.
   */
  private final AtomicLong ended = new AtomicLong();

  /** Strict deletes waiting for confirmations, by seq. */
  private final ConcurrentSkipListMap<Long, Wait> waits = new ConcurrentSkipListMap<>();

  private volatile boolean closed;

  /**
   * @param confirmers who must confirm each invalidation; from now on they report confirmations to
   *     this coordinator, and close it when they close
   * @param startupGrace how long from now strict deletes wait, to outlast leases of an earlier run
   * @param nanoClock the monotonic clock, in nanoseconds, that leases are measured on
   * @param wallClock stamps each invalidation's {@code deleted_at_unix_nanos}, and nothing else
   * @param scheduler runs the timers that end waits at lease expiry
   * @param executor removes keys and answers, once a wait has ended
   */
  public DeleteCoordinator(
      Coherence coherence,
      Storage storage,
      Confirmers confirmers,
      Duration startupGrace,
      LongSupplier nanoClock,
      InstantSource wallClock,
      ScheduledExecutorService scheduler,
      Executor executor,
      GlobalMetrics metrics) {
    this.coherence = coherence;
    this.storage = storage;
    this.confirmers = confirmers;
    this.nanoClock = nanoClock;
    this.wallClock = wallClock;
    this.scheduler = scheduler;
    this.executor = executor;
    this.metrics = metrics;
    this.graceEndNanos = nanoClock.getAsLong() + startupGrace.toNanos();
    confirmers.reportTo(this); // last: every field is set
  }

  /**
   * Deletes {@code key} (see the class comment). The future completes with what was removed, or
   * fails with NOT_FOUND, UNAVAILABLE (shutting down) or the storage's exception. No thread waits.
   */
  @Override
  public CompletableFuture<Deleted> delete(ByteString key, ByteString requestId) {
    return delete(key);
  }

  CompletableFuture<Deleted> delete(ByteString key) {
    CompletableFuture<Deleted> result = new CompletableFuture<>();
    if (coherence == Coherence.STRICT) {
      deleteStrict(key, result);
    } else {
      deleteEventual(key, result);
    }
    return result;
  }

  @Override
  public long beforeRead() {
    return ended.get();
  }

  /**
   * Whether a value of {@code generation}, read after {@code beforeRead} was taken, must be flagged
   * {@code deleting} (not cached): a strict delete of it is under way, or one began and ended while
   * it was being read (the reader saw the old value, but the delete has answered already). Call it
   * after the read: a delete marked before then is seen here, and one marked later reaches the
   * Locals as an invalidation, which stops the value being cached.
   */
  @Override
  public boolean flagDeleting(ByteString key, long generation, long beforeRead) throws IOException {
    if (deleting.containsKey(key)) {
      return true;
    }
    if (ended.get() == beforeRead) {
      return false;
    }
    Optional<StoredInfo> now = storage.stat(key.toByteArray());
    return now.isEmpty() || now.get().generation() != generation;
  }

  /**
   * Whether a strict delete of {@code key} is under way. Revalidation calls a cached copy of such a
   * key invalid: the delete may end as soon as that Local acknowledges, so it must drop the copy.
   */
  @Override
  public boolean isDeleting(ByteString key) {
    return deleting.containsKey(key);
  }

  /**
   * {@code party} has confirmed every invalidation up to {@code seq}; its {@link
   * Confirmer#confirmedSeq} must already say so. Ends each wait it was the last one left in (if the
   * grace is over).
   */
  void confirmed(Confirmer party, long seq) {
    long now = nanoClock.getAsLong();
    for (Wait w : waits.headMap(seq, true).values()) {
      if (w.waitingFor.remove(party)) {
        w.tryEnd(now);
      }
    }
  }

  /** Re-checks every wait against the clock (timers do this; tests moving a fake clock call it). */
  void recheckDeadlines() {
    long now = nanoClock.getAsLong();
    for (Wait w : waits.values()) {
      w.tryEnd(now);
    }
  }

  /** Strict deletes waiting for confirmations now. */
  int waiting() {
    return waits.size();
  }

  /**
   * Global is shutting down: ends every wait, failing those deletes with UNAVAILABLE and keeping
   * their keys (see the class comment). Deletes that start later fail when their invalidation
   * cannot be published. Idempotent.
   */
  void close() {
    closed = true;
    for (Wait w : waits.values()) {
      w.fail();
    }
  }

  /** Removes at once, then tells the Locals: they may serve the value until told. */
  private void deleteEventual(ByteString key, CompletableFuture<Deleted> result) {
    long generation;
    try {
      generation =
          storage.delete(key.toByteArray()).orElseThrow(DeleteCoordinator::notFound).generation();
    } catch (IOException | RuntimeException e) {
      result.completeExceptionally(e);
      return;
    }
    metrics
        .timeFanout(() -> publishOnly(key, generation))
        .whenComplete((seq, error) -> answer(result, generation, seq, error));
  }

  /** Mark, publish, await, remove, answer (see the class comment). */
  private void deleteStrict(ByteString key, CompletableFuture<Deleted> result) {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> earlier = deleting.putIfAbsent(key, mine);
    if (earlier != null) {
      earlier.whenCompleteAsync((x, e) -> deleteStrict(key, result), executor);
      return;
    }
    long generation;
    try {
      generation =
          storage.stat(key.toByteArray()).orElseThrow(DeleteCoordinator::notFound).generation();
    } catch (IOException | RuntimeException e) {
      unmark(key, mine);
      result.completeExceptionally(e);
      return;
    }
    metrics
        .timeFanout(() -> publishAndAwait(key, generation))
        .whenCompleteAsync(
            (seq, error) -> {
              Throwable failure = error;
              if (failure == null) {
                try {
                  // The key cannot have changed: it exists, so puts of it are refused.
                  storage.delete(key.toByteArray());
                } catch (IOException | RuntimeException e) {
                  failure = e;
                }
              }
              unmark(key, mine);
              answer(result, generation, seq, failure);
            },
            executor);
  }

  private CompletableFuture<Long> publishOnly(ByteString key, long generation) {
    try {
      return CompletableFuture.completedFuture(
          confirmers.publish(key, generation, deletedAtUnixNanos(), false).seq());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Publishes, then completes with the seq once every party confirmed or can no longer serve. */
  private CompletableFuture<Long> publishAndAwait(ByteString key, long generation) {
    Published published;
    try {
      published = confirmers.publish(key, generation, deletedAtUnixNanos(), true);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return await(published);
  }

  /**
   * Completes with the seq of {@code published} once every party it names confirmed it or can no
   * longer serve (its lease ran out), or fails with UNAVAILABLE on {@link #close}. A gateway of the
   * cluster store publishes each invalidation its watch delivers and awaits its own Locals this way
   * before it acknowledges the revision to the other gateways.
   */
  public CompletableFuture<Long> await(Published published) {
    Wait w = new Wait(published);
    waits.put(w.seq, w);
    // Now visible to confirmations; catch those that came before.
    w.waitingFor.removeIf(party -> party.confirmedSeq() >= w.seq);
    if (closed) {
      w.fail(); // close() may have looked before this wait was visible
      return w.done;
    }
    long now = nanoClock.getAsLong();
    if (!w.tryEnd(now)) {
      checkLater(w, Math.max(0, w.deadlineNanos - now));
    }
    return w.done;
  }

  private void checkDeadline(Wait w) {
    long now = nanoClock.getAsLong();
    if (!w.tryEnd(now) && !closed) {
      // A fake or coarse clock: look again shortly.
      checkLater(w, Math.max(TimeUnit.MILLISECONDS.toNanos(1), w.deadlineNanos - now));
    }
  }

  private void checkLater(Wait w, long delayNanos) {
    try {
      scheduler.schedule(() -> checkDeadline(w), delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The timers stop only after Global has closed, and closing ended every wait.
    }
  }

  private long deletedAtUnixNanos() {
    Instant now = wallClock.instant();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  private void unmark(ByteString key, CompletableFuture<Void> mine) {
    ended.incrementAndGet();
    deleting.remove(key, mine);
    mine.complete(null);
  }

  private static RuntimeException notFound() {
    return GrpcErrors.status(ErrorCode.NOT_FOUND, "key not found");
  }

  private static void answer(
      CompletableFuture<Deleted> result, long generation, Long seq, Throwable error) {
    if (error != null) {
      result.completeExceptionally(error);
    } else {
      result.complete(new Deleted(generation, seq));
    }
  }

  /** What a delete removed: the value's generation, and the seq of its invalidation. */
  public record Deleted(long generation, long seq) {}

  /**
   * Who must confirm an invalidation before a strict delete may remove its key. Today this is only
   * the {@link InvalidationHub} of this server, and the parties are its leased Locals.
   */
  public interface Confirmers {
    /**
     * Assigns the invalidation of {@code key} at {@code generation} its seq and sends it to
     * everyone who may serve the key, and, if {@code collect}, returns the parties that must
     * confirm it (captured in the same step, so none that could serve the old value is left out);
     * else an empty list.
     *
     * @throws io.grpc.StatusRuntimeException UNAVAILABLE if nothing can be published any more
     */
    Published publish(ByteString key, long generation, long deletedAtUnixNanos, boolean collect);

    /**
     * From now on report each confirmation to {@code deletes} ({@link DeleteCoordinator#confirmed})
     * and close it on shutdown. Called once, by the coordinator's constructor.
     */
    void reportTo(DeleteCoordinator deletes);
  }

  /** A party that must confirm invalidations: a leased Local, today. */
  public interface Confirmer {
    /** The latest seq confirmed; {@link Long#MAX_VALUE} once it can serve nothing any more. */
    long confirmedSeq();

    /** Names the party in logs. */
    String describe();
  }

  /** A published invalidation's seq, and who must confirm it. */
  public record Published(long seq, List<Awaited> awaited) {}

  /** A party to wait for, until {@code deadlineNanos} on the monotonic clock (its lease expiry). */
  public record Awaited(Confirmer party, long deadlineNanos) {}

  /** One strict delete waiting for confirmations. */
  private final class Wait {
    final long seq;
    final long deadlineNanos; // the grace's end or the latest lease expiry, whichever is later
    final Set<Confirmer> waitingFor = ConcurrentHashMap.newKeySet();
    final CompletableFuture<Long> done = new CompletableFuture<>();

    Wait(Published published) {
      this.seq = published.seq();
      long deadline = graceEndNanos;
      for (Awaited a : published.awaited()) {
        waitingFor.add(a.party());
        if (a.deadlineNanos() - deadline > 0) {
          deadline = a.deadlineNanos();
        }
      }
      this.deadlineNanos = deadline;
    }

    /** Ends the wait if nobody is left (and the grace is over) or the deadline passed. */
    boolean tryEnd(long now) {
      if (done.isDone()) {
        return true;
      }
      boolean graceOver = now - graceEndNanos >= 0;
      boolean deadlinePassed = now - deadlineNanos >= 0;
      if (!(waitingFor.isEmpty() && graceOver) && !deadlinePassed) {
        return false;
      }
      if (end()) {
        for (Confirmer party : waitingFor) {
          log.info(
              "{} did not acknowledge invalidation {} before its lease expired",
              party.describe(),
              seq);
        }
      }
      return true;
    }

    /** Ends the wait whatever is left; true if this call ended it. */
    boolean end() {
      waits.remove(seq, this);
      return done.complete(seq);
    }

    /** Ends the wait unconfirmed, because Global is shutting down: the key is kept. */
    void fail() {
      waits.remove(seq, this);
      done.completeExceptionally(
          GrpcErrors.status(
              ErrorCode.UNAVAILABLE,
              "Global is shutting down; the delete did not complete and the key was kept"));
    }
  }
}
