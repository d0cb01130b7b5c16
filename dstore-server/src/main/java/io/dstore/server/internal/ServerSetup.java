package io.dstore.server.internal;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/** Builds the parts of a Global server that {@code GlobalServer} configures. */
public final class ServerSetup {
  private ServerSetup() {}

  /** Idle-stream cut-off on {@code scheduler}, timed by the system's monotonic clock. */
  public static IdleTimeout idleTimeout(ScheduledExecutorService scheduler, Duration timeout) {
    return new IdleTimeout(scheduler, timeout, System::nanoTime);
  }
}
