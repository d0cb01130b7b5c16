package io.dstore.internal;

import com.github.benmanes.caffeine.cache.Ticker;

/**
 * The Local's lease: while it is valid, cache hits may be served. A renewal's lease counts from
 * when the Local <em>sent</em> the renewal, on its own monotonic clock, minus a safety margin for
 * clock-rate drift; Global counts the same lease from when it <em>received</em> the renewal, so the
 * Local always stops serving before Global stops waiting for it. Thread-safe.
 */
final class Lease {
  private final Ticker ticker;
  private volatile long expiryNanos;
  private volatile boolean held;

  Lease(Ticker ticker) {
    this.ticker = ticker;
  }

  /** Whether hits may be served now. */
  boolean valid() {
    return held && ticker.read() - expiryNanos < 0;
  }

  /** Grants the lease a renewal sent at {@code sentAtNanos} won; never shortens it. */
  synchronized void extend(long sentAtNanos, long leaseMillis) {
    long leaseNanos = leaseMillis * 1_000_000L;
    long margin = Math.max(1_000_000L, leaseNanos / 50); // 2%, at least 1 ms
    long expiry = sentAtNanos + leaseNanos - margin;
    if (!held || expiry - expiryNanos > 0) {
      expiryNanos = expiry;
      held = true;
    }
  }

  /** Gives the lease up at once (on close). */
  synchronized void revoke() {
    held = false;
  }

  long remainingMillis() {
    if (!held) {
      return 0;
    }
    return Math.max(0, (expiryNanos - ticker.read()) / 1_000_000L);
  }

  long now() {
    return ticker.read();
  }
}
