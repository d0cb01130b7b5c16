package io.dstore;

import static java.util.Objects.requireNonNull;

import io.dstore.internal.DaemonMetrics;
import io.dstore.internal.DaemonService;
import io.dstore.internal.TokenCheck;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Local daemon: serves the data calls of dstore's gRPC protocol (put, get, stat, delete and their
 * streaming forms) to other processes, answering them through one {@link Dstore}, so that every
 * process on a host shares its cache. A client reaches it like Global, with {@code
 * Dstore.connect(address, DstoreOptions.builder().coherentCache(false).build())}; its {@link
 * Entry#fromCache()} then tells whether the daemon answered from its cache. The membership and
 * coherence calls (Join, Leave, Subscribe, Revalidate) are Global's: a daemon answers them
 * UNIMPLEMENTED.
 *
 * <p>TLS, mutual TLS and the bearer token work as on Global ({@code GlobalServer}): same options,
 * same errors ({@code dstore-error-code} trailer). {@link Builder#metricsListen} serves the Local's
 * cache figures and the daemon's request counts at {@code GET /metrics} (needs {@code
 * micrometer-registry-prometheus}, an optional dependency of dstore-client).
 *
 * <p>Lifecycle: {@link #builder()} … {@link Builder#build()}, {@link #start()}, {@link #close()}.
 * Closing stops serving (calls in flight get five seconds) but does not close the {@link Dstore},
 * which belongs to the caller. Thread-safe.
 */
public final class DstoreDaemon implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DstoreDaemon.class);

  /**
   * grpc-java logs every connection that fails before speaking HTTP/2 at INFO with a stack trace
   * (java.util.logging); such clients are expected, so they are quieted to warnings unless a level
   * was configured. Held here: java.util.logging keeps loggers, and their levels, only weakly.
   */
  private static final java.util.logging.Logger GRPC_TRANSPORT_LOG =
      quiet("io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport", "WARNING");

  /** Likewise for a message over the size limit, logged at WARNING with a stack trace. */
  private static final java.util.logging.Logger GRPC_STREAM_LOG =
      quiet("io.grpc.netty.shaded.io.grpc.netty.NettyServerStream", "SEVERE");

  private static java.util.logging.Logger quiet(String name, String level) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    if (logger.getLevel() == null) {
      logger.setLevel(java.util.logging.Level.parse(level));
    }
    return logger;
  }

  private final Builder config;
  private final Object lifecycle = new Object();
  private Server server; // guarded by lifecycle
  private ExecutorService executor;
  private DaemonMetrics metrics;
  private boolean started;
  private boolean closed;

  private DstoreDaemon(Builder config) {
    this.config = config;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds and starts serving.
   *
   * @throws IOException if the address (or the metrics address) cannot be bound, or a TLS file
   *     cannot be read
   * @throws IllegalStateException if called twice
   */
  public DstoreDaemon start() throws IOException {
    synchronized (lifecycle) {
      if (started) {
        throw new IllegalStateException("already started");
      }
      started = true;
      log.debug(
          "gRPC transport and stream failures are logged from {} and {}",
          GRPC_TRANSPORT_LOG.getLevel(),
          GRPC_STREAM_LOG.getLevel());
      executor = Executors.newVirtualThreadPerTaskExecutor();
      try {
        ServerBuilder<?> builder;
        if (config.inProcessName != null) {
          builder = InProcessServerBuilder.forName(config.inProcessName);
        } else {
          InetSocketAddress address = new InetSocketAddress(config.host, config.port);
          builder =
              (config.tlsCert != null
                      ? NettyServerBuilder.forAddress(address, tls())
                      : NettyServerBuilder.forAddress(address))
                  .permitKeepAliveTime(5, TimeUnit.SECONDS)
                  .permitKeepAliveWithoutCalls(true)
                  .maxConcurrentCallsPerConnection(config.maxStreamsPerConnection);
        }
        List<ServerInterceptor> interceptors = new ArrayList<>();
        if (config.token != null) {
          interceptors.add(new TokenCheck(config.token));
        }
        if (config.metricsHost != null) {
          metrics = DaemonMetrics.start(config.local, config.metricsHost, config.metricsPort);
          interceptors.add(metrics.interceptor());
        }
        DaemonService service =
            new DaemonService(
                config.local,
                config.maxMessageBytes - (16 << 10),
                executor,
                config.idleStreamTimeout);
        server =
            builder
                .executor(executor)
                .maxInboundMessageSize(config.maxMessageBytes)
                .addService(
                    ServerInterceptors.intercept(
                        service, interceptors.toArray(ServerInterceptor[]::new)))
                .build()
                .start();
      } catch (IOException | RuntimeException e) {
        closed = true;
        release();
        throw new IOException(
            "cannot start the Local daemon on " + address() + ": " + e.getMessage(), e);
      }
      log.info(
          "Local daemon serving {} on {} ({}{}){}",
          config.local.target(),
          address(),
          config.inProcessName != null
              ? "in-process"
              : config.tlsCert == null
                  ? "plaintext"
                  : config.tlsClientCa != null ? "TLS with client certificates" : "TLS",
          config.token != null ? ", token required" : "",
          metrics != null ? ", metrics on port " + metrics.port() : "");
      return this;
    }
  }

  private io.grpc.ServerCredentials tls() throws IOException {
    TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder();
    tls.keyManager(read(config.tlsCert, "TLS certificate"), read(config.tlsKey, "TLS private key"));
    if (config.tlsClientCa != null) {
      tls.trustManager(read(config.tlsClientCa, "TLS client CA"))
          .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return tls.build();
  }

  private static InputStream read(Path file, String what) throws IOException {
    try {
      return new ByteArrayInputStream(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new IOException("cannot read the " + what + " " + file + ": " + e, e);
    }
  }

  /** The port bound (the real one when 0 was asked for); -1 in process. */
  public int port() {
    synchronized (lifecycle) {
      if (config.inProcessName != null) {
        return -1;
      }
      return server != null ? server.getPort() : config.port;
    }
  }

  /** {@code host:port} as clients should be given it (the in-process name in process). */
  public String address() {
    if (config.inProcessName != null) {
      return config.inProcessName;
    }
    String host = config.host.contains(":") ? "[" + config.host + "]" : config.host;
    return host + ":" + port();
  }

  /**
   * The port serving {@code /metrics}.
   *
   * @throws IllegalStateException if not started or no {@link Builder#metricsListen} was given
   */
  public int metricsPort() {
    synchronized (lifecycle) {
      if (metrics == null) {
        throw new IllegalStateException("metrics are not served: no metricsListen was given");
      }
      return metrics.port();
    }
  }

  /** Blocks until the daemon has stopped. */
  public void awaitTermination() throws InterruptedException {
    Server s;
    synchronized (lifecycle) {
      s = server;
    }
    if (s != null) {
      s.awaitTermination();
    }
  }

  /** Stops serving; calls in flight get five seconds. Does not close the Local. Idempotent. */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closed || !started) {
        closed = true;
        return;
      }
      closed = true;
      String where = address();
      server.shutdown();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException e) {
        server.shutdownNow();
        Thread.currentThread().interrupt();
      }
      release();
      log.info("Local daemon on {} stopped", where);
    }
  }

  private void release() {
    if (metrics != null) {
      metrics.close();
    }
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  /** Configures a {@link DstoreDaemon}; every setter validates its argument at once. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 50052;
    private String inProcessName;
    private Dstore local;
    private Path tlsCert;
    private Path tlsKey;
    private Path tlsClientCa;
    private String token;
    private String metricsHost;
    private int metricsPort;
    private int maxMessageBytes = 4 << 20;
    private int maxStreamsPerConnection = 1_000;
    private Duration idleStreamTimeout = Duration.ofSeconds(30);

    private Builder() {}

    /** Address to listen on (default 127.0.0.1:50052); port 0 picks a free port. */
    public Builder listen(String host, int port) {
      this.host = requireNonNull(host, "host");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /** Serve over gRPC's in-process transport under {@code name} (tests); TLS does not apply. */
    public Builder inProcess(String name) {
      this.inProcessName = requireNonNull(name, "name");
      return this;
    }

    /** The Local whose cache is shared (required). The daemon does not close it. */
    public Builder local(Dstore local) {
      this.local = requireNonNull(local, "local");
      return this;
    }

    /** Serve TLS with this certificate chain and PKCS#8 private key (PEM files). */
    public Builder tls(Path certChainPem, Path privateKeyPem) {
      this.tlsCert = requireNonNull(certChainPem, "certChainPem");
      this.tlsKey = requireNonNull(privateKeyPem, "privateKeyPem");
      return this;
    }

    /** Mutual TLS: require client certificates signed by a CA in this PEM file. */
    public Builder tlsClientCa(Path caPem) {
      this.tlsClientCa = requireNonNull(caPem, "caPem");
      return this;
    }

    /** Require {@code authorization: Bearer <token>} on every call (printable ASCII). */
    public Builder token(String token) {
      requireNonNull(token, "token");
      String t = token.strip();
      if (t.isEmpty()) {
        throw new IllegalArgumentException("token is blank");
      }
      if (!t.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
        throw new IllegalArgumentException("token must be printable ASCII without spaces");
      }
      this.token = t;
      return this;
    }

    /** Serve metrics at {@code http://host:port/metrics}; port 0 picks a free port. */
    public Builder metricsListen(String host, int port) {
      requireNonNull(host, "host");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("metrics port must be 0..65535, got " + port);
      }
      this.metricsHost = host;
      this.metricsPort = port;
      return this;
    }

    /** Largest message accepted (default 4 MiB); larger values travel as streams. */
    public Builder maxMessageBytes(int bytes) {
      if (bytes < 64 << 10) {
        throw new IllegalArgumentException("max message size must be >= 64 KiB, got " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /** Concurrent calls per connection (default 1,000; HTTP/2 streams, sockets only). */
    public Builder maxStreamsPerConnection(int streams) {
      if (streams < 1) {
        throw new IllegalArgumentException(
            "max streams per connection must be >= 1, got " + streams);
      }
      this.maxStreamsPerConnection = streams;
      return this;
    }

    /** How long a stream may make no progress before it is cut off (default 30 s). */
    public Builder idleStreamTimeout(Duration timeout) {
      requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("idle stream timeout must be positive, got " + timeout);
      }
      this.idleStreamTimeout = timeout;
      return this;
    }

    /**
     * @throws IllegalStateException if no {@link #local} was given
     * @throws IllegalArgumentException if client certificates are asked for without TLS
     */
    public DstoreDaemon build() {
      if (local == null) {
        throw new IllegalStateException("a daemon needs the Local it serves: call local(dstore)");
      }
      if (tlsClientCa != null && tlsCert == null) {
        throw new IllegalArgumentException(
            "client certificates (tlsClientCa) need TLS: give tls(certificate, key) as well");
      }
      return new DstoreDaemon(this);
    }
  }
}
