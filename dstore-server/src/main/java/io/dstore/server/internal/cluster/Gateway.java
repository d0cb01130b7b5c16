package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import io.dstore.server.Coherence;
import io.dstore.server.internal.DeleteCoordinator;
import io.dstore.server.internal.InvalidationHub;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gateway's place in a cluster: its membership in etcd, its watch, and the acknowledgements it
 * gives the other gateways for deletes.
 *
 * <h2>Design note</h2>
 *
 * <p><b>Membership.</b> A gateway holds an etcd lease (TTL {@code gatewayLease}, kept alive every
 * third of it) and, under it, {@code g/<id>} (its address) and {@code a/<id>} (its acknowledged
 * revision). When it dies or is cut off, etcd expires the lease and both keys vanish: other
 * gateways stop waiting for it.
 *
 * <p><b>The watch.</b> One etcd watch on the whole prefix, from the revision after the snapshot
 * taken at start, re-created from the last applied revision when it fails. Events are applied in
 * revision order on one thread:
 *
 * <ul>
 *   <li>a new {@code d/<key>} mark (a strict delete, anywhere in the cluster) is published to this
 *       gateway's Locals with the mark's revision as its seq, and this gateway awaits them (each
 *       acknowledges or its lease runs out: {@link DeleteCoordinator#await});
 *   <li>in eventual mode, a removed {@code k/<key>} is published the same way, without awaiting;
 *   <li>{@code g/} and {@code a/} keep the view of live gateways and their acknowledgements that
 *       {@link ClusterDeletes} waits on.
 * </ul>
 *
 * <p><b>Acknowledgement.</b> {@code a/<id>} says: every invalidation up to this revision has been
 * confirmed by this gateway's Locals. It is the applied watch revision, held back below the oldest
 * mark still awaited. It is written when it changes and every {@code heartbeat} anyway; each such
 * write that comes back through the watch proves the watch is caught up as of when it was sent,
 * which is what the {@link GatewayFence} requires before granting Local leases.
 *
 * <p><b>Losing the etcd lease</b> (etcd says it is gone): no more Local leases, every subscription
 * is cut, and after one Local lease (when every lease this gateway granted has run out, as none
 * outlived the etcd lease) it registers again under a new lease.
 *
 * <p><b>Compaction.</b> If the watch must resume from a revision etcd has compacted, the events in
 * between are lost: the replay log restarts above the compaction, every subscription is cut (Locals
 * resync), and the acknowledgement is held back until every Local lease granted before has run out,
 * since those Locals may not have been told of deletes in the lost range.
 */
public final class Gateway implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private final Client etcd;
  private final EtcdLayout layout;
  private final String id = UUID.randomUUID().toString();
  private final String clusterId;
  private final long startRevision;

  /**
   * How far back before joining the watch starts, in revisions: the events in between are applied
   * again (ending in the state of the snapshot) so that the replay log holds the invalidations of
   * that stretch of etcd's history, and a Local moving here from another gateway is replayed what
   * it missed instead of revalidating. etcd's compaction may cut it shorter.
   */
  static final long HISTORY_REVISIONS = 10_000;

  private final long watchStart;
  private final Duration etcdLeaseTtl;
  private final long localLeaseNanos;
  private final Duration heartbeat;
  private final LongSupplier nanoClock;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService applier;
  private final GatewayFence fence;

  private final AtomicLong leaseId = new AtomicLong();
  private volatile String address = "";

  // The view, written on the applier thread.
  private final Map<String, String> gateways = new ConcurrentHashMap<>();
  private final Map<String, Long> acks = new ConcurrentHashMap<>();
  private final Map<ByteString, MarkSeen> marked = new ConcurrentHashMap<>();
  private final AtomicLong markEpoch = new AtomicLong();
  private volatile long appliedRevision;
  private final AtomicLong latestSeenRevision = new AtomicLong();

  private final Object ackLock = new Object();

  @GuardedBy("ackLock")
  private final TreeSet<Long> awaited = new TreeSet<>();

  @GuardedBy("ackLock")
  private long publishedAck;

  /** The revision of the latest mark applied: acknowledgements below it are what others await. */
  @GuardedBy("ackLock")
  private long latestMark;

  @GuardedBy("ackLock")
  private boolean ackInFlight;

  @GuardedBy("ackLock")
  private final Map<Long, Long> ackSentAtByRevision = new HashMap<>();

  @GuardedBy("ackLock")
  private long lastOwnAckEventRevision;

  private volatile InvalidationHub hub;
  private volatile DeleteCoordinator localWaits;
  private volatile Coherence coherence = Coherence.STRICT;
  private volatile ClusterDeletes deletes;
  private volatile Watch.Watcher watcher;
  private volatile boolean closed;

  private Gateway(
      Client etcd,
      EtcdLayout layout,
      String clusterId,
      long startRevision,
      Duration etcdLeaseTtl,
      Duration localLease,
      LongSupplier nanoClock,
      ScheduledExecutorService scheduler) {
    this.etcd = etcd;
    this.layout = layout;
    this.clusterId = clusterId;
    this.startRevision = startRevision;
    this.watchStart = Math.max(0, startRevision - HISTORY_REVISIONS);
    this.etcdLeaseTtl = etcdLeaseTtl;
    this.localLeaseNanos = localLease.toNanos();
    this.heartbeat = Duration.ofMillis(Math.max(100, localLease.toMillis() / 4));
    this.nanoClock = nanoClock;
    this.scheduler = scheduler;
    this.applier =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "dstore-gateway-watch");
              t.setDaemon(true);
              return t;
            });
    // The watch must have confirmed a catch-up within two Local leases (at least 2 s) to grant.
    long stall = Math.max(2 * localLeaseNanos, TimeUnit.SECONDS.toNanos(2));
    this.fence = new GatewayFence(stall, TimeUnit.MILLISECONDS.toNanos(200));
    this.appliedRevision = watchStart;
    this.publishedAck = startRevision;
  }

  /**
   * Joins the cluster at {@code etcd}: reads (or creates) the cluster id, takes an etcd lease,
   * snapshots the live gateways, their acknowledgements and the marks under way, and registers this
   * gateway as having acknowledged everything up to the snapshot (it has no Locals yet). Call
   * {@link #run} next.
   *
   * @throws IOException if etcd cannot be reached within {@code timeout}
   */
  public static Gateway join(
      Client etcd,
      EtcdLayout layout,
      Duration etcdLeaseTtl,
      Duration localLease,
      LongSupplier nanoClock,
      ScheduledExecutorService scheduler,
      Duration timeout)
      throws IOException {
    if (etcdLeaseTtl.compareTo(Duration.ofSeconds(2)) < 0) {
      throw new IllegalArgumentException("the gateway's etcd lease must be at least 2 s");
    }
    if (etcdLeaseTtl.compareTo(localLease.multipliedBy(2)) < 0) {
      throw new IllegalArgumentException(
          "the gateway's etcd lease ("
              + etcdLeaseTtl.toMillis()
              + " ms) must be at least twice the Local lease ("
              + localLease.toMillis()
              + " ms)");
    }
    String clusterId = clusterId(etcd, layout, timeout);
    TxnResponse snapshot =
        call(
            etcd.getKVClient()
                .txn()
                .Then(
                    Op.get(layout.gatewayPrefix(), PREFIX),
                    Op.get(layout.ackedPrefix(), PREFIX),
                    Op.get(layout.markPrefix(), PREFIX))
                .commit(),
            "snapshot the cluster",
            timeout);
    long rev = snapshot.getHeader().getRevision();
    Gateway g =
        new Gateway(etcd, layout, clusterId, rev, etcdLeaseTtl, localLease, nanoClock, scheduler);
    for (KeyValue kv : snapshot.getGetResponses().get(0).getKvs()) {
      g.gateways.put(layout.gatewayIdOf(kv.getKey()), kv.getValue().toString(UTF_8));
    }
    for (KeyValue kv : snapshot.getGetResponses().get(1).getKvs()) {
      g.acks.put(layout.gatewayIdOf(kv.getKey()), parseLong(kv.getValue()));
    }
    for (KeyValue kv : snapshot.getGetResponses().get(2).getKvs()) {
      g.marked.put(
          ByteString.copyFrom(layout.userKeyOf(kv.getKey())),
          new MarkSeen(kv.getModRevision(), markOwner(kv)));
    }
    g.register(timeout);
    log.info(
        "gateway {} joined cluster {} at revision {}: {} other gateway(s), {} delete(s) under way",
        g.id,
        clusterId,
        rev,
        g.gateways.size(),
        g.marked.size());
    return g;
  }

  /**
   * Starts the watch and the timers: from now on, invalidations reach {@code hub}'s Locals and are
   * awaited through {@code localWaits}; {@code deletes} is told whenever the view moves.
   */
  public void run(
      InvalidationHub hub,
      DeleteCoordinator localWaits,
      ClusterDeletes deletes,
      Coherence coherence) {
    this.hub = hub;
    this.localWaits = localWaits;
    this.deletes = deletes;
    this.coherence = coherence;
    watchFrom(appliedRevision + 1);
    long keepAliveNanos = Math.max(etcdLeaseTtl.toNanos() / 3, TimeUnit.MILLISECONDS.toNanos(500));
    scheduler.scheduleWithFixedDelay(
        guarded("keep-alive", this::keepAlive),
        keepAliveNanos,
        keepAliveNanos,
        TimeUnit.NANOSECONDS);
    scheduler.scheduleWithFixedDelay(
        guarded("heartbeat", () -> writeAck(true)), 0, heartbeat.toNanos(), TimeUnit.NANOSECONDS);
    scheduler.scheduleWithFixedDelay(
        guarded("sweep", () -> onApplier(deletes::sweepOrphanMarks)), 5, 5, TimeUnit.SECONDS);
  }

  /** A periodic task that survives its own failures (a thrown exception would end its schedule). */
  private Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        if (!closed) {
          log.warn("gateway {}: {} failed: {}", id, what, e.toString());
        }
      }
    };
  }

  /** Records the address Locals reach this gateway at (in {@code g/<id>}). */
  public void announce(String address) {
    this.address = address;
    long lease = leaseId.get();
    etcd.getKVClient()
        .put(
            layout.gateway(id),
            ByteSequence.from(address, UTF_8),
            PutOption.builder().withLeaseId(lease).build());
  }

  /** The cluster's id: every gateway's incarnation. */
  public String clusterId() {
    return clusterId;
  }

  /**
   * The revision this gateway's watch starts after: its replay log's floor, some history before the
   * revision it joined at.
   */
  public long replayFloor() {
    return watchStart;
  }

  public String id() {
    return id;
  }

  public GatewayFence fence() {
    return fence;
  }

  /** This gateway's etcd lease now (marks of its deletes live under it). */
  long leaseId() {
    return leaseId.get();
  }

  /** The revision up to which the watch has applied every event. */
  long appliedRevision() {
    return appliedRevision;
  }

  /** Live gateways (id → address), as the watch has seen them. */
  Map<String, String> gateways() {
    return gateways;
  }

  /** The acknowledged revision of {@code gatewayId}, or -1 if unknown. */
  long ackOf(String gatewayId) {
    return acks.getOrDefault(gatewayId, -1L);
  }

  /** The revision of the mark on {@code key} as the watch has seen it, or null. */
  Long markOf(ByteString key) {
    MarkSeen m = marked.get(key);
    return m == null ? null : m.revision();
  }

  /** Every mark the watch has seen and not yet seen go. */
  Map<ByteString, MarkSeen> marks() {
    return marked;
  }

  /** A mark as the watch saw it: its revision and the gateway that made it. */
  record MarkSeen(long revision, String gatewayId) {}

  private static String markOwner(KeyValue kv) {
    try {
      return DeleteMark.decode(kv.getValue().getBytes()).gatewayId();
    } catch (IOException e) {
      return "";
    }
  }

  /** Bumped whenever a mark appears or disappears. */
  long markEpoch() {
    return markEpoch.get();
  }

  /** Whether this gateway may grant Local leases now (for metrics). */
  public boolean granting() {
    return fence.granting(nanoClock.getAsLong());
  }

  /** Revisions between etcd's latest as last seen and the watch (for metrics). */
  public long watchLag() {
    return Math.max(0, latestSeenRevision.get() - appliedRevision);
  }

  /** Seconds since a write of this gateway last came back through its watch (for metrics). */
  public double watchLagSeconds() {
    return fence.sinceCaughtUpNanos(nanoClock.getAsLong()) / 1e9;
  }

  /** The revision this gateway last acknowledged to the others (for metrics). */
  public long appliedAck() {
    synchronized (ackLock) {
      return publishedAck;
    }
  }

  private void register(Duration timeout) throws IOException {
    long sentAt = nanoClock.getAsLong();
    long lease =
        call(
                etcd.getLeaseClient().grant(etcdLeaseTtl.toSeconds()),
                "take the gateway's etcd lease",
                timeout)
            .getID();
    long ack;
    synchronized (ackLock) {
      ack = publishedAck;
    }
    call(
        etcd.getKVClient()
            .txn()
            .Then(
                Op.put(
                    layout.gateway(id),
                    ByteSequence.from(address, UTF_8),
                    PutOption.builder().withLeaseId(lease).build()),
                Op.put(
                    layout.acked(id),
                    ByteSequence.from(Long.toString(ack), UTF_8),
                    PutOption.builder().withLeaseId(lease).build()))
            .commit(),
        "register the gateway",
        timeout);
    leaseId.set(lease);
    fence.leaseRenewed(sentAt, etcdLeaseTtl.toNanos());
  }

  private void keepAlive() {
    if (closed) {
      return;
    }
    long now = nanoClock.getAsLong();
    if (!fence.mayKeepAlive(now)) {
      log.warn("gateway {}: its watch is stalled, so it lets its etcd lease run out", id);
      return;
    }
    long lease = leaseId.get();
    etcd.getLeaseClient()
        .keepAliveOnce(lease)
        .whenComplete(
            (r, e) -> {
              if (e == null && r.getTTL() > 0) {
                fence.leaseRenewed(now, TimeUnit.SECONDS.toNanos(r.getTTL()));
              } else if ((e == null || isLeaseNotFound(e)) && lease == leaseId.get()) {
                leaseLost(lease);
              } else if (e != null) {
                log.debug("gateway {}: keep-alive failed: {}", id, e.toString());
              }
            });
  }

  private void leaseLost(long lease) {
    if (!leaseId.compareAndSet(lease, 0) || closed) {
      return;
    }
    fence.leaseLost();
    log.warn(
        "gateway {}: etcd let its lease go; Locals are cut off and it registers again in {} ms",
        id,
        localLeaseNanos / 1_000_000);
    InvalidationHub h = hub;
    if (h != null) {
      h.dropSubscriptions();
    }
    scheduler.schedule(this::reRegister, localLeaseNanos, TimeUnit.NANOSECONDS);
  }

  private void reRegister() {
    if (closed) {
      return;
    }
    try {
      register(Duration.ofSeconds(5));
      if (!address.isEmpty()) {
        announce(address);
      }
      log.info("gateway {}: registered again", id);
    } catch (IOException | RuntimeException e) {
      log.warn("gateway {}: could not register again ({}); retrying", id, e.toString());
      scheduler.schedule(this::reRegister, 1, TimeUnit.SECONDS);
    }
  }

  // ---- the watch -------------------------------------------------------------------------------

  private void watchFrom(long revision) {
    if (closed) {
      return;
    }
    WatchOption option =
        WatchOption.builder().isPrefix(true).withRevision(revision).withPrevKV(true).build();
    watcher =
        etcd.getWatchClient()
            .watch(
                layout.all(),
                option,
                Watch.listener(
                    response -> onApplier(() -> apply(response)),
                    error -> onApplier(() -> watchFailed(error)),
                    () -> onApplier(() -> watchFailed(null))));
  }

  /** Runs {@code task} on the applier thread, unless this gateway has closed. */
  private void onApplier(Runnable task) {
    if (closed) {
      return;
    }
    try {
      applier.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing: the watch's last words are of no interest
    }
  }

  /**
   * Waits until the watch has applied every event up to the revision this gateway joined at (the
   * history before it included), so that its replay log is complete before any Local subscribes.
   *
   * @throws IOException if that takes longer than {@code timeout}
   */
  public void awaitJoined(Duration timeout) throws IOException {
    long deadline = nanoClock.getAsLong() + timeout.toNanos();
    try {
      synchronized (joinedLock) {
        while (appliedRevision < startRevision) {
          long left = deadline - nanoClock.getAsLong();
          if (left <= 0) {
            throw new IOException(
                "the gateway's etcd watch did not reach revision "
                    + startRevision
                    + " within "
                    + timeout.toSeconds()
                    + " s (at "
                    + appliedRevision
                    + ")");
          }
          joinedLock.wait(Math.max(1, Math.min(100, left / 1_000_000)));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while joining the cluster");
    }
  }

  private final Object joinedLock = new Object();

  private void watchFailed(Throwable error) {
    if (closed) {
      return;
    }
    Watch.Watcher w = watcher;
    if (w != null) {
      w.close();
    }
    Throwable cause = error;
    while (cause != null && !(cause instanceof CompactedException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof CompactedException c) {
      compacted(c.getCompactedRevision());
      return;
    }
    log.debug("gateway {}: watch ended ({}); resuming after {}", id, error, appliedRevision);
    scheduler.schedule(() -> watchFrom(appliedRevision + 1), 200, TimeUnit.MILLISECONDS);
  }

  /** Events in (appliedRevision, compactedRevision) are lost: see the class comment. */
  private void compacted(long compactedRevision) {
    if (appliedRevision < startRevision) {
      // Still reading the history before joining: no lease was granted yet (that needs a write
      // of ours back through the watch), so nobody missed anything; the log just starts later.
      log.info(
          "gateway {}: etcd's history starts at revision {}; replay log starts there",
          id,
          compactedRevision);
      hub.resetFloor(compactedRevision - 1);
      appliedRevision = Math.max(appliedRevision, compactedRevision - 1);
      watchFrom(compactedRevision);
      return;
    }
    log.warn(
        "gateway {}: etcd compacted revisions up to {}, past this gateway's {}: its Locals resync",
        id,
        compactedRevision,
        appliedRevision);
    long hold = compactedRevision;
    synchronized (ackLock) {
      awaited.add(hold);
    }
    scheduler.schedule(
        () -> {
          synchronized (ackLock) {
            awaited.remove(hold);
          }
          writeAck(false);
        },
        localLeaseNanos + TimeUnit.MILLISECONDS.toNanos(200),
        TimeUnit.NANOSECONDS);
    hub.resetFloor(compactedRevision - 1);
    appliedRevision = Math.max(appliedRevision, compactedRevision - 1);
    watchFrom(compactedRevision);
  }

  /** Applies one watch response, on the applier thread. */
  private void apply(WatchResponse response) {
    if (closed) {
      return;
    }
    // Only events move the applied revision: a response's header may be ahead of events still to
    // come (a watch re-created from an old revision says the current one first). This gateway's
    // own acknowledgement writes, every heartbeat, keep it moving when nothing else happens.
    latestSeenRevision.accumulateAndGet(response.getHeader().getRevision(), Math::max);
    long before = appliedRevision;
    for (WatchEvent event : response.getEvents()) {
      KeyValue kv = event.getKeyValue();
      long rev = kv.getModRevision();
      if (rev <= before) {
        continue; // seen before the watch was re-created (one revision never spans responses)
      }
      applyEvent(event, kv, rev);
      appliedRevision = rev;
    }
    writeAck(false);
    ClusterDeletes d = deletes;
    if (d != null) {
      d.viewAdvanced();
    }
    synchronized (joinedLock) {
      joinedLock.notifyAll();
    }
  }

  private void applyEvent(WatchEvent event, KeyValue kv, long rev) {
    boolean put = event.getEventType() == WatchEvent.EventType.PUT;
    switch (layout.spaceOf(kv.getKey())) {
      case 'd' -> {
        ByteString key = ByteString.copyFrom(layout.userKeyOf(kv.getKey()));
        markEpoch.incrementAndGet();
        if (put) {
          marked.put(key, new MarkSeen(rev, markOwner(kv)));
          publishMark(key, kv, rev);
        } else {
          marked.remove(key);
        }
      }
      case 'k' -> {
        if (!put && coherence == Coherence.EVENTUAL) {
          ByteString key = ByteString.copyFrom(layout.userKeyOf(kv.getKey()));
          KeyValue prev = event.getPrevKV();
          long generation = prev != null ? prev.getCreateRevision() : rev;
          hub.publishAt(rev, key, generation, nowUnixNanos(), false);
        }
      }
      case 'g' -> {
        String gw = layout.gatewayIdOf(kv.getKey());
        if (put) {
          gateways.put(gw, kv.getValue().toString(UTF_8));
        } else {
          gateways.remove(gw);
          log.info("gateway {} left the cluster", gw);
        }
      }
      case 'a' -> {
        String gw = layout.gatewayIdOf(kv.getKey());
        if (put) {
          acks.put(gw, parseLong(kv.getValue()));
          if (gw.equals(id)) {
            ownAckCameBack(rev);
          }
        } else {
          acks.remove(gw);
        }
      }
      default -> {}
    }
  }

  private void publishMark(ByteString key, KeyValue kv, long rev) {
    long generation;
    try {
      generation = DeleteMark.decode(kv.getValue().getBytes()).generation();
    } catch (IOException e) {
      log.error("gateway {}: unreadable delete mark at revision {}: {}", id, rev, e.getMessage());
      generation = Long.MAX_VALUE; // drop every cached copy of the key: safe
    }
    synchronized (ackLock) {
      awaited.add(rev); // held back until the Locals confirm; for good if the hub is closed
      latestMark = Math.max(latestMark, rev);
    }
    DeleteCoordinator.Published published;
    try {
      published = hub.publishAt(rev, key, generation, nowUnixNanos(), true);
    } catch (RuntimeException e) {
      return; // shutting down
    }
    localWaits
        .await(published)
        .whenComplete(
            (seq, error) -> {
              if (error != null) {
                return; // shutting down: never acknowledge what the Locals did not confirm
              }
              synchronized (ackLock) {
                awaited.remove(rev);
              }
              writeAck(false);
            });
  }

  // ---- acknowledgements ------------------------------------------------------------------------

  /** The revision every invalidation up to which this gateway's Locals have confirmed. */
  private long currentAck() {
    synchronized (ackLock) {
      long applied = appliedRevision;
      return awaited.isEmpty() ? applied : Math.min(applied, awaited.first() - 1);
    }
  }

  /**
   * Writes {@code a/<id>} if it moved past a mark others may await, or anyway with {@code
   * heartbeat}. One write at a time; a change during a write is written after it. (Every write is
   * itself a revision the watch applies, so writing whenever the acknowledgement moved would never
   * stop.)
   */
  private void writeAck(boolean heartbeat) {
    long lease = leaseId.get();
    if (closed || lease == 0) {
      return;
    }
    long ack = currentAck();
    long sentAt = nanoClock.getAsLong();
    synchronized (ackLock) {
      if (ackInFlight || (!heartbeat && (ack <= publishedAck || latestMark <= publishedAck))) {
        return;
      }
      ackInFlight = true;
      publishedAck = Math.max(publishedAck, ack);
    }
    etcd.getKVClient()
        .put(
            layout.acked(id),
            ByteSequence.from(Long.toString(ack), UTF_8),
            PutOption.builder().withLeaseId(lease).build())
        .whenComplete(
            (r, e) -> {
              boolean again;
              synchronized (ackLock) {
                ackInFlight = false;
                if (e == null) {
                  long w = r.getHeader().getRevision();
                  latestSeenRevision.accumulateAndGet(w, Math::max);
                  if (w <= lastOwnAckEventRevision) {
                    fence.caughtUp(sentAt);
                  } else {
                    ackSentAtByRevision.put(w, sentAt);
                  }
                }
                again = e == null && currentAck() > publishedAck && latestMark > publishedAck;
              }
              if (e != null && isLeaseNotFound(e)) {
                leaseLost(lease);
              } else if (again) {
                writeAck(false);
              }
            });
  }

  private void ownAckCameBack(long rev) {
    synchronized (ackLock) {
      lastOwnAckEventRevision = Math.max(lastOwnAckEventRevision, rev);
      Long sentAt = ackSentAtByRevision.remove(rev);
      if (sentAt != null) {
        fence.caughtUp(sentAt);
      }
      ackSentAtByRevision.keySet().removeIf(w -> w < rev);
    }
  }

  /**
   * Leaves the cluster: grants no more Local leases, waits until every lease it granted has run out
   * (at most one Local lease; the subscriptions were cut already), then revokes its etcd lease, so
   * the other gateways stop waiting for it at once instead of after its TTL. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    fence.leaseLost();
    long end = fence.latestGrantEnd(nanoClock.getAsLong());
    try {
      for (long left = end - nanoClock.getAsLong(); left > 0; left = end - nanoClock.getAsLong()) {
        TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // then the others wait out our TTL instead
      closed = true;
      applier.shutdownNow();
      return;
    }
    closed = true;
    Watch.Watcher w = watcher;
    if (w != null) {
      w.close();
    }
    applier.shutdownNow();
    long lease = leaseId.getAndSet(0);
    if (lease != 0) {
      try {
        // Leaving at once spares the others a wait of one etcd lease for this gateway.
        etcd.getLeaseClient().revoke(lease).get(2, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        log.debug("gateway {}: could not revoke its lease: {}", id, e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static String clusterId(Client etcd, EtcdLayout layout, Duration timeout)
      throws IOException {
    ByteSequence fresh = ByteSequence.from(UUID.randomUUID().toString(), UTF_8);
    TxnResponse r =
        call(
            etcd.getKVClient()
                .txn()
                .If(new Cmp(layout.clusterId(), Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(layout.clusterId(), fresh, PutOption.DEFAULT))
                .Else(Op.get(layout.clusterId(), GetOption.DEFAULT))
                .commit(),
            "read the cluster id",
            timeout);
    if (r.isSucceeded()) {
      return "cluster-" + fresh.toString(UTF_8);
    }
    return "cluster-" + r.getGetResponses().get(0).getKvs().get(0).getValue().toString(UTF_8);
  }

  /** Reads every key under the given one. */
  private static final GetOption PREFIX = GetOption.builder().isPrefix(true).build();

  static long parseLong(ByteSequence value) {
    try {
      return Long.parseLong(value.toString(UTF_8));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static boolean isLeaseNotFound(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("requested lease not found")) {
        return true;
      }
    }
    return false;
  }

  static long nowUnixNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** Waits for an etcd call; failures become IOExceptions that say what was being done. */
  static <T> T call(java.util.concurrent.CompletableFuture<T> future, String what, Duration timeout)
      throws IOException {
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while trying to " + what, e);
    } catch (ExecutionException e) {
      throw new IOException("etcd failed to " + what + ": " + e.getCause().getMessage(), e);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new IOException("etcd did not answer within " + timeout.toMillis() + " ms to " + what);
    }
  }
}
