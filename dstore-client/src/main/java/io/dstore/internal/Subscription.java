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
 * instead of wiping its cache. A gap on a live stream restarts the subscription, which replays it:
 * with {@code previous_seq} set (a cluster, whose seqs are etcd revisions and skip), an
 * invalidation whose previous_seq is beyond the last applied seq; without it (a single Global,
 * consecutive seqs), any seq but the next one. An invalidation at or below the last applied seq is
 * a duplicate: ignored but acknowledged.
 *
 * <p><b>Several gateways.</b> The subscription follows {@link Gateways#current()}. A reconnection
 * attempt that fails (Join fails, or the stream ends before its Welcome, or no Welcome comes within
 * {@link #WELCOME_WAIT}) moves the Local to the next gateway, and the next attempt goes there at
 * once; only after every gateway failed in a row does it wait out the backoff. When calls move the
 * Local to another gateway, the subscription moves with them. The Hello sent to the new gateway
 * carries the same incarnation and last applied seq, so a gateway of the same store replays what
 * was missed. A Welcome from another gateway with another incarnation is another store: the lease
 * is revoked and fills in flight refused before anything else, and the Resync that follows
 * revalidates the cache.
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

  /** With several gateways, how long a new subscription may wait for its Welcome. */
  static final Duration WELCOME_WAIT = Duration.ofSeconds(5);

  /** Why a stream ended. */
  private enum Ending {
    /** Global ended it, or the transport broke. */
    BROKE,
    /** A gap in seqs: resubscribe at once to have it replayed. */
    GAP,
    /** The Local moved to another gateway. */
    MOVED
  }

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
  private Gateway incarnationFrom; // the gateway whose Welcome told the incarnation
  private int failedAttempts; // reconnection attempts failed in a row
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
    calls.gateways().onSwitch(this::gatewaySwitched);
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
    Gateway gateway = calls.gateways().current();
    resetConnectBackoff.run();
    try {
      if (id == null) {
        JoinResponse joined = calls.join(gateway, name);
        synchronized (state) {
          localId = joined.getLocalId();
          renewIntervalMillis = Math.max(10, joined.getRenewIntervalMillis());
          id = localId;
        }
        log.debug("joined Global {} as {}", gateway, id);
      }
    } catch (DstoreException e) {
      log.debug("cannot join Global at {}: {}", gateway, e.getMessage());
      attemptFailed(gateway);
      return;
    }
    Stream stream = new Stream(gateway);
    synchronized (state) {
      if (closed) {
        return;
      }
      current = stream;
    }
    // Events are handled on the transport thread: applying an invalidation and acknowledging it
    // takes microseconds, and a thread switch here would add to every strict delete's latency.
    // The one slow step, revalidation after a Resync, goes to the work executor.
    gateway.async().withExecutor(Runnable::run).subscribe(stream);
    stream.started();
    stream.send(
        SubscribeRequest.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setLocalId(id)
                    .setIncarnation(incarnationNow())
                    .setLastSeq(appliedSeq))
            .build());
    renew(stream);
    if (calls.gateways().several()) {
      scheduler.schedule(
          () -> {
            if (!stream.welcomed && !stream.ended) {
              log.info("no Welcome from Global {} in {}; trying another", gateway, WELCOME_WAIT);
              stream.cancel("no Welcome in time");
            }
          },
          WELCOME_WAIT.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  /**
   * A reconnection attempt to {@code gateway} failed: with several gateways, move to the next one
   * and try it at once, unless every gateway failed in a row (then wait out the backoff).
   */
  private void attemptFailed(Gateway gateway) {
    Gateways gateways = calls.gateways();
    boolean now;
    synchronized (state) {
      failedAttempts++;
      now = gateways.several() && failedAttempts % gateways.size() != 0;
    }
    gateways.failover(gateway);
    if (now) {
      synchronized (state) {
        if (closed) {
          return;
        }
      }
      scheduler.execute(this::connect);
    } else {
      retryLater();
    }
  }

  /** Calls moved the Local to {@code now}: the subscription follows. */
  private void gatewaySwitched(Gateway now) {
    Stream s;
    synchronized (state) {
      s = current;
    }
    if (s != null && s.gateway != now) {
      log.info("moving the subscription from Global {} to {}", s.gateway, now);
      s.cancel("moving to another gateway");
      onEnded(s, Ending.MOVED);
    } else {
      connectNow();
    }
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
    boolean otherStore;
    s.gateway.incarnation(welcome.getIncarnation());
    synchronized (state) {
      otherStore =
          incarnationFrom != null
              && incarnationFrom != s.gateway
              && !incarnation.isEmpty()
              && !incarnation.equals(welcome.getIncarnation());
      if (otherStore) {
        // Another store: its deletes will not wait for this Local's lease, and it will answer
        // Resync. Stop serving hits and caching fills now, before anything else.
        lease.revoke();
        cache.refuseFillsInFlight();
      }
      incarnation = welcome.getIncarnation();
      incarnationFrom = s.gateway;
      failedAttempts = 0;
      calls.gateways().storeIncarnation(incarnation);
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
    if (otherStore) {
      log.warn(
          "Global {} is another store (incarnation {}): revalidating the cache, no hits until then",
          s.gateway,
          welcome.getIncarnation());
    }
    if (welcome.getSeq() > welcome.getReplayFrom()) {
      replays.increment();
    }
    appliedSeq = welcome.getReplayFrom();
    s.welcomed = true;
    attached = true;
    log.debug(
        "subscribed to Global {}: seq {}, replaying {}",
        s.gateway,
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
        RevalidateResponse answer = calls.revalidate(s.gateway, batch);
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
    onEnded(s, Ending.GAP);
  }

  private void onEnded(Stream s, Ending why) {
    synchronized (state) {
      if (current != s) {
        return;
      }
      current = null;
    }
    s.ended = true;
    attached = false;
    cache.refuseFillsInFlight();
    if (why == Ending.BROKE && !s.welcomed) {
      attemptFailed(s.gateway); // the attempt failed: perhaps another gateway
    } else if (why == Ending.BROKE) {
      retryLater(); // the gateway was fine until now: try it again after the backoff
    } else {
      synchronized (state) {
        if (closed) {
          return;
        }
      }
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
    final Gateway gateway;
    private final CompletableFuture<Void> done = new CompletableFuture<>(); // Global ended the call
    private ClientCallStreamObserver<SubscribeRequest> requests;
    private String cancelAsked; // a cancel asked for before the call started
    volatile boolean welcomed;
    volatile boolean revalidating;
    volatile boolean ended;

    Stream(Gateway gateway) {
      this.gateway = gateway;
    }

    @Override
    public synchronized void beforeStart(ClientCallStreamObserver<SubscribeRequest> requestStream) {
      this.requests = requestStream;
    }

    /** After the call started: carries out a cancel asked for before it had. */
    synchronized void started() {
      if (cancelAsked != null) {
        requests.cancel(cancelAsked, null);
      }
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

    /** Cancels the call; before it started (another thread moving the Local), once it has. */
    synchronized void cancel(String why) {
      if (requests == null) {
        cancelAsked = why;
        return;
      }
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
        log.info("lost the subscription to Global {}: {}", gateway, t.getMessage());
      }
      onEnded(this, Ending.BROKE);
    }

    @Override
    public void onCompleted() {
      done.complete(null);
      onEnded(this, Ending.BROKE);
    }
  }
}
