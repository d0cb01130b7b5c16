package io.dstore.server.internal;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/** Builds the parts of a Global server that {@code GlobalServer} configures. */
public final class ServerSetup {
  private ServerSetup() {}

  /** Idle-stream cut-off on {@code scheduler}, timed by {@code nanoClock} (monotonic, in ns). */
  public static IdleTimeout idleTimeout(
      ScheduledExecutorService scheduler, Duration timeout, LongSupplier nanoClock) {
    return new IdleTimeout(scheduler, timeout, nanoClock);
  }
}
