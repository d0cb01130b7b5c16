package io.dstore.cli;

import io.dstore.server.Coherence;
import io.dstore.server.DamagedStoreException;
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
      "Stops gracefully on SIGTERM or SIGINT (Ctrl-C) and exits 0.",
      "",
      "Security: --tls-cert and --tls-key turn on TLS for every connection; --tls-client-ca also"
          + " requires each client to present a certificate signed by that CA (mutual TLS);"
          + " --token-file requires every call to carry that token (clients give theirs with"
          + " --token-file or DSTORE_TOKEN; a wrong or missing one is refused before anything is"
          + " read or written). The gRPC health service stays open to probes without a token.",
      "Limits: each refusal names the limit and the option that sets it.",
      "Metrics: --metrics-listen serves GET /metrics in Prometheus' text format and prints"
          + " 'Metrics on http://HOST:PORT/metrics' on stderr.",
      "",
      "Options:"
    },
    sortOptions = false,
    exitCodeListHeading = ExitCodes.HEADING,
    exitCodeList = {
      ExitCodes.LIST_OK,
      "2:usage error, or the address cannot be listened on, or the store, a TLS file or the"
          + " token file cannot be used",
      GlobalCommand.LIST_DAMAGED
    })
final class GlobalCommand implements Callable<Integer> {
  /** Exit code: the store is damaged (start refused, or --check found damage). */
  static final int DAMAGED = 7;

  static final String LIST_DAMAGED =
      "7:the rocksdb store is damaged: start refused (see --accept-data-loss), or --check found"
          + " damage";

  enum Store {
    ROCKSDB,
    MEMORY,
    ETCD
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
      paramLabel = "rocksdb|memory|etcd",
      defaultValue = "rocksdb",
      description =
          "Storage backend: rocksdb (durable, in --data-dir), memory (lost on exit; tests and"
              + " demos), or etcd: this process is one gateway of the cluster store, over etcd"
              + " (--etcd) and S3-compatible storage (--blobs); any number of gateways share one"
              + " cluster. Default: rocksdb.")
  Store store;

