package io.dstore.server;

import static java.util.Objects.requireNonNull;

import io.dstore.server.internal.GlobalService;
import io.dstore.server.internal.InvalidationHub;
import io.dstore.server.internal.Limits;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Global tier: a gRPC server in front of a {@link Storage}, tracking Locals and pushing
 * invalidations to them.
 *
 * <p>Lifecycle: {@link #builder()} … {@link Builder#build()}, then {@link #start()}; {@link
 * #close()} stops it gracefully (health turns NOT_SERVING, calls in flight finish, subscriptions
 * end) and closes the storage. Thread-safe.
 */
public final class GlobalServer implements AutoCloseable {
  /** 1,024 bytes. */
  public static final int DEFAULT_MAX_KEY_BYTES = 1024;

  /** 1 GiB. */
  public static final long DEFAULT_MAX_VALUE_BYTES = 1L << 30;

  /** 4 MiB. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 4 << 20;

  /** 2 seconds. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(2);

  /** 100,000 invalidations. */
  public static final int DEFAULT_INVALIDATION_LOG = 100_000;

  private static final Logger log = LoggerFactory.getLogger(GlobalServer.class);
  private static final String SERVICE_NAME = "dstore.v1.Global";

  private final Builder config;
  private final Object lifecycle = new Object();
  private Storage storage; // guarded by lifecycle
  private Server server;
  private HealthStatusManager health;
  private InvalidationHub hub;
  private ExecutorService callbacks;
  private ScheduledExecutorService timers;
  private boolean started;
  private boolean closed;

