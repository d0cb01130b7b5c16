package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.daemon.DstoreDaemon;
import io.dstore.wire.DstoreException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a Local in this process: connects, waits briefly for the subscription so that the first
 * reads can already be cached (saying on stderr why, when it does not come), then runs the REPL, or
 * serves as a daemon, or both. Shared by {@code local} and {@code demo}.
 *
 * <p>With a daemon: at a terminal the REPL runs beside it and the daemon stops with the REPL;
 * otherwise stdin is not read and the daemon serves until the stop signal (SIGTERM, SIGINT).
 */
final class LocalRepl {
  /** How long to wait for Global at start before going on (the Local keeps retrying anyway). */
  static final long CONNECT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(3);

  /** How long the diagnosis of a Local that did not connect may wait for Global's answer. */
  private static final long PROBE_WAIT_SECONDS = 2;

  /** The key a diagnosis asks Global about; whether it exists does not matter. */
  private static final byte[] PROBE_KEY =
      "dstore-cli:connection-probe".getBytes(StandardCharsets.UTF_8);

  private LocalRepl() {}

  /**
   * Runs a Local against Global at {@code target}; returns the exit code (0).
   *
   * @param daemon the daemon to serve, or null for the REPL alone
   * @throws Failure (exit 2) if the daemon cannot start
   */
  static int run(Env env, ClientOptions.Globals target, DstoreOptions options, DaemonOptions daemon)
      throws IOException {
    boolean interactive = env.interactive().getAsBoolean();
    try (Dstore dstore = ClientOptions.connect(target, options)) {
      if (!awaitConnected(dstore)) {
        env.err().println(diagnose(dstore, target, options));
      }
      if (daemon == null) {
        repl(env, dstore, target, options, interactive, null);
        return ExitCodes.OK;
      }
      try (DstoreDaemon server = daemon.start(dstore, env)) {
        if (interactive) {
          repl(env, dstore, target, options, true, server.address());
        } else {
          env.stopSignal()
              .await(
                  () -> {
                    server.close();
                    dstore.close();
                  });
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return ExitCodes.OK;
  }

  private static void repl(
      Env env,
      Dstore dstore,
      ClientOptions.Globals target,
      DstoreOptions options,
      boolean interactive,
      String serving)
      throws IOException {
    if (interactive) {
      env.out()
          .println(
              Version.text()
                  + ": a Local connected to Global at "
                  + target
                  + ", caching up to "
                  + Sizes.format(options.cacheSizeBytes())
                  + (serving != null ? ", serving other processes on " + serving : ""));
      env.out().println("Type .help for the commands, .exit or Ctrl-D to leave.");
      env.out().flush();
    }
    try (ReplLines lines =
        interactive ? ReplLines.terminal(Repl.PROMPT) : ReplLines.plain(env.in())) {
      new Repl(new ReplSession(dstore, interactive), lines, env.out()).run();
    }
  }

  /**
   * Waits until the Local is subscribed and holds a lease ({@link Dstore#awaitReady}), at most
   * {@link #CONNECT_WAIT_NANOS}.
   */
  private static boolean awaitConnected(Dstore dstore) {
    try {
      dstore.awaitReady(Duration.ofNanos(CONNECT_WAIT_NANOS));
      return true;
    } catch (DstoreException e) {
      return false; // not yet (or interrupted, which stays set): diagnose() says why
    }
  }

  /**
   * Why the Local did not connect, on one line for stderr: it asks Global about a key once, since
   * the API does not say why a subscription fails (refused token, unreachable, TLS).
   */
  private static String diagnose(
      Dstore dstore, ClientOptions.Globals target, DstoreOptions options) {
    String keepsTrying = "; the Local keeps reconnecting in the background";
    try {
      dstore.statAsync(PROBE_KEY).get(PROBE_WAIT_SECONDS, TimeUnit.SECONDS);
      return notSubscribed(target);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof DstoreException d) {
        return switch (d.code()) {
          case NOT_FOUND -> notSubscribed(target);
          case UNAUTHENTICATED, PERMISSION_DENIED ->
              ExitCodes.describe(d, null)
                  + " (Global at "
                  + target
                  + "): commands will fail until the token is right"
                  + " (--token-file or DSTORE_TOKEN)";
          default ->
              "Global at "
                  + target
                  + " is not reachable yet ("
                  + ExitCodes.describe(d, null)
                  + (options.tlsCa().isEmpty() && ClientOptions.looksLikeTlsRefusingPlaintext(d)
                      ? "; if Global serves TLS, give --tls-ca"
                      : "")
                  + "); commands will say so until it is"
                  + keepsTrying;
        };
      }
    } catch (TimeoutException e) {
      // no answer: unreachable below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "Global at "
        + target
        + " is not reachable yet; commands will say so until it is"
        + keepsTrying;
  }

  private static String notSubscribed(ClientOptions.Globals target) {
    return "Global at "
        + target
        + " answers, but this Local is not subscribed yet: reads go to Global, uncached, until"
        + " it is";
  }
}
