package io.dstore.server.security;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition with a deadline: the tests' only way to wait. */
final class Await {
  private Await() {}

  static void until(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after 20 s waiting for " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }
}
