package io.dstore.server.internal.cluster;

import io.etcd.jetcd.Lease;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease that request records ({@code r/<request id>}) are written under, so that etcd forgets
 * them by itself: a new lease of 10 minutes every 5 minutes, never kept alive, so each record lives
 * 5 to 10 minutes. Thread-safe.
 */
final class RecordLease {
  private static final Logger log = LoggerFactory.getLogger(RecordLease.class);
  static final long TTL_SECONDS = 600;
  private static final long RENEW_NANOS = TimeUnit.SECONDS.toNanos(TTL_SECONDS / 2);

  private final Lease leases;
  private long lease;
  private long grantedAt;

  RecordLease(Lease leases) {
    this.leases = leases;
  }

  /** The lease to write a record under now; 0 (kept for good) only if etcd refused a new one. */
  synchronized long current() {
    long now = System.nanoTime();
    if (lease != 0 && now - grantedAt < RENEW_NANOS) {
      return lease;
    }
    try {
      lease = leases.grant(TTL_SECONDS).get(5, TimeUnit.SECONDS).getID();
      grantedAt = now;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("could not take a lease for request records: {}", e.toString());
    }
    return lease;
  }
}