  @picocli.CommandLine.ArgGroup(exclusive = false, heading = "%nCluster store (--store etcd):%n")
  ClusterOptions cluster;

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
      names = "--min-free-disk",
      paramLabel = "SIZE",
      converter = Sizes.Converter.class,
      description =
          "rocksdb: refuse new values (Global is out of space, exit 5 for dstore put) while free"
              + " space on the data directory's filesystem is below SIZE; deletes and reads still"
              + " work, and puts are accepted again once space is freed. 0 turns the check off."
              + " Default: the larger of 1GiB and 5%% of that filesystem.")
  Long minFreeDisk;

  @Option(
      names = "--check",
      description =
          "rocksdb: check the store in --data-dir without serving or changing it (write-ahead"
              + " logs, file checksums, every value against its SHA-256); prints each damaged"
              + " key or file on a line, then a summary; exits 0 when clean, 7 when damaged.")
  boolean check;

  @Option(
      names = "--accept-data-loss",
      description =
          "rocksdb: start even though the write-ahead log is damaged, keeping what precedes the"
              + " damage and losing the rest; the damaged logs are copied aside and every key"
              + " lost is logged. Without it, Global refuses to start on a damaged store.")
  boolean acceptDataLoss;

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

  @Option(
      names = "--max-streams-per-connection",
      paramLabel = "N",
      defaultValue = "" + GlobalServer.DEFAULT_MAX_STREAMS_PER_CONNECTION,
      description =
          "Concurrent calls (HTTP/2 streams) one connection may have open; a client queues the"
              + " rest (default: ${DEFAULT-VALUE}).")
  int maxStreamsPerConnection;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = "" + GlobalServer.DEFAULT_MAX_CONNECTIONS,
      description =
          "Client connections that may make calls at once; calls on more are refused"
              + " (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(
      names = "--idle-timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = Durations.Converter.class,
      description =
          "How long an upload may send nothing, or a download's reader read nothing, before the"
              + " stream is cut off; a cut-off upload leaves nothing (default: ${DEFAULT-VALUE}).")
  Duration idleTimeout;

  @Option(
      names = "--max-subscriptions",
      paramLabel = "N",
      defaultValue = "" + GlobalServer.DEFAULT_MAX_SUBSCRIPTIONS,
      description =
          "Subscriptions open at once, one per connected Local; one more is refused"
              + " (default: ${DEFAULT-VALUE}).")
  int maxSubscriptions;

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description =
          "Serve TLS with the certificate chain in this PEM file (the server's own certificate"
              + " first). Needs --tls-key. Default: plaintext.")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "Private key of --tls-cert (PEM, PKCS#8: 'BEGIN PRIVATE KEY').")
  Path tlsKey;

  @Option(
      names = "--tls-client-ca",
      paramLabel = "FILE",
      description =
          "Mutual TLS: refuse clients that do not present a certificate signed by a CA in this"
              + " PEM file. Needs --tls-cert.")
  Path tlsClientCa;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "Require every call to carry the token held in this file (printable ASCII, surrounding"
              + " white space ignored). Default: no token.")
  Path tokenFile;

  @Option(
      names = "--metrics-listen",
      paramLabel = "HOST:PORT",
      converter = HostPort.ListenConverter.class,
      description =
          "Serve metrics at http://HOST:PORT/metrics (Prometheus text format); port 0 picks a"
              + " free port. Default: not served.")
  HostPort metricsListen;

  GlobalCommand(Env env) {
    this.env = env;
  }

  @Override
  public Integer call() throws InterruptedException {
    if (check) {
      return check();
    }
    GlobalServer.Builder builder = configure();
    if (store == Store.ETCD) {
      builder.cluster((cluster != null ? cluster : new ClusterOptions()).config(this::usage));
    } else {
      if (cluster != null && cluster.anyGiven()) {
        throw usage("--etcd, --blobs and the other cluster options need --store etcd");
      }
      builder.storage(openStorage());
    }
    GlobalServer server = builder.build();
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      try {
        server.close(); // releases what the server opened
      } catch (RuntimeException closing) {
        // GlobalServer.start does not clean up after every failure, and close() then fails too
        e.addSuppressed(closing);
      }
      throw startFailure(e);
    }
    if (metricsListen != null) {
      // Before the listening line: whoever waits for that line finds this one written too.
      HostPort metrics = new HostPort(metricsListen.host(), server.metricsPort());
      env.err().println("Metrics on http://" + metrics + "/metrics");
      env.err().flush();
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

  /** The server's settings from the options; every file named is read or checked first. */
  private GlobalServer.Builder configure() {
    credentials().check(this::usage);
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
              .maxMessageBytes(maxMessageSize)
              .maxStreamsPerConnection(maxStreamsPerConnection)
              .maxConnections(maxConnections)
              .idleStreamTimeout(idleTimeout)
              .maxSubscriptions(maxSubscriptions);
      if (minFreeDisk != null) {
        builder.minFreeDiskBytes(minFreeDisk);
      }
      if (metricsListen != null) {
        builder.metricsListen(metricsListen.host(), metricsListen.port());
      }
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    credentials().applyTo(builder::tls, builder::tlsClientCa, builder::token);
    return builder;
  }

  private ServerCredentials credentials() {
    return new ServerCredentials("--", tlsCert, tlsKey, tlsClientCa, tokenFile);
  }

  private Failure startFailure(Exception e) {
    if (e instanceof io.dstore.server.StoreUnavailableException) {
      return Failure.usage("Cannot start: " + Text.oneLine(e.getMessage()), e);
    }
    return StartFailure.of(e, listen, metricsListen, credentials().describeTls());
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** {@code --check}: the report on stdout, exit 0 when clean, {@link #DAMAGED} when not. */
  private int check() {
    if (store != Store.ROCKSDB) {
      throw usage(
          "--check checks a rocksdb store; it has nothing to check with --store "
              + store.name().toLowerCase(java.util.Locale.ROOT));
    }
    try {
      long problems = Storage.checkRocksdb(dataDir, env.out());
      env.out().flush();
      return problems == 0 ? ExitCodes.OK : DAMAGED;
    } catch (IOException e) {
      throw Failure.usage(
          "Cannot check the rocksdb store in " + dataDir + ": " + e.getMessage(), e);
    }
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
      return Storage.rocksdb(dataDir, sync, acceptDataLoss);
    } catch (DamagedStoreException e) {
      throw new Failure(DAMAGED, "Refusing to start: " + Text.oneLine(e.getMessage()), e);
    } catch (IOException | RuntimeException e) {
      // The storage's own message says what is wrong (in use, unreadable format, no space).
      String why =
          e.getMessage() != null ? Text.oneLine(e.getMessage()) : StartFailure.rootMessage(e);
      throw Failure.usage("Cannot open the rocksdb store in " + dataDir + ": " + why, e);
    }
  }
}
