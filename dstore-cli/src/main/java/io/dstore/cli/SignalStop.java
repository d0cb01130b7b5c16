package io.dstore.cli;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Stops on SIGTERM or SIGINT. The signals are caught (rather than left to the JVM, which would end
 * with status 143 or 130) so that the command can close its server in order and exit 0; a shutdown
 * hook covers every other way the JVM may end.
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
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook runs anyway, and closing is idempotent
      }
    }
  }
}
