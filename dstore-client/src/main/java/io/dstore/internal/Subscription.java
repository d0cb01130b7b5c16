package io.dstore.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.proto.Ack;
import io.dstore.proto.Event;
import io.dstore.proto.Heartbeat;
import io.dstore.proto.Hello;
import io.dstore.proto.Invalidation;
import io.dstore.proto.JoinResponse;
import io.dstore.proto.KeyGeneration;
import io.dstore.proto.Renew;
import io.dstore.proto.RevalidateResponse;
import io.dstore.proto.SubscribeRequest;
import io.dstore.proto.Welcome;
import io.dstore.wire.DstoreException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Local's side of the coherence channel: joins Global, keeps one subscription open (reopening
 * it with exponential backoff), applies invalidations in {@code seq} order and acknowledges them,
 * renews the {@link Lease}, and recovers what it missed.
 *
 * <p><b>Recovery.</b> A reconnecting Local sends the last seq it applied; Global replays what
 * followed, or sends Resync when its log no longer reaches back (or it restarted). After Resync the
 * Local checks every cached entry in batch calls and drops only those deleted or re-created,
 * instead of wiping its cache. A seq that skips ahead on a live stream (a gap) restarts the
 * subscription, which replays the gap.
 *
 * <p><b>Lease.</b> Renewals go out every renew interval; a heartbeat grants the lease only when
 * this Local is in sync: it has applied every seq the heartbeat covers and is not revalidating. So
 * a lease is never extended over an invalidation not yet applied.
 *
 * <p><b>Threads.</b> Events of one stream arrive one at a time on the transport thread (nothing
 * done with them blocks); renewals run on the scheduler; revalidation runs on the work executor.
 * Sends on the stream are serialized by the stream's lock. Events from a stream that was replaced
 * are ignored.
 */
