package io.dstore.cli;

import io.dstore.server.Coherence;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code dstore global}: runs the Global tier in the foreground until SIGTERM or SIGINT, then stops
 * it gracefully and exits 0.
 */
@Command(
    name = "global",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Runs Global: the tier that holds every key-value pair and keeps all Locals coherent.",
      "Prints 'Dstore server listening on HOST:PORT' on stdout once it accepts connections (with"
          + " the port picked when --listen asks for port 0); logs go to stderr.",
      "Stops gracefully on SIGTERM or SIGINT (Ctrl-C) and exits 0."
    },
    exitCodeListHeading = ExitCodes.HEADING,
    exitCodeList = {
      ExitCodes.LIST_OK,
      "2:usage error, or the address cannot be listened on, or the store cannot be opened"
    })
final class GlobalCommand implements Callable<Integer> {
  enum Store {
    ROCKSDB,
    MEMORY
  }

  private final Env env;

  @Spec CommandSpec spec;

  @Option(
      names = "--listen",
      paramLabel = "HOST:PORT",
      defaultValue = "127.0.0.1:50051",
      converter = HostPort.ListenConverter.class,
      description = "Address to listen on; port 0 picks a free port (default: ${DEFAULT-VALUE}).")
  HostPort listen;

  @Option(
      names = "--store",
      paramLabel = "rocksdb|memory",
      defaultValue = "rocksdb",
      description =
          "Storage backend: rocksdb (durable, in --data-dir) or memory (lost on exit; tests and"
              + " demos). Default: rocksdb.")
  Store store;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      defaultValue = "./dstore-data",
      description =
          "Directory of the rocksdb store, created if missing (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(
      names = "--sync",
      description =
          "rocksdb: fsync every write before acknowledging it (survives power loss; slower).")
  boolean sync;

  @Option(
      names = "--coherence",
      paramLabel = "strict|eventual",
      defaultValue = "strict",
      description =
          "strict: a delete returns once no Local can serve the old value (default);"
              + " eventual: deletes return at once and Locals drop the value when the"
              + " invalidation reaches them.")
  Coherence coherence;

  @Option(
      names = "--lease",
      paramLabel = "DURATION",
      defaultValue = "2s",
      converter = Durations.Converter.class,
      description =
          "Lease of a Local, renewed by heartbeats: the longest a dead Local can delay a"
              + " strict delete (default: ${DEFAULT-VALUE}).")
  Duration lease;

  @Option(
      names = "--invalidation-log",
      paramLabel = "N",
      defaultValue = "100000",
      description =
          "Invalidations kept to replay to reconnecting Locals (default: ${DEFAULT-VALUE}).")
  int invalidationLog;

  @Option(
      names = "--max-key-size",
      paramLabel = "SIZE",
      defaultValue = "1024",
      converter = Sizes.IntConverter.class,
      description = "Longest key accepted (default: ${DEFAULT-VALUE} bytes).")
  int maxKeySize;

  @Option(
      names = "--max-value-size",
      paramLabel = "SIZE",
      defaultValue = "1GiB",
      converter = Sizes.Converter.class,
      description = "Largest value accepted (default: ${DEFAULT-VALUE}).")
  long maxValueSize;

  @Option(
      names = "--max-message-size",
      paramLabel = "SIZE",
      defaultValue = "4MiB",
      converter = Sizes.IntConverter.class,
      description =
          "Largest gRPC message accepted; larger values are streamed in chunks (default:"
              + " ${DEFAULT-VALUE}).")
  int maxMessageSize;

  GlobalCommand(Env env) {
    this.env = env;
  }

  @Override
  public Integer call() throws InterruptedException {
    GlobalServer.Builder builder;
    try {
      builder =
          GlobalServer.builder()
              .listen(listen.host(), listen.port())
              .coherence(coherence)
              .lease(lease)
              .invalidationLogSize(invalidationLog)
              .maxKeyBytes(maxKeySize)
              .maxValueBytes(maxValueSize)
              .maxMessageBytes(maxMessageSize);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    GlobalServer server = builder.storage(openStorage()).build();
    try {
      server.start();
    } catch (IOException e) {
      throw Failure.usage("Cannot listen on " + listen + ": " + rootMessage(e), e);
    }
    env.out().println("Dstore server listening on " + server.address());
    env.out().flush();
    try {
      env.stopSignal().await(server::close);
    } finally {
      server.close();
    }
    return ExitCodes.OK;
  }

  private Storage openStorage() {
    boolean dirGiven = spec.commandLine().getParseResult().hasMatchedOption("--data-dir");
    if (store == Store.MEMORY) {
      if (dirGiven || sync) {
        env.err().println("Note: --data-dir and --sync have no effect with --store memory");
      }
      return Storage.memory();
    }
    try {
      return Storage.rocksdb(dataDir, sync);
    } catch (IOException | RuntimeException e) {
      // The storage's own message says what is wrong (in use, unreadable format, no space).
      String why = e.getMessage() != null ? Text.oneLine(e.getMessage()) : rootMessage(e);
      throw Failure.usage("Cannot open the rocksdb store in " + dataDir + ": " + why, e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String message = root.getMessage() != null ? root.getMessage() : root.toString();
    return Text.oneLine(message);
  }
}
