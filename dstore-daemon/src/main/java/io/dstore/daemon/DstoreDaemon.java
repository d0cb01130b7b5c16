package io.dstore.daemon;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.Dstore;
import io.dstore.daemon.internal.DaemonMetrics;
import io.dstore.daemon.internal.DaemonService;
import io.dstore.serving.ServerOptions;
import io.dstore.serving.ServerStack;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;
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
 * same errors (the typed {@code dstore.v1.ErrorDetail-bin} trailer), both from the serving stack
 * that Global uses too. {@link Builder#metricsListen} serves the Local's cache figures and the
 * daemon's request counts at {@code GET /metrics}.
 *
 * <p>Lifecycle: {@link #builder()} … {@link Builder#build()}, {@link #start()}, {@link #close()}.
 * Closing stops serving (calls in flight get five seconds) but does not close the {@link Dstore},
 * which belongs to the caller. Thread-safe.
 */
public final class DstoreDaemon implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DstoreDaemon.class);

  private final Builder config;
  private final Dstore local;
  private final Object lifecycle = new Object();

  @GuardedBy("lifecycle")
  private @Nullable ServerStack server;

  @GuardedBy("lifecycle")
  private @Nullable ExecutorService executor;

  @GuardedBy("lifecycle")
  private @Nullable DaemonMetrics metrics;

  @GuardedBy("lifecycle")
  private boolean started;

  @GuardedBy("lifecycle")
  private boolean closed;

  private DstoreDaemon(Builder config, Dstore local) {
    this.config = config;
    this.local = local;
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
      executor = Executors.newVirtualThreadPerTaskExecutor();
      metrics = new DaemonMetrics(local);
      DaemonService service =
          new DaemonService(
              local, config.maxMessageBytes() - (16 << 10), executor, config.idleStreamTimeout());
      ServerStack.Builder stack =
          ServerStack.builder("this Local daemon", service)
              .options(config)
              .registry(metrics.registry())
              .executor(executor)
              .metricsInterceptor(metrics.interceptor());
      try {
        server = stack.start();
      } catch (IOException | RuntimeException e) {
        closed = true;
        release();
        throw new IOException(
            "cannot start the Local daemon on " + address() + ": " + e.getMessage(), e);
      }
      log.info(
          "Local daemon serving {} on {} ({}){}",
          local.target(),
          address(),
          server.describeSecurity(),
          server.metricsPort() >= 0 ? ", metrics on port " + server.metricsPort() : "");
      return this;
    }
  }

  /** The port bound (the real one when 0 was asked for); -1 in process. */
  public int port() {
    synchronized (lifecycle) {
      if (config.inProcessName() != null) {
        return -1;
      }
      return server != null ? server.port() : config.listenPort();
    }
  }

  /** {@code host:port} as clients should be given it (the in-process name in process). */
  public String address() {
    String inProcess = config.inProcessName();
    if (inProcess != null) {
      return inProcess;
    }
    String host = config.listenHost();
    host = host.contains(":") ? "[" + host + "]" : host;
    return host + ":" + port();
  }

  /**
   * The port serving {@code /metrics}.
   *
   * @throws IllegalStateException if not started or no {@link Builder#metricsListen} was given
   */
  public int metricsPort() {
    synchronized (lifecycle) {
      if (server == null || server.metricsPort() < 0) {
        throw new IllegalStateException("metrics are not served: no metricsListen was given");
      }
      return server.metricsPort();
    }
  }

  /** Blocks until the daemon has stopped. */
  public void awaitTermination() throws InterruptedException {
    ServerStack s;
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
      if (server != null) {
        server.shutdown(Duration.ofSeconds(5));
      }
      release();
      log.info("Local daemon on {} stopped", where);
    }
  }

  @GuardedBy("lifecycle")
  private void release() {
    if (metrics != null) {
      metrics.close();
    }
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  /** Configures a {@link DstoreDaemon}; every setter validates its argument at once. */
  public static final class Builder extends ServerOptions<Builder> {
    private @Nullable Dstore local;

    private Builder() {
      super(50052);
    }

    @Override
    protected Builder self() {
      return this;
    }

    /** The Local whose cache is shared (required). The daemon does not close it. */
    public Builder local(Dstore local) {
      this.local = requireNonNull(local, "local");
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
      checkConsistent();
      return new DstoreDaemon(this, local);
    }
  }
}