  private GlobalServer(Builder config) {
    this.config = config;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds and starts serving. Returns once the server accepts connections.
   *
   * @throws IOException if the address cannot be bound
   * @throws IllegalStateException if called twice
   */
  public GlobalServer start() throws IOException {
    synchronized (lifecycle) {
      if (started) {
        throw new IllegalStateException("already started");
      }
      started = true;
      storage = config.storage != null ? config.storage : Storage.memory();
      callbacks = Executors.newCachedThreadPool(daemonThreads("dstore-global"));
      timers = Executors.newSingleThreadScheduledExecutor(daemonThreads("dstore-global-timer"));
      Duration renew =
          config.renewInterval != null ? config.renewInterval : config.lease.dividedBy(4);
      hub =
          new InvalidationHub(
              config.coherence,
              config.lease.toNanos(),
              (config.startupGrace != null ? config.startupGrace : config.lease).toNanos(),
              renew.toMillis(),
              config.invalidationLogSize,
              config.nanoClock,
              Clock.systemUTC(),
              timers,
              callbacks);
      Limits limits = new Limits(config.maxKeyBytes, config.maxValueBytes, config.maxMessageBytes);
      health = new HealthStatusManager();
      ServerBuilder<?> builder;
      if (config.inProcessName != null) {
        builder = InProcessServerBuilder.forName(config.inProcessName);
      } else {
        builder =
            NettyServerBuilder.forAddress(new InetSocketAddress(config.host, config.port))
                .permitKeepAliveTime(5, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true);
      }
      server =
          builder
              .executor(callbacks)
              .maxInboundMessageSize(config.maxMessageBytes)
              .addService(new GlobalService(storage, hub, limits, callbacks))
              .addService(health.getHealthService())
              .build();
      try {
        server.start();
      } catch (IOException e) {
        closeQuietly();
        throw new IOException(
            "cannot listen on " + config.host + ":" + config.port + ": " + e.getMessage(), e);
      }
      health.setStatus("", ServingStatus.SERVING);
      health.setStatus(SERVICE_NAME, ServingStatus.SERVING);
      log.info(
          "Global started on {} with {} storage, {} coherence, {} ms leases",
          address(),
          storage.describe(),
          config.coherence.name().toLowerCase(java.util.Locale.ROOT),
          config.lease.toMillis());
      return this;
    }
  }

  /** The host the server listens on (or the in-process name). */
  public String host() {
    return config.inProcessName != null ? config.inProcessName : config.host;
  }

  /** The port bound (the real one when 0 was asked for); -1 for an in-process server. */
  public int port() {
    synchronized (lifecycle) {
      if (config.inProcessName != null) {
        return -1;
      }
      return server != null ? server.getPort() : config.port;
    }
  }

  /** {@code host:port}, as Locals should be given it. */
  public String address() {
    String host = host();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
  }

  /** The coherence hub; for tests and metrics inside this module tree. Not API. */
  public InvalidationHub hub() {
    synchronized (lifecycle) {
      if (hub == null) {
        throw new IllegalStateException("not started");
      }
      return hub;
    }
  }

  /** The storage behind this server. */
  public Storage storage() {
    synchronized (lifecycle) {
      if (storage == null) {
        throw new IllegalStateException("not started");
      }
      return storage;
    }
  }

  /** Blocks until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    Server s;
    synchronized (lifecycle) {
      s = server;
    }
    if (s != null) {
      s.awaitTermination();
    }
  }

  /**
   * Stops gracefully: health turns NOT_SERVING, subscriptions end, calls in flight get up to five
   * seconds to finish, then the storage is closed. Idempotent.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closed || !started) {
        closed = true;
        return;
      }
      closed = true;
      health.enterTerminalState();
      hub.close();
      server.shutdown();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
          server.awaitTermination(2, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        server.shutdownNow();
        Thread.currentThread().interrupt();
      }
      closeQuietly();
      log.info("Global stopped");
    }
  }

  private void closeQuietly() {
    if (timers != null) {
      timers.shutdownNow();
    }
    if (callbacks != null) {
      callbacks.shutdown();
    }
    if (storage != null) {
      storage.close();
    }
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Configures a {@link GlobalServer}; every setter validates its argument at once. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 50051;
    private String inProcessName;
    private Storage storage;
    private Coherence coherence = Coherence.STRICT;
    private Duration lease = DEFAULT_LEASE;
    private Duration renewInterval;
    private Duration startupGrace;
    private int invalidationLogSize = DEFAULT_INVALIDATION_LOG;
    private int maxKeyBytes = DEFAULT_MAX_KEY_BYTES;
    private long maxValueBytes = DEFAULT_MAX_VALUE_BYTES;
    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
    private LongSupplier nanoClock = System::nanoTime;

    private Builder() {}

    /** Address to listen on (default 127.0.0.1:50051); port 0 picks a free port. */
    public Builder listen(String host, int port) {
      this.host = requireNonNull(host, "host");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /** Serve over gRPC's in-process transport under {@code name}, without a socket (tests). */
    public Builder inProcess(String name) {
      this.inProcessName = requireNonNull(name, "name");
      return this;
    }

    /** The storage backend (default: {@link Storage#memory()}). The server closes it. */
    public Builder storage(Storage storage) {
      this.storage = requireNonNull(storage, "storage");
      return this;
    }

    public Builder coherence(Coherence coherence) {
      this.coherence = requireNonNull(coherence, "coherence");
      return this;
    }

    /** Lease granted to a Local per renewal (default 2 s). */
    public Builder lease(Duration lease) {
      this.lease = positive(lease, "lease");
      return this;
    }

    /** How often Locals renew (default: a quarter of the lease). */
    public Builder renewInterval(Duration interval) {
      this.renewInterval = positive(interval, "renew interval");
      return this;
    }

    /**
     * How long a newly started Global holds strict deletes, to outlast leases its previous run may
     * have granted (default: one lease). Zero is safe only when no Local can hold such a lease, as
     * with a brand-new store.
     */
    public Builder startupGrace(Duration grace) {
      requireNonNull(grace, "grace");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("startup grace must be >= 0, got " + grace);
      }
      this.startupGrace = grace;
      return this;
    }

    /** Invalidations kept for replay to reconnecting Locals (default 100,000). */
    public Builder invalidationLogSize(int events) {
      if (events < 1) {
        throw new IllegalArgumentException("invalidation log must hold >= 1 event, got " + events);
      }
      this.invalidationLogSize = events;
      return this;
    }

    public Builder maxKeyBytes(int bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("max key size must be >= 1 byte, got " + bytes);
      }
      this.maxKeyBytes = bytes;
      return this;
    }

    public Builder maxValueBytes(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("max value size must be >= 0 bytes, got " + bytes);
      }
      this.maxValueBytes = bytes;
      return this;
    }

    /** Largest gRPC message accepted (default 4 MiB); larger values must be streamed. */
    public Builder maxMessageBytes(int bytes) {
      if (bytes < 64 << 10) {
        throw new IllegalArgumentException("max message size must be >= 64 KiB, got " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /** Monotonic clock in nanoseconds for leases (default {@link System#nanoTime}); for tests. */
    public Builder nanoClock(LongSupplier nanoClock) {
      this.nanoClock = requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    public GlobalServer build() {
      if (renewInterval != null && renewInterval.compareTo(lease) >= 0) {
        throw new IllegalArgumentException(
            "renew interval " + renewInterval + " must be shorter than the lease " + lease);
      }
      return new GlobalServer(this);
    }

    private static Duration positive(Duration d, String what) {
      requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }
  }
}