final class Subscription implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Subscription.class);
  private static final int REVALIDATE_BATCH = 5_000;

  /** How long closing waits for Global to end the subscription before cancelling it. */
  static final Duration CLOSE_WAIT = Duration.ofMillis(500);

  private final GlobalCalls calls;
  private final ValueCache cache;
  private final Lease lease;
  private final ScheduledExecutorService scheduler;
  private final Executor work;
  private final Runnable resetConnectBackoff;
  private final String name;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Clock wallClock;

  private final Object state = new Object();

  @GuardedBy("state")
  private String localId;

  private String incarnation = "";
  private Stream current;
  private ScheduledFuture<?> renewTask;
  private long renewIntervalMillis = 500;
  private long backoffMillis;
  private volatile ScheduledFuture<?> retry; // the reconnection waiting out its backoff, if any
  private boolean everConnected;
  private boolean closed;

  private volatile long appliedSeq;
  private volatile boolean attached;
  private final AtomicLong nonces = new AtomicLong();
  private final Map<Long, Long> renewalsSentAt = new ConcurrentHashMap<>();

  private final LongAdder invalidationsApplied = new LongAdder();
  private final LongAdder gaps = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder replays = new LongAdder();
  private final LongAdder revalidations = new LongAdder();
  private final LongAdder reconnects = new LongAdder();
  private final LatencyHistogram lag = new LatencyHistogram();

  Subscription(
      GlobalCalls calls,
      ValueCache cache,
      Lease lease,
      ScheduledExecutorService scheduler,
      Executor work,
      Runnable resetConnectBackoff,
      String name,
      Duration initialBackoff,
      Duration maxBackoff,
      Clock wallClock) {
    this.calls = calls;
    this.cache = cache;
    this.lease = lease;
    this.scheduler = scheduler;
    this.work = work;
    this.resetConnectBackoff = resetConnectBackoff;
    this.name = name;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
    this.backoffMillis = initialBackoff.toMillis();
    this.wallClock = wallClock;
  }

  /** Starts connecting in the background. */
  void start() {
    scheduler.execute(this::connect);
  }

  /** Whether a subscription is open and in sync (Welcome seen, not revalidating). */
  boolean connected() {
    Stream s;
    synchronized (state) {
      s = current;
    }
    return s != null && s.welcomed && !s.revalidating;
  }

  /** Whether fills may be cached now: a subscription is open, so later deletes will reach us. */
  boolean attached() {
    return attached;
  }

  /** Whether Global accepted this Local as a member (its Join succeeded). */
  boolean joined() {
    synchronized (state) {
      return localId != null;
    }
  }

  long appliedSeq() {
    return appliedSeq;
  }

  long invalidationsApplied() {
    return invalidationsApplied.sum();
  }

  long gaps() {
    return gaps.sum();
  }

  /** Invalidations received again after they were applied (ignored; a cluster may resend one). */
  long duplicates() {
    return duplicates.sum();
  }

  long replays() {
    return replays.sum();
  }

  long revalidations() {
    return revalidations.sum();
  }

  long reconnects() {
    return reconnects.sum();
  }

  LatencyHistogram lag() {
    return lag;
  }

  private void connect() {
    String id;
    synchronized (state) {
      if (closed || current != null) {
        return;
      }
      id = localId;
    }
    resetConnectBackoff.run();
    try {
      if (id == null) {
        JoinResponse joined = calls.join(name);
        synchronized (state) {
          localId = joined.getLocalId();
          renewIntervalMillis = Math.max(10, joined.getRenewIntervalMillis());
          id = localId;
        }
        log.debug("joined Global {} as {}", calls.target(), id);
      }
    } catch (DstoreException e) {
      log.debug("cannot join Global at {}: {}", calls.target(), e.getMessage());
      retryLater();
      return;
    }
    Stream stream = new Stream();
    synchronized (state) {
      if (closed) {
        return;
      }
      current = stream;
    }
    // Events are handled on the transport thread: applying an invalidation and acknowledging it
    // takes microseconds, and a thread switch here would add to every strict delete's latency.
    // The one slow step, revalidation after a Resync, goes to the work executor.
    calls.asyncStub().withExecutor(Runnable::run).subscribe(stream);
    stream.send(
        SubscribeRequest.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setLocalId(id)
                    .setIncarnation(incarnationNow())
                    .setLastSeq(appliedSeq))
            .build());
    renew(stream);
  }

  private String incarnationNow() {
    synchronized (state) {
      return incarnation;
    }
  }

  private void retryLater() {
    long delay;
    synchronized (state) {
      if (closed) {
        return;
      }
      delay = backoffMillis;
      backoffMillis = Math.min(maxBackoff.toMillis(), backoffMillis * 2);
    }
    long jittered = (long) (delay * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
    ScheduledFuture<?> next =
        scheduler.schedule(this::connect, Math.max(1, jittered), TimeUnit.MILLISECONDS);
    synchronized (state) {
      retry = next;
    }
  }

  /**
   * Reconnects now if a reconnection is waiting out its backoff, and starts the backoff over: a
   * caller found Global unreachable and is trying to reach it, so the subscription should not lag
   * behind by a backoff. Does nothing while connected, connecting or closed. The reconnection still
   * runs on the scheduler, and only one runs at a time: the one waiting is cancelled, not doubled.
   */
  void connectNow() {
    ScheduledFuture<?> waiting = retry;
    if (waiting == null || waiting.isDone()) {
      return; // the common case, connected: no lock
    }
    synchronized (state) {
      if (closed || current != null || retry == null || !retry.cancel(false)) {
        return;
      }
      retry = null;
      backoffMillis = initialBackoff.toMillis();
    }
    scheduler.execute(this::connect);
  }

  private void renew(Stream stream) {
    long nonce = nonces.incrementAndGet();
    renewalsSentAt.put(nonce, lease.now());
    stream.send(SubscribeRequest.newBuilder().setRenew(Renew.newBuilder().setNonce(nonce)).build());
  }

  private void renewCurrent() {
    Stream s;
    synchronized (state) {
      s = current;
    }
    if (s != null && s.welcomed) {
      renew(s);
    }
    // Renewals unanswered for long belong to dead streams.
    long tooOld = lease.now() - TimeUnit.MINUTES.toNanos(1);
    renewalsSentAt.values().removeIf(sentAt -> sentAt - tooOld < 0);
  }

  private void onWelcome(Stream s, Welcome welcome) {
    boolean reconnect;
    synchronized (state) {
      incarnation = welcome.getIncarnation();
      renewIntervalMillis = Math.max(10, welcome.getRenewIntervalMillis());
      backoffMillis = initialBackoff.toMillis();
      reconnect = everConnected;
      everConnected = true;
      if (renewTask == null) {
        renewTask =
            scheduler.scheduleWithFixedDelay(
                this::renewCurrent,
                renewIntervalMillis,
                renewIntervalMillis,
                TimeUnit.MILLISECONDS);
      }
    }
    if (reconnect) {
      reconnects.increment();
    }
    if (welcome.getSeq() > welcome.getReplayFrom()) {
      replays.increment();
    }
    appliedSeq = welcome.getReplayFrom();
    s.welcomed = true;
    attached = true;
    log.debug(
        "subscribed to Global {}: seq {}, replaying {}",
        calls.target(),
        welcome.getSeq(),
        welcome.getSeq() - welcome.getReplayFrom());
  }

  /**
   * Applies {@code inv} if it is the next event: with {@code previous_seq} set (a cluster, whose
   * seqs skip), when {@code previous_seq <= appliedSeq < seq}; without it (a single Global, whose
   * seqs are consecutive), when {@code seq == appliedSeq + 1}. A {@code previous_seq} beyond what
   * was applied is a gap (the subscription restarts and the gap is replayed); a seq already applied
   * is a duplicate, ignored but acknowledged.
   */
  private void onInvalidation(Stream s, Invalidation inv) {
    long seq = inv.getSeq();
    long previous = inv.getPreviousSeq();
    if (previous != 0) {
      if (previous > appliedSeq) {
        gap(s, "invalidation " + seq + " follows " + previous + ", applied " + appliedSeq);
        return;
      }
      if (seq <= appliedSeq) {
        duplicates.increment();
        if (!s.revalidating) {
          s.send(SubscribeRequest.newBuilder().setAck(Ack.newBuilder().setSeq(appliedSeq)).build());
        }
        return;
      }
    } else if (seq != appliedSeq + 1) {
      gap(s, "invalidation " + seq + " after " + appliedSeq);
      return;
    }
    cache.invalidate(Key.of(inv.getKey()), inv.getGeneration());
    appliedSeq = inv.getSeq();
    invalidationsApplied.increment();
    Instant now = wallClock.instant();
    long nowNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    lag.record((nowNanos - inv.getDeletedAtUnixNanos()) / 1_000);
    if (!s.revalidating) {
      s.send(SubscribeRequest.newBuilder().setAck(Ack.newBuilder().setSeq(inv.getSeq())).build());
    }
  }

  private void onHeartbeat(Stream s, Heartbeat hb) {
    Long sentAt = renewalsSentAt.remove(hb.getNonce());
    if (hb.getSeq() > appliedSeq) {
      gap(s, "heartbeat at seq " + hb.getSeq() + " after " + appliedSeq);
      return;
    }
    if (sentAt != null && !s.revalidating && s.welcomed) {
      lease.extend(sentAt, hb.getLeaseMillis());
    }
  }

  private void onResync(Stream s, long seq) {
    s.revalidating = true;
    // Invalidations were missed and will not be replayed, so they detached no fetch: nothing in
    // flight now may be cached or shared.
    cache.refuseFillsInFlight();
    appliedSeq = seq;
    work.execute(() -> revalidate(s));
  }

  /** Checks every cached entry with Global; drops the ones deleted or re-created. */
  private void revalidate(Stream s) {
    List<KeyGeneration> entries = cache.snapshot();
    int dropped = 0;
    try {
      for (int from = 0; from < entries.size(); from += REVALIDATE_BATCH) {
        List<KeyGeneration> batch =
            entries.subList(from, Math.min(entries.size(), from + REVALIDATE_BATCH));
        RevalidateResponse answer = calls.revalidate(batch);
        for (int i = 0; i < batch.size(); i++) {
          if (!answer.getValid(i)) {
            cache.dropIfGeneration(Key.of(batch.get(i).getKey()), batch.get(i).getGeneration());
            dropped++;
          }
        }
      }
    } catch (DstoreException | IndexOutOfBoundsException e) {
      log.info("revalidation with Global failed, reconnecting: {}", e.getMessage());
      s.cancel("revalidation failed");
      return;
    }
    if (s.ended) {
      return;
    }
    revalidations.increment();
    s.revalidating = false;
    log.info(
        "revalidated {} cached entries with Global: kept {}, dropped {}",
        entries.size(),
        entries.size() - dropped,
        dropped);
    s.send(SubscribeRequest.newBuilder().setAck(Ack.newBuilder().setSeq(appliedSeq)).build());
    renew(s);
  }

  private void gap(Stream s, String what) {
    gaps.increment();
    log.warn("gap in invalidations from Global ({}); resubscribing to replay it", what);
    s.cancel("gap in sequence");
    onEnded(s, false);
  }

  private void onEnded(Stream s, boolean backoff) {
    synchronized (state) {
      if (current != s) {
        return;
      }
      current = null;
    }
    s.ended = true;
    attached = false;
    cache.refuseFillsInFlight();
    if (backoff) {
      retryLater();
    } else {
      scheduler.execute(this::connect);
    }
  }

  /**
   * Ends the subscription as a finished call (see {@link Stream#finish}), leaves Global (best
   * effort) and stops reconnecting. Idempotent.
   */
  @Override
  public void close() {
    Stream s;
    String id;
    synchronized (state) {
      if (closed) {
        return;
      }
      closed = true;
      s = current;
      current = null;
      id = localId;
      if (renewTask != null) {
        renewTask.cancel(false);
      }
    }
    attached = false;
    lease.revoke();
    if (s != null) {
      s.ended = true;
      s.finish();
    }
    if (id != null) {
      try {
        calls.leave(id, Duration.ofSeconds(1));
      } catch (DstoreException e) {
        log.debug("could not tell Global this Local left: {}", e.getMessage());
      }
    }
  }

  /** One subscription call. */
  private final class Stream implements ClientResponseObserver<SubscribeRequest, Event> {
    private final CompletableFuture<Void> done = new CompletableFuture<>(); // Global ended the call
    private ClientCallStreamObserver<SubscribeRequest> requests;
    volatile boolean welcomed;
    volatile boolean revalidating;
    volatile boolean ended;

    @Override
    public void beforeStart(ClientCallStreamObserver<SubscribeRequest> requestStream) {
      this.requests = requestStream;
    }

    synchronized void send(SubscribeRequest request) {
      if (!ended) {
        try {
          requests.onNext(request);
        } catch (RuntimeException e) {
          log.debug("subscription send failed: {}", e.toString());
        }
      }
    }

    synchronized void cancel(String why) {
      requests.cancel(why, null);
    }

    /**
     * Half-closes the call, so that Global ends it with OK, and waits up to {@link #CLOSE_WAIT} for
     * that; cancels it if Global does not end it in time.
     */
    void finish() {
      synchronized (this) {
        try {
          requests.onCompleted();
        } catch (RuntimeException e) {
          // The call broke or was cancelled already: it has ended.
        }
      }
      try {
        done.get(CLOSE_WAIT.toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        cancel("Local closed; Global did not end the subscription");
      } catch (InterruptedException e) {
        cancel("Local closed");
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void onNext(Event event) {
      if (ended) {
        return;
      }
      switch (event.getKindCase()) {
        case WELCOME -> onWelcome(this, event.getWelcome());
        case INVALIDATION -> onInvalidation(this, event.getInvalidation());
        case HEARTBEAT -> onHeartbeat(this, event.getHeartbeat());
        case RESYNC -> onResync(this, event.getResync().getSeq());
        default -> log.debug("ignoring unknown event {}", event.getKindCase());
      }
    }

    @Override
    public void onError(Throwable t) {
      done.complete(null);
      if (!ended) {
        log.info("lost the subscription to Global {}: {}", calls.target(), t.getMessage());
      }
      onEnded(this, true);
    }

    @Override
    public void onCompleted() {
      done.complete(null);
      onEnded(this, true);
    }
  }
}
