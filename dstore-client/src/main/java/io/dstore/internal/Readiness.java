package io.dstore.internal;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * What {@link io.dstore.Dstore#awaitReady} waits on: a condition that the code changing the Local's
 * state signals (a lease granted, the Local closed, the channel's state changed). Waiters re-check
 * their predicate on every signal; no one polls. Thread-safe.
 */
final class Readiness {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();

  /** Wakes every waiter to check its predicate again. Call it after changing the state. */
  void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until {@code done} holds, at most {@code timeoutNanos} (0 checks once).
   *
   * @return whether {@code done} held before the time ran out
   */
  boolean await(BooleanSupplier done, long timeoutNanos) throws InterruptedException {
    long left = timeoutNanos;
    lock.lock();
    try {
      while (!done.getAsBoolean()) {
        if (left <= 0) {
          return false;
        }
        left = changed.awaitNanos(left);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }
}
