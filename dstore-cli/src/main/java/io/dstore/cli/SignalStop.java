package io.dstore.cli;

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
 */
final class SignalStop implements StopSignal {
  private static final Logger log = LoggerFactory.getLogger(SignalStop.class);

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
}
