package io.dstore.internal;

import java.util.function.LongSupplier;

/**
 * The Local's lease: while it is valid, cache hits may be served. A renewal's lease counts from
 * when the Local <em>sent</em> the renewal, on its own monotonic clock (the one injected with
 * {@link io.dstore.DstoreOptions.Builder#nanoClock}), minus a safety margin for clock-rate drift;
 * Global counts the same lease from when it <em>received</em> the renewal, so the Local always
 * stops serving before Global stops waiting for it. Every grant and the revocation are reported to
 * a listener (which wakes {@link io.dstore.Dstore#awaitReady} callers). Thread-safe.
 */
final class Lease {
  private final LongSupplier nanoClock;
  private final Runnable changed;
  private volatile long expiryNanos;
  private volatile boolean held;

  /**
   * @param nanoClock monotonic nanoseconds
   * @param changed run after each grant and after the revocation, outside any lock of the lease
   */
  Lease(LongSupplier nanoClock, Runnable changed) {
    this.nanoClock = nanoClock;
    this.changed = changed;
  }

  /** Whether hits may be served now. */
  boolean valid() {
    return held && nanoClock.getAsLong() - expiryNanos < 0;
  }

  /** Grants the lease a renewal sent at {@code sentAtNanos} won; never shortens it. */
  void extend(long sentAtNanos, long leaseMillis) {
    long leaseNanos = leaseMillis * 1_000_000L;
    long margin = Math.max(1_000_000L, leaseNanos / 50); // 2%, at least 1 ms
    long expiry = sentAtNanos + leaseNanos - margin;
    synchronized (this) {
      if (!held || expiry - expiryNanos > 0) {
        expiryNanos = expiry;
        held = true;
      }
    }
    changed.run();
  }

  /** Gives the lease up at once (on close). */
  void revoke() {
    synchronized (this) {
      held = false;
    }
    changed.run();
  }

  long remainingMillis() {
    if (!held) {
      return 0;
    }
    return Math.max(0, (expiryNanos - nanoClock.getAsLong()) / 1_000_000L);
  }

  long now() {
    return nanoClock.getAsLong();
  }
}
