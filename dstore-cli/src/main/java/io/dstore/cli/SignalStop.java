package io.dstore.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Stops on SIGTERM or SIGINT. The signals are caught (rather than left to the JVM, which would end
 * with status 143 or 130) so that the command can close its server in order and exit 0; a shutdown
 * hook covers every other way the JVM may end. Once a stop was requested the JVM's own handling is
 * restored, so a second signal ends the process without waiting for the graceful close.
 *
 * <p>The graceful close is bounded: once a stop was requested, a watchdog halts the JVM with status
 * 143 (as SIGTERM's default would) if it is still running {@link #CLOSE_LIMIT} later. Global's own
 * close takes at most its 5 s grace, 2 s for the cut calls and the storage's close; the limit is
 * there for a close that hangs (it never should). Halting loses no acknowledged write: the RocksDB
 * write-ahead log is written before each write is acknowledged, and replayed on the next open.
 */
final class SignalStop implements StopSignal {
  private static final Logger log = LoggerFactory.getLogger(SignalStop.class);

  /** How long after a stop was requested the process may take to exit. */
  static final Duration CLOSE_LIMIT = Duration.ofSeconds(15);

  /** The status the watchdog halts with: 128 + SIGTERM, what the JVM's default handling exits. */
  static final int HALT_STATUS = 143;

  @Override
  public void await(Runnable onAbruptExit) throws InterruptedException {
    CountDownLatch stop = new CountDownLatch(1);
    Thread hook = new Thread(onAbruptExit, "dstore-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(
            new Signal(name),
            s -> {
              log.info("SIG{} received, stopping", s.getName());
              stop.countDown();
            });
      } catch (IllegalArgumentException e) {
        // The JVM keeps this signal (e.g. -Xrs): the shutdown hook still closes the server.
        log.debug("cannot handle SIG{}: {}", name, e.getMessage());
      }
    }
    try {
      stop.await();
      armWatchdog();
    } finally {
      // A second Ctrl-C while the server closes ends the process at once (the hook still runs).
      for (String name : new String[] {"TERM", "INT"}) {
        try {
          Signal.handle(new Signal(name), SignalHandler.SIG_DFL);
        } catch (IllegalArgumentException e) {
          // not ours to restore
        }
      }
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook runs anyway, and closing is idempotent
      }
    }
  }

  /** Halts the JVM if it has not exited {@link #CLOSE_LIMIT} from now. */
  private static void armWatchdog() {
    Thread.ofPlatform()
        .daemon()
        .name("dstore-stop-watchdog")
        .start(
            () -> {
              try {
                Thread.sleep(CLOSE_LIMIT); // a deadline, not synchronisation
              } catch (InterruptedException e) {
                return;
              }
              log.error(
                  "still not stopped {} s after the stop was requested; halting",
                  CLOSE_LIMIT.toSeconds());
              Runtime.getRuntime().halt(HALT_STATUS);
            });
  }
}
