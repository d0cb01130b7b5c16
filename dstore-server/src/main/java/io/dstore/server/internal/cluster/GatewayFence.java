package io.dstore.server.internal.cluster;

import io.dstore.server.internal.InvalidationHub;

/**
 * When a gateway may grant Local leases, and for how long: the rule that keeps strict deletes safe
 * when a gateway is cut off from etcd.
 *
 * <h2>Design note</h2>
 *
 * <p>Other gateways wait for this one's acknowledgement of a delete only while its registration
 * (under its etcd lease) exists. Once etcd expires that lease they stop waiting, so by then no
 * Local of this gateway may still hold a lease. Hence:
 *
 * <ol>
 *   <li>A Local lease is granted only while this gateway's etcd lease is known to be valid, and it
 *       never reaches past that lease's expiry as this gateway computes it: the time it
 *       <em>sent</em> the last keep-alive that etcd answered, plus the TTL etcd gave. etcd counts
 *       the TTL from when it received that keep-alive, which is later, so etcd expires the lease
 *       after every Local lease this gateway granted has run out (on clocks that run at the same
 *       rate; the margin absorbs drift).
 *   <li>A Local lease is granted only while the watch is caught up: a write this gateway made at
 *       most {@code stallLimit} ago has come back through its watch. A gateway whose watch stalls
 *       could otherwise keep its Locals serving values whose deletes it has not seen.
 *   <li>A gateway whose watch is stalled stops keeping its etcd lease alive ({@link
 *       #mayKeepAlive}), so a stuck gateway delays deletes by at most its etcd lease TTL plus one
 *       Local lease, like a dead one.
 * </ol>
 *
 * <p>Thread-safe; times are nanoseconds on the gateway's monotonic clock, given by the caller.
 */
final class GatewayFence implements InvalidationHub.LeaseFence {
  private final long stallLimitNanos;
  private final long marginNanos;

  private long etcdLeaseExpiry;
  private boolean holdsLease;
  private long caughtUpAt;
  private boolean everCaughtUp;
  private long latestGrantEnd;
  private boolean everGranted;

  /**
   * @param stallLimitNanos how old the watch's last confirmed catch-up may be for leases to be
   *     granted (and the etcd lease kept alive)
   * @param marginNanos kept between a Local lease's end and the etcd lease's expiry
   */
  GatewayFence(long stallLimitNanos, long marginNanos) {
    this.stallLimitNanos = stallLimitNanos;
    this.marginNanos = marginNanos;
  }

  /** etcd answered a keep-alive (or the grant) sent at {@code sentAtNanos}: the lease runs on. */
  synchronized void leaseRenewed(long sentAtNanos, long ttlNanos) {
    long expiry = sentAtNanos + ttlNanos;
    if (!holdsLease || expiry - etcdLeaseExpiry > 0) {
      etcdLeaseExpiry = expiry;
    }
    holdsLease = true;
  }

  /** The etcd lease is gone (expired or revoked): no more Local leases until a new one. */
  synchronized void leaseLost() {
    holdsLease = false;
  }

  /** A write sent at {@code sentAtNanos} has come back through the watch. */
  synchronized void caughtUp(long sentAtNanos) {
    if (!everCaughtUp || sentAtNanos - caughtUpAt > 0) {
      caughtUpAt = sentAtNanos;
    }
    everCaughtUp = true;
  }

  /** Whether the watch has confirmed a catch-up within the stall limit. */
  synchronized boolean watchCurrent(long nowNanos) {
    return everCaughtUp && nowNanos - caughtUpAt <= stallLimitNanos;
  }

  /** Nanoseconds since the last confirmed catch-up (as long as the gateway has run, if none). */
  synchronized long sinceCaughtUpNanos(long nowNanos) {
    return everCaughtUp ? nowNanos - caughtUpAt : Long.MAX_VALUE;
  }

  /** Whether to keep the etcd lease alive now: not while the watch is stalled. */
  synchronized boolean mayKeepAlive(long nowNanos) {
    return holdsLease && (!everCaughtUp || watchCurrent(nowNanos));
  }

  /** Whether Local leases may be granted now. */
  synchronized boolean granting(long nowNanos) {
    return holdsLease && watchCurrent(nowNanos) && etcdLeaseExpiry - marginNanos - nowNanos > 0;
  }

  /** The etcd lease's expiry as this gateway computes it (meaningful while it holds one). */
  synchronized long etcdLeaseExpiry() {
    return etcdLeaseExpiry;
  }

  @Override
  public synchronized long grantableNanos(long nowNanos, long wantedNanos) {
    if (!granting(nowNanos)) {
      return 0;
    }
    long granted = Math.min(wantedNanos, etcdLeaseExpiry - marginNanos - nowNanos);
    if (!everGranted || nowNanos + granted - latestGrantEnd > 0) {
      latestGrantEnd = nowNanos + granted;
    }
    everGranted = true;
    return granted;
  }

  /**
   * When the last Local lease granted so far ends (counted from the grant; the Local counts from
   * its earlier send, so it ends sooner); {@code nowNanos} if none was granted.
   */
  synchronized long latestGrantEnd(long nowNanos) {
    return everGranted && latestGrantEnd - nowNanos > 0 ? latestGrantEnd : nowNanos;
  }
}
