package io.dstore.server;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.time.Duration;
import java.util.function.LongSupplier;

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

  private final Builder config;

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
   */
  public GlobalServer start() throws IOException {
    throw new IOException("not built yet: " + config.host);
  }

  /** The host the server listens on (or the in-process name). */
  public String host() {
    return config.host;
  }

  /** The port bound (the real one when 0 was asked for); -1 for an in-process server. */
  public int port() {
    return config.port;
  }

  /** {@code host:port}, as Locals should be given it. */
  public String address() {
    return config.host + ":" + port();
  }

  /** Blocks until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    throw new InterruptedException("not built yet");
  }

  /** Stops gracefully and closes the storage. Idempotent. */
  @Override
  public void close() {}

  /** Configures a {@link GlobalServer}; every setter validates its argument at once. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 50051;
    private String inProcessName;
    private Storage storage;
    private Coherence coherence = Coherence.STRICT;
    private Duration lease = DEFAULT_LEASE;
    private Duration renewInterval;
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
