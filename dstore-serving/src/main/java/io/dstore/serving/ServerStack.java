package io.dstore.serving;

import static java.util.Objects.requireNonNull;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerTransportFilter;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * What every dstore server shares, Global and the Local daemon alike: the socket (Netty, keep-alive
 * and per-connection stream settings) or in-process transport, TLS and mutual TLS from PEM files,
 * the bearer-token check, gRPC health and server reflection, the {@code /metrics} HTTP endpoint,
 * and quiet logs for clients that fail before they speak HTTP/2.
 *
 * <p>The server's own service is wrapped, from the outside in, by the metrics interceptor, the
 * {@linkplain Builder#outerInterceptors outer interceptors}, the token check and the {@linkplain
 * Builder#innerInterceptors inner interceptors}. Health and reflection need no token (orchestrators
 * probe them) but do need TLS and a client certificate when those are on; health is counted by the
 * metrics interceptor too.
 *
 * <p>Lifecycle: {@link #builder} … {@link Builder#start()} binds and serves; {@link #stopServing()}
 * turns health NOT_SERVING; {@link #shutdown(Duration)} stops gracefully. Thread-safe.
 */
public final class ServerStack {
  /**
   * grpc-java logs every connection that fails before speaking HTTP/2 (a port scan, a plain HTTP
   * request, random bytes) at INFO with a stack trace, through java.util.logging. Such clients are
   * expected; they are quieted to warnings unless a level was configured for this logger. Held here
   * because java.util.logging keeps loggers only weakly, with their levels.
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

  private final ServerOptions<?> config;
  private final Server server;
  private final HealthStatusManager health;
  private final @Nullable MetricsHttpServer metricsHttp;
  private final AtomicBoolean stoppedServing = new AtomicBoolean();

  private ServerStack(
      ServerOptions<?> config,
      Server server,
      HealthStatusManager health,
      @Nullable MetricsHttpServer metricsHttp) {
    this.config = config;
    this.server = server;
    this.health = health;
    this.metricsHttp = metricsHttp;
  }

  /**
   * A server for {@code service}, named {@code serverName} in messages ("Global", "this Local
   * daemon").
   */
  public static Builder builder(String serverName, BindableService service) {
    return new Builder(serverName, service);
  }

  /** The port bound (the real one when 0 was asked for); -1 in process. */
  public int port() {
    return config.inProcessName != null ? -1 : server.getPort();
  }

  /** {@code host:port} as clients should be given it; the in-process name in process. */
  public String address() {
    if (config.inProcessName != null) {
      return config.inProcessName;
    }
    String host = config.host.contains(":") ? "[" + config.host + "]" : config.host;
    return host + ":" + port();
  }

  /** The port serving {@code /metrics}, or -1 when none is served. */
  public int metricsPort() {
    return metricsHttp == null ? -1 : metricsHttp.port();
  }

  /** How connections are secured, for a start-up log line. */
  public String describeSecurity() {
    String transport =
        config.inProcessName != null
            ? "in-process"
            : config.tlsCert == null
                ? "plaintext"
                : config.tlsClientCa != null ? "TLS with client certificates" : "TLS";
    return transport + (config.token != null ? ", token required" : "");
  }

  /** Health turns NOT_SERVING for good: the first step of a graceful stop. Idempotent. */
  public void stopServing() {
    // gRPC logs a second enterTerminalState as a warning with a stack trace.
    if (stoppedServing.compareAndSet(false, true)) {
      health.enterTerminalState();
    }
  }

  /**
   * Stops accepting calls, gives those in flight up to {@code grace} to finish, then cuts the rest;
   * stops the metrics endpoint. Idempotent.
   */
  public void shutdown(Duration grace) {
    stopServing();
    server.shutdown();
    try {
      if (!server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      if (metricsHttp != null) {
        metricsHttp.close();
      }
    }
  }

  /** Blocks until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** Configures a {@link ServerStack}; every setter validates its argument at once. */
  public static final class Builder {
    private final String serverName;
    private final BindableService service;
    private @Nullable ServerOptions<?> options;
    private @Nullable Executor executor;
    private io.grpc.@Nullable ServerCallExecutorSupplier callExecutorSupplier;
    private final List<ServerInterceptor> inner = new ArrayList<>();
    private final List<ServerInterceptor> outer = new ArrayList<>();
    private @Nullable ServerInterceptor metricsInterceptor;
    private @Nullable ServerTransportFilter transportFilter;
    private @Nullable PrometheusMeterRegistry registry;

    private Builder(String serverName, BindableService service) {
      this.serverName = requireNonNull(serverName, "serverName");
      this.service = requireNonNull(service, "service");
    }

    /** Where and how to serve: address, TLS, token, limits, {@code /metrics} (required). */
    public Builder options(ServerOptions<?> options) {
      this.options = requireNonNull(options, "options");
      return this;
    }

    /** The executor of gRPC's callbacks (and of calls, unless {@link #callExecutor} is given). */
    public Builder executor(Executor executor) {
      this.executor = requireNonNull(executor, "executor");
      return this;
    }

    /** gRPC's per-call executor hook (see {@code ServerBuilder.callExecutor}). */
    public Builder callExecutor(io.grpc.ServerCallExecutorSupplier supplier) {
      this.callExecutorSupplier = requireNonNull(supplier, "supplier");
      return this;
    }

    /** Interceptors inside the token check (run only for authenticated calls), innermost first. */
    public Builder innerInterceptors(ServerInterceptor... interceptors) {
      inner.addAll(List.of(interceptors));
      return this;
    }

    /** Interceptors outside the token check but inside the metrics, innermost first. */
    public Builder outerInterceptors(ServerInterceptor... interceptors) {
      outer.addAll(List.of(interceptors));
      return this;
    }

    /** The outermost interceptor: sees every call, refusals included, and health checks. */
    public Builder metricsInterceptor(ServerInterceptor interceptor) {
      this.metricsInterceptor = requireNonNull(interceptor, "interceptor");
      return this;
    }

    /** Told of every connection that opens and closes (sockets only). */
    public Builder transportFilter(ServerTransportFilter filter) {
      this.transportFilter = requireNonNull(filter, "filter");
      return this;
    }

    /** The meters to serve at {@code /metrics}, when the options ask for it. */
    public Builder registry(PrometheusMeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Binds and starts serving, health SERVING.
     *
     * @throws IOException naming the address, or the TLS file that cannot be read
     */
    @SuppressWarnings("deprecation") // the v1alpha reflection service, for older tools
    public ServerStack start() throws IOException {
      ServerOptions<?> o = requireNonNull(options, "options");
      o.checkConsistent();
      ServerBuilder<?> builder;
      if (o.inProcessName != null) {
        builder = InProcessServerBuilder.forName(o.inProcessName);
      } else {
        InetSocketAddress address = new InetSocketAddress(o.host, o.port);
        builder =
            (o.tlsCert != null
                    ? NettyServerBuilder.forAddress(address, tls(o))
                    : NettyServerBuilder.forAddress(address))
                .permitKeepAliveTime(5, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .maxConcurrentCallsPerConnection(o.maxStreamsPerConnection);
      }
      List<ServerInterceptor> chain = new ArrayList<>(inner);
      if (o.token != null) {
        chain.add(new TokenInterceptor(o.token, serverName));
      }
      chain.addAll(outer);
      List<ServerInterceptor> open = new ArrayList<>();
      if (metricsInterceptor != null) {
        chain.add(metricsInterceptor);
        open.add(metricsInterceptor);
      }
      HealthStatusManager health = new HealthStatusManager();
      if (executor != null) {
        builder.executor(executor);
      }
      if (callExecutorSupplier != null) {
        builder.callExecutor(callExecutorSupplier);
      }
      if (transportFilter != null) {
        builder.addTransportFilter(transportFilter);
      }
      ServerServiceDefinition own = ServerInterceptors.intercept(service, chain);
      Server server =
          builder
              .maxInboundMessageSize(o.maxMessageBytes)
              .addService(own)
              .addService(ServerInterceptors.intercept(health.getHealthService(), open))
              .addService(ProtoReflectionServiceV1.newInstance())
              .addService(io.grpc.protobuf.services.ProtoReflectionService.newInstance())
              .build();
      MetricsHttpServer http = null;
      try {
        server.start();
        if (o.metricsHost != null) {
          if (registry == null) {
            throw new IllegalStateException("metrics are asked for but no registry was given");
          }
          http = MetricsHttpServer.start(o.metricsHost, o.metricsPort, registry);
        }
      } catch (IOException | RuntimeException e) {
        server.shutdownNow();
        throw new IOException(
            "cannot start " + serverName + " on " + o.host + ":" + o.port + ": " + e.getMessage(),
            e);
      }
      health.setStatus("", ServingStatus.SERVING);
      health.setStatus(own.getServiceDescriptor().getName(), ServingStatus.SERVING);
      GRPC_TRANSPORT_LOG.fine("transport failures logged from WARNING");
      GRPC_STREAM_LOG.fine("stream failures logged from SEVERE");
      return new ServerStack(o, server, health, http);
    }

    private static io.grpc.ServerCredentials tls(ServerOptions<?> o) throws IOException {
      TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder();
      tls.keyManager(read(o.tlsCert, "TLS certificate"), read(o.tlsKey, "TLS private key"));
      if (o.tlsClientCa != null) {
        tls.trustManager(read(o.tlsClientCa, "TLS client CA"))
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
      return tls.build();
    }

    private static InputStream read(@Nullable Path file, String what) throws IOException {
      requireNonNull(file, what);
      try {
        return new ByteArrayInputStream(Files.readAllBytes(file));
      } catch (IOException e) {
        throw new IOException("cannot read the " + what + " " + file + ": " + e, e);
      }
    }
  }
}
