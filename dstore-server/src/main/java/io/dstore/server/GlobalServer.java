package io.dstore.server;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.server.internal.CallExecutors;
import io.dstore.server.internal.ConnectionLimiter;
import io.dstore.server.internal.DeleteCoordinator;
import io.dstore.server.internal.Deletes;
import io.dstore.server.internal.DiskSpace;
import io.dstore.server.internal.GlobalMetrics;
import io.dstore.server.internal.GlobalService;
import io.dstore.server.internal.InvalidationHub;
import io.dstore.server.internal.Limits;
import io.dstore.server.internal.ServerInternals;
import io.dstore.server.internal.ServerSetup;
import io.dstore.server.internal.SpaceAware;
import io.dstore.server.internal.SubscriptionLimiter;
import io.dstore.server.internal.cluster.ClusterGateway;
import io.dstore.serving.ServerOptions;
import io.dstore.serving.ServerStack;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.FileStore;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Global tier: a gRPC server in front of a {@link Storage}, tracking Locals and pushing
 * invalidations to them.
 *
 * <p>Lifecycle: {@link #builder()} … {@link Builder#build()}, then {@link #start()}; {@link
 * #close()} stops it gracefully (health turns NOT_SERVING, calls in flight finish, subscriptions
 * end) and closes the storage. Thread-safe.
 *
 * <p><b>Security.</b> With {@link Builder#tls} every connection is TLS; with {@link
 * Builder#tlsClientCa} a client must also present a certificate signed by that CA, or the handshake
 * fails. With {@link Builder#token} every call to the dstore service must carry {@code
 * authorization: Bearer <token>}, or it is refused with UNAUTHENTICATED before anything is read or
 * written. The gRPC health service ({@code grpc.health.v1.Health}) needs no token, so that
 * orchestrators can probe it; it still needs TLS (and a client certificate) when those are on.
 *
 * <p><b>Limits.</b> Each has a default and a builder option, and each refusal names the limit and
 * its CLI flag: key, value and message size, concurrent streams per connection, connections, idle
 * streams and subscriptions (see the builder).
 *
 * <p><b>Observability.</b> Micrometer meters (see {@code GlobalMetrics}) are always kept; {@link
 * Builder#metricsListen} serves them at {@code GET /metrics} in Prometheus' text format. gRPC
 * health reports SERVING while running and NOT_SERVING from the moment {@link #close()} begins.
 */
public final class GlobalServer implements AutoCloseable {
  /** 1,024 bytes. */
  public static final int DEFAULT_MAX_KEY_BYTES = 1024;

  /** 1 GiB. */
  public static final long DEFAULT_MAX_VALUE_BYTES = 1L << 30;

  /** 4 MiB. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = ServerOptions.DEFAULT_MAX_MESSAGE_BYTES;

  /** 2 seconds. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(2);

  /** 100,000 invalidations. */
  public static final int DEFAULT_INVALIDATION_LOG = 100_000;

  /** 1,000 concurrent calls (HTTP/2 streams) per connection. */
  public static final int DEFAULT_MAX_STREAMS_PER_CONNECTION =
      ServerOptions.DEFAULT_MAX_STREAMS_PER_CONNECTION;

  /** 10,000 connections. */
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

  /** 30 seconds. */
  public static final Duration DEFAULT_IDLE_STREAM_TIMEOUT =
      ServerOptions.DEFAULT_IDLE_STREAM_TIMEOUT;

  /**
   * The default free-space watermark's floor, 1 GiB; the default is the larger of this and {@value
   * DiskSpace#DEFAULT_MIN_FREE_PERCENT}% of the filesystem holding the data.
   */
  public static final long DEFAULT_MIN_FREE_DISK_BYTES = DiskSpace.DEFAULT_MIN_FREE_BYTES;

  /** 10,000 subscriptions, one per connected Local. */
  public static final int DEFAULT_MAX_SUBSCRIPTIONS = 10_000;

  /** How long {@link #close()} lets calls in flight run before it cuts them. */
  public static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(GlobalServer.class);

  private final Builder config;
  private final Object lifecycle = new Object();

  @GuardedBy("lifecycle")
  private @Nullable Storage storage;

  @GuardedBy("lifecycle")
  private @Nullable ServerStack server;

  @GuardedBy("lifecycle")
  private @Nullable InvalidationHub hub;

  @GuardedBy("lifecycle")
  private @Nullable GlobalService service;

  @GuardedBy("lifecycle")
  private @Nullable ExecutorService callbacks;

  @GuardedBy("lifecycle")
  private @Nullable ScheduledExecutorService timers;

  @GuardedBy("lifecycle")
  private @Nullable PrometheusMeterRegistry registry;

  @GuardedBy("lifecycle")
  private @Nullable GlobalMetrics metrics;

  @GuardedBy("lifecycle")
  private @Nullable DiskSpace diskSpace;

  @GuardedBy("lifecycle")
  private @Nullable ClusterGateway cluster;

  @GuardedBy("lifecycle")
  private boolean started;

  @GuardedBy("lifecycle")
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
      callbacks = Executors.newCachedThreadPool(daemonThreads("dstore-global"));
      timers = Executors.newSingleThreadScheduledExecutor(daemonThreads("dstore-global-timer"));
      Duration renew =
          config.renewInterval != null ? config.renewInterval : config.lease.dividedBy(4);
      if (config.cluster != null) {
        try {
          cluster = ClusterGateway.open(config.cluster, config.lease, config.nanoClock, timers);
        } catch (IOException | RuntimeException e) {
          closed = true;
          closeQuietly();
          throw new StoreUnavailableException(
              "cannot join the cluster store at etcd "
                  + config.cluster.etcdEndpoints()
                  + ": "
                  + e.getMessage(),
              e);
        }
        storage = cluster.storage();
        hub = cluster.newHub(config.lease.toNanos(), renew.toMillis(), config.invalidationLogSize);
      } else {
        storage = config.storage != null ? config.storage : Storage.memory();
        hub =
            new InvalidationHub(
                config.lease.toNanos(),
                renew.toMillis(),
                config.invalidationLogSize,
                config.nanoClock,
                timers);
      }
      Limits limits =
          new Limits(config.maxKeyBytes, config.maxValueBytes, config.maxMessageBytes());
      ConnectionLimiter connections = new ConnectionLimiter(config.maxConnections);
      SubscriptionLimiter subscriptions = new SubscriptionLimiter(config.maxSubscriptions);
      registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      metrics = new GlobalMetrics(registry, storage, hub, connections::open, subscriptions::open);
      try {
        diskSpace = diskSpace(storage);
      } catch (IOException | RuntimeException e) {
        closed = true;
        closeQuietly();
        throw e;
      }
      if (diskSpace != null) {
        metrics.diskSpace(diskSpace);
        diskSpace.start();
      }
      // A gateway starts with no Locals, and leases of an earlier run ended with its etcd lease.
      Duration grace =
          cluster != null
              ? Duration.ZERO
              : config.startupGrace != null ? config.startupGrace : config.lease;
      DeleteCoordinator coordinator =
          new DeleteCoordinator(
              config.coherence,
              storage,
              hub,
              grace,
              config.nanoClock,
              config.wallClock,
              timers,
              callbacks,
              metrics);
      Deletes deletes = coordinator;
      if (cluster != null) {
        try {
          deletes = cluster.start(hub, config.coherence, coordinator, callbacks, config.wallClock);
        } catch (IOException | RuntimeException e) {
          closed = true;
          closeQuietly();
          throw new StoreUnavailableException(
              "cannot join the cluster store: " + e.getMessage(), e);
        }
      }
      service =
          new GlobalService(
              storage,
              hub,
              deletes,
              limits,
              callbacks,
              ServerSetup.idleTimeout(timers, config.idleStreamTimeout(), config.nanoClock),
              metrics,
              diskSpace);
      ServerStack.Builder stack =
          ServerStack.builder("Global", service)
              .options(config)
              .registry(registry)
              .executor(callbacks)
              .callExecutor(new CallExecutors(callbacks))
              // Outermost last: metrics see every refusal; the token is checked before anything
              // counts against the subscription limit.
              .innerInterceptors(subscriptions)
              .outerInterceptors(connections)
              .metricsInterceptor(metrics.interceptor())
              .transportFilter(connections);
      try {
        server = stack.start();
      } catch (IOException | RuntimeException e) {
        closed = true;
        closeQuietly();
        throw e;
      }
      if (cluster != null) {
        cluster.announce(address());
        cluster.bindMetrics(registry);
      }
      log.info(
          "Global started on {} with {} storage, {} coherence, {} ms leases, {}{}",
          address(),
          storage.describe(),
          config.coherence.name().toLowerCase(java.util.Locale.ROOT),
          config.lease.toMillis(),
          server.describeSecurity(),
          server.metricsPort() >= 0
              ? ", metrics on http://"
                  + config.metricsHost()
                  + ":"
                  + server.metricsPort()
                  + "/metrics"
              : "");
      return this;
    }
  }

  /**
   * The free-space watermark of {@code storage}, or null when there is nothing to watch: a storage
   * not on a disk (memory), unless a test gave a free-space source.
   */
  private @Nullable DiskSpace diskSpace(Storage storage) throws IOException {
    SpaceAware onDisk = storage instanceof SpaceAware a ? a : null;
    LongSupplier testSource = config.freeSpace;
    if (testSource != null) {
      long watermark = config.minFreeDisk >= 0 ? config.minFreeDisk : DEFAULT_MIN_FREE_DISK_BYTES;
      return new DiskSpace(
          testSource::getAsLong, watermark, "the test's disk", onDisk, config.nanoClock);
    }
    if (onDisk == null) {
      return null;
    }
    FileStore store = DiskSpace.fileStore(onDisk.directory());
    long watermark =
        config.minFreeDisk >= 0
            ? config.minFreeDisk
            : DiskSpace.defaultWatermark(store.getTotalSpace());
    DiskSpace space =
        new DiskSpace(
            DiskSpace.of(store),
            watermark,
            onDisk.directory() + "'s filesystem",
            onDisk,
            config.nanoClock);
    if (watermark > 0 && space.freeBytes() < watermark) {
      log.warn(
          "Free disk space on {}'s filesystem is below the watermark (--min-free-disk): new values"
              + " are refused until space is freed",
          onDisk.directory());
    }
    return space;
  }

  /** The host the server listens on (or the in-process name). */
  public String host() {
    String inProcess = config.inProcessName();
    return inProcess != null ? inProcess : config.listenHost();
  }

  /** The port bound (the real one when 0 was asked for); -1 for an in-process server. */
  public int port() {
    synchronized (lifecycle) {
      if (config.inProcessName() != null) {
        return -1;
      }
      return server != null ? server.port() : config.listenPort();
    }
  }

  /** {@code host:port}, as Locals should be given it. */
  public String address() {
    String host = host();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
  }

  /**
   * The port serving {@code /metrics}: the real one when 0 was asked for.
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

  /** The meters in Prometheus' text format, as {@code /metrics} serves them. */
  public String scrapeMetrics() {
    synchronized (lifecycle) {
      if (registry == null) {
        throw new IllegalStateException("not started");
      }
      return registry.scrape();
    }
  }

  static {
    ServerInternals.provideHubs(GlobalServer::hub);
  }

  /** The coherence hub; reached by tests through {@link ServerInternals}. */
  private InvalidationHub hub() {
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
    ServerStack s;
    synchronized (lifecycle) {
      s = server;
    }
    if (s != null) {
      s.awaitTermination();
    }
  }

  /**
   * Stops gracefully, in a bounded time: at once, health turns NOT_SERVING, new calls are refused,
   * subscriptions and pipelines end (Locals start reconnecting) and strict deletes still waiting
   * for acknowledgements fail with UNAVAILABLE, keeping their keys; calls in flight get up to
   * {@link #SHUTDOWN_GRACE} to finish, then are cut (an upload cut short is aborted and leaves
   * nothing), and their handlers get up to two more seconds; then the storage is closed, which
   * waits for the storage operation in flight, if any. Idempotent.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closed || !started) {
        closed = true;
        return;
      }
      closed = true;
      long start = System.nanoTime();
      if (server != null && hub != null && service != null) { // all set once started
        server.stopServing();
        hub.close();
        service.closePipelines();
        server.shutdown(SHUTDOWN_GRACE);
      }
      long callsEnded = System.nanoTime();
      closeQuietly();
      long end = System.nanoTime();
      log.info(
          "Global stopped in {} ms ({} ms for calls in flight, {} ms to close the storage)",
          (end - start) / 1_000_000,
          (callsEnded - start) / 1_000_000,
          (end - callsEnded) / 1_000_000);
    }
  }

  @GuardedBy("lifecycle")
  private void closeQuietly() {
    if (diskSpace != null) {
      diskSpace.close();
    }
    if (cluster != null) {
      cluster.close(); // leaves the cluster at once, then closes the store and the clients
    }
    if (timers != null) {
      timers.shutdownNow();
    }
    if (callbacks != null) {
      callbacks.shutdown();
    }
    if (storage != null && cluster == null) {
      storage.close();
    }
    if (metrics != null) {
      metrics.close();
    }
    if (registry != null) {
      registry.close();
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
  public static final class Builder extends ServerOptions<Builder> {
    private @Nullable Storage storage;
    private Coherence coherence = Coherence.STRICT;
    private Duration lease = DEFAULT_LEASE;
    private @Nullable Duration renewInterval;
    private @Nullable Duration startupGrace;
    private int invalidationLogSize = DEFAULT_INVALIDATION_LOG;
    private int maxKeyBytes = DEFAULT_MAX_KEY_BYTES;
    private long maxValueBytes = DEFAULT_MAX_VALUE_BYTES;
    private LongSupplier nanoClock = System::nanoTime;
    private InstantSource wallClock = InstantSource.system();
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private int maxSubscriptions = DEFAULT_MAX_SUBSCRIPTIONS;
    private long minFreeDisk = -1; // the default: see minFreeDiskBytes
    private @Nullable LongSupplier freeSpace;
    private @Nullable ClusterConfig cluster;

    private Builder() {
      super(50051);
    }

    @Override
    protected Builder self() {
      return this;
    }

    /**
     * Runs this server as a gateway of the cluster store described by {@code cluster} (etcd for
     * metadata and order, S3 for the bytes of larger values) instead of over a {@link #storage}:
     * any number of gateways may share one cluster. Default: none.
     */
    public Builder cluster(ClusterConfig cluster) {
      this.cluster = requireNonNull(cluster, "cluster");
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

    /**
     * Connections that may make calls at once (default 10,000). Calls on connections beyond it are
     * refused with RESOURCE_EXHAUSTED ({@code too many connections}) until another closes.
     */
    public Builder maxConnections(int connections) {
      if (connections < 1) {
        throw new IllegalArgumentException("max connections must be >= 1, got " + connections);
      }
      this.maxConnections = connections;
      return this;
    }

    /**
     * Subscriptions (connected Locals) open at once (default 10,000); one more is refused with
     * RESOURCE_EXHAUSTED ({@code too many subscriptions}).
     */
    public Builder maxSubscriptions(int subscriptions) {
      if (subscriptions < 1) {
        throw new IllegalArgumentException("max subscriptions must be >= 1, got " + subscriptions);
      }
      this.maxSubscriptions = subscriptions;
      return this;
    }

    /**
     * Free space to keep on the filesystem holding the data (default: the larger of 1 GiB and
     * {@value DiskSpace#DEFAULT_MIN_FREE_PERCENT}% of that filesystem; 0 turns the check off).
     * Below it, new values (unary, pipelined and streamed puts, content-addressed ones included)
     * are refused with {@code NO_SPACE} (status RESOURCE_EXHAUSTED), naming the free space, the
     * watermark and {@code --min-free-disk}; deletes, which free space, and reads still work. Free
     * space is read at most every 250 ms and every second in the background, which also lets a
     * storage that stopped writing after the disk filled up (RocksDB's sticky background error)
     * resume once space is back, with no restart. Applies to a storage on a disk (RocksDB).
     */
    public Builder minFreeDiskBytes(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("min free disk must be >= 0 bytes, got " + bytes);
      }
      this.minFreeDisk = bytes;
      return this;
    }

    /**
     * Where free disk space is read from, in bytes (default: the data directory's filesystem,
     * {@link java.nio.file.FileStore#getUsableSpace}); with it, the watermark applies to any
     * storage, memory included, and defaults to 1 GiB. For tests: a real full disk needs root to
     * make.
     */
    public Builder freeSpace(LongSupplier usableBytes) {
      this.freeSpace = requireNonNull(usableBytes, "usableBytes");
      return this;
    }

    /**
     * Monotonic clock in nanoseconds (default {@link System#nanoTime}) for everything the protocol
     * times: leases, strict deletes' waits, the startup grace, idle members and idle streams. For
     * tests.
     */
    public Builder nanoClock(LongSupplier nanoClock) {
      this.nanoClock = requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    /**
     * Wall clock (default {@link InstantSource#system()}) used only to stamp each invalidation's
     * {@code deleted_at_unix_nanos}. For tests.
     */
    public Builder wallClock(InstantSource wallClock) {
      this.wallClock = requireNonNull(wallClock, "wallClock");
      return this;
    }

    public GlobalServer build() {
      if (renewInterval != null && renewInterval.compareTo(lease) >= 0) {
        throw new IllegalArgumentException(
            "renew interval " + renewInterval + " must be shorter than the lease " + lease);
      }
      checkConsistent();
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
