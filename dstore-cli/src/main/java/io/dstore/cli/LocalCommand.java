package io.dstore.cli;

import io.dstore.DstoreOptions;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code dstore local}: a Local with its cache, driven by the REPL; with {@code --listen}, also a
 * daemon serving other processes.
 */
@Command(
    name = "local",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Starts a Local (a coherent in-memory cache in front of Global) and its REPL; with"
          + " --listen, also a daemon that shares the cache with other processes.",
      "At a terminal: a banner, the 'db > ' prompt and line editing with history"
          + " (~/.dstore_history). With stdin from a pipe: no banner and no prompt, exactly one"
          + " result line per command on stdout (errors included), logs on stderr; blank lines"
          + " are ignored. Exits 0 at .exit or end of input.",
      "",
      "REPL commands (case-insensitive; VALUE is the rest of the line, spaces kept):",
      "  SET KEY VALUE    also PUT, INSERT, IN, I",
      "  GET KEY          also SELECT, OUTPUT, OUT, O",
      "  DEL KEY          also DELETE, REM, REMOVE, RM, D",
      "  .stats           cache and connection figures",
      "  .version .help .exit",
      "Answers:",
      "  SET  Database updated | Key occupied! | (Updated local) Key occupied!",
      "  GET  db: KEY -> VALUE | global: KEY -> VALUE     (Updating Local)",
      "       | Key-Value mapping doesn't exist",
      "  DEL  Global mapping removed! | Key-Value mapping doesn't exist",
      "  'Global unreachable: ...' when Global cannot be reached; the Local reconnects"
          + " by itself. 'Authentication failed: ...' when Global refuses the token.",
      "",
      "Daemon: with --listen HOST:PORT the Local also serves the client API over gRPC, so that"
          + " every process on the host shares its cache: one-shot commands reach it with"
          + " --global HOST:PORT, applications with Dstore.connect. It prints 'Dstore local"
          + " listening on HOST:PORT' on stdout once serving (and 'Metrics on"
          + " http://HOST:PORT/metrics' on stderr with --metrics-listen). When stdin and stdout are"
          + " a terminal the REPL runs as well, and the daemon stops with it. Otherwise (a"
          + " service: stdin a pipe, a file or /dev/null) stdin is not read: it serves until"
          + " SIGTERM or SIGINT, then stops gracefully and exits 0.",
      "Credentials: --tls-ca, --tls-cert, --tls-key and --token-file (or DSTORE_TOKEN) are"
          + " what this Local presents to Global. The daemon's own, for its callers, are"
          + " --listen-tls-cert, --listen-tls-key, --listen-tls-client-ca and"
          + " --listen-token-file.",
      "",
      "Options:"
    },
    sortOptions = false,
    exitCodeListHeading = ExitCodes.HEADING,
    exitCodeList = {
      ExitCodes.LIST_OK,
      "2:usage error, or a TLS or token file cannot be used, or --listen or --metrics-listen"
          + " cannot be listened on"
    })
final class LocalCommand implements Callable<Integer> {
  private final Env env;

  @Spec CommandSpec spec;

  @Mixin ClientOptions client;

  @Mixin DaemonOptions daemon;

  @Option(
      names = "--cache-size",
      paramLabel = "SIZE",
      defaultValue = "256MiB",
      converter = Sizes.Converter.class,
      description = "Bytes of values the cache may hold, e.g. 64m, 1g (default: ${DEFAULT-VALUE}).")
  long cacheSize;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description = "Name of this Local in Global's logs (default: HOSTNAME/PID).")
  String name;

  LocalCommand(Env env) {
    this.env = env;
  }

  @Override
  public Integer call() throws IOException {
    daemon.check();
    DstoreOptions.Builder options = DstoreOptions.builder();
    try {
      options.cacheSizeBytes(cacheSize);
      if (name != null) {
        options.name(name);
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    DstoreOptions built;
    try {
      built = client.apply(options, env).build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    return LocalRepl.run(env, client.global, built, daemon.enabled() ? daemon : null);
  }
}
