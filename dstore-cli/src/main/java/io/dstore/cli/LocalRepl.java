package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.LocalStats;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Runs a Local and its REPL in this process: connects, waits briefly for the subscription so that
 * the first reads can already be cached, then reads commands until the end. Shared by {@code local}
 * and {@code demo}.
 */
final class LocalRepl {
  /** How long to wait for Global at start before going on (the Local keeps retrying anyway). */
  static final long CONNECT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(3);

  private LocalRepl() {}

  /** Runs the REPL against Global at {@code target}; returns the exit code (0). */
  static int run(Env env, HostPort target, DstoreOptions options) throws IOException {
    boolean interactive = env.interactive().getAsBoolean();
    try (Dstore dstore = Dstore.connect(target.toString(), options)) {
      if (!awaitConnected(dstore)) {
        env.err()
            .println(
                "Global at "
                    + target
                    + " is not reachable yet; commands will say so until it is"
                    + " (the Local keeps reconnecting in the background)");
      }
      if (interactive) {
        env.out()
            .println(
                Version.text()
                    + ": a Local connected to Global at "
                    + target
                    + ", caching up to "
                    + Sizes.format(options.cacheSizeBytes()));
        env.out().println("Type .help for the commands, .exit or Ctrl-D to leave.");
        env.out().flush();
      }
      try (ReplLines lines =
          interactive ? ReplLines.terminal(Repl.PROMPT) : ReplLines.plain(env.in())) {
        new Repl(new ReplSession(dstore, interactive), lines, env.out()).run();
      }
    }
    return ExitCodes.OK;
  }

  /**
   * Waits until the Local is subscribed and holds a lease, at most {@link #CONNECT_WAIT_NANOS}. The
   * API offers no completion signal for this, so it polls {@link Dstore#stats()}.
   */
  private static boolean awaitConnected(Dstore dstore) {
    long deadline = System.nanoTime() + CONNECT_WAIT_NANOS;
    while (true) {
      LocalStats stats = dstore.stats();
      if (stats.connected() && stats.leaseValid()) {
        return true;
      }
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }
}
