package io.dstore;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * How a Local behaves: its cache budget, transfer chunking, timeouts, reconnection, credentials and
 * the clock its leases run on. Immutable; build one with {@link #builder()}. {@link #defaults()}
 * suits most uses.
 */
public final class DstoreOptions {
  /** 256 MiB. */
  public static final long DEFAULT_CACHE_SIZE = 256L << 20;

  /** Values larger than cache size / 8 are streamed through without being cached. */
  public static final int DEFAULT_ADMISSION_DIVISOR = 8;

  /** 1 MiB. */
  public static final int DEFAULT_CHUNK_SIZE = 1 << 20;

  private static final DstoreOptions DEFAULTS = builder().build();

  private final long cacheSizeBytes;
  private final int admissionDivisor;
  private final int chunkSize;
  private final Duration requestTimeout;
  private final Duration reconnectInitialBackoff;
  private final Duration reconnectMaxBackoff;
  private final String name;
  private final boolean coherentCache;
  private final @Nullable Path tlsCa;
  private final @Nullable Path tlsCert;
  private final @Nullable Path tlsKey;
  private final @Nullable String token;
  private final LongSupplier nanoClock;

  private DstoreOptions(Builder b) {
    this.cacheSizeBytes = b.cacheSizeBytes;
    this.admissionDivisor = b.admissionDivisor;
    this.chunkSize = b.chunkSize;
    this.requestTimeout = b.requestTimeout;
    this.reconnectInitialBackoff = b.reconnectInitialBackoff;
    this.reconnectMaxBackoff = b.reconnectMaxBackoff;
    this.name = b.name;
    this.coherentCache = b.coherentCache;
    this.tlsCa = b.tlsCa;
    this.tlsCert = b.tlsCert;
    this.tlsKey = b.tlsKey;
    this.token = b.token;
    this.nanoClock = b.nanoClock;
  }

  /** The default options: a 256 MiB cache, 1 MiB chunks, 30 s timeouts, plaintext, no token. */
  public static DstoreOptions defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder preset with these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.cacheSizeBytes = cacheSizeBytes;
    b.admissionDivisor = admissionDivisor;
    b.chunkSize = chunkSize;
    b.requestTimeout = requestTimeout;
    b.reconnectInitialBackoff = reconnectInitialBackoff;
    b.reconnectMaxBackoff = reconnectMaxBackoff;
    b.name = name;
    b.coherentCache = coherentCache;
    b.tlsCa = tlsCa;
    b.tlsCert = tlsCert;
    b.tlsKey = tlsKey;
    b.token = token;
    b.nanoClock = nanoClock;
    return b;
  }

  /** Upper bound of the cache, in bytes of cached values. */
  public long cacheSizeBytes() {
    return cacheSizeBytes;
  }

  /** Values larger than {@code cacheSizeBytes / admissionDivisor} are never cached. */
  public int admissionDivisor() {
    return admissionDivisor;
  }

  /** Largest value that is admitted to the cache. */
  public long maxCachedValueBytes() {
    return cacheSizeBytes / admissionDivisor;
  }

  /** Size of the chunks that streamed transfers use. */
  public int chunkSize() {
    return chunkSize;
  }

  /** Deadline of one unary call to Global (a streamed transfer gets it per chunk). */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** First wait before reconnecting to Global (default 50 ms); doubled on each failure. */
  public Duration reconnectInitialBackoff() {
    return reconnectInitialBackoff;
  }

  /**
   * Longest wait between reconnection attempts (default 2 s): a Local that lost Global tries again
   * at most this long after its last attempt. A call made meanwhile does not wait for the backoff:
   * it tries to connect at once, and waits briefly (at most 500 ms, and at most {@link
   * #requestTimeout()}) for that attempt before it fails UNAVAILABLE.
   */
  public Duration reconnectMaxBackoff() {
    return reconnectMaxBackoff;
  }

  /** Free-text name of this Local, shown in Global's logs and metrics. */
  public String name() {
    return name;
  }

  /**
   * True (the default) for a caching Local that joins Global and holds a lease. False for a thin
   * client that caches nothing and forwards every call, as used against a Local daemon.
   */
  public boolean coherentCache() {
    return coherentCache;
  }

  /** CA certificate (PEM) to trust for TLS; empty for plaintext. */
  public Optional<Path> tlsCa() {
    return Optional.ofNullable(tlsCa);
  }

  /** Client certificate chain (PEM) for mutual TLS; empty when none. */
  public Optional<Path> tlsCert() {
    return Optional.ofNullable(tlsCert);
  }

  /** Private key (PEM, PKCS#8) of {@link #tlsCert()}. */
  public Optional<Path> tlsKey() {
    return Optional.ofNullable(tlsKey);
  }

  /** Bearer token sent on every call; empty when none. Never logged. */
  public Optional<String> token() {
    return Optional.ofNullable(token);
  }

  /**
   * The monotonic clock, in nanoseconds, that the Local's lease runs on ({@link System#nanoTime} by
   * default). See {@link Builder#nanoClock}.
   */
  public LongSupplier nanoClock() {
    return nanoClock;
  }

  @Override
  public String toString() {
    return "DstoreOptions{cacheSizeBytes="
        + cacheSizeBytes
        + ", admissionDivisor="
        + admissionDivisor
        + ", chunkSize="
        + chunkSize
        + ", requestTimeout="
        + requestTimeout
        + ", coherentCache="
        + coherentCache
        + ", tls="
        + (tlsCa != null)
        + ", token="
        + (token != null ? "<set>" : "<none>")
        + "}";
  }

  /**
   * Builds {@link DstoreOptions}. Every setter validates its argument at once: an argument out of
   * range throws {@link IllegalArgumentException} and a {@code null} one {@link
   * NullPointerException}, from the setter (or from {@link #build()} for options that do not go
   * together), as a programming error, not as a {@link io.dstore.wire.DstoreException}. Whether the
   * options can be used (TLS files that can be read and parsed, say) is checked only by {@link
   * Dstore#connect(String, DstoreOptions)}, which reports it as a {@code DstoreException}.
   */
  public static final class Builder {
    private long cacheSizeBytes = DEFAULT_CACHE_SIZE;
    private int admissionDivisor = DEFAULT_ADMISSION_DIVISOR;
    private int chunkSize = DEFAULT_CHUNK_SIZE;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration reconnectInitialBackoff = Duration.ofMillis(50);
    private Duration reconnectMaxBackoff = Duration.ofSeconds(2);
    private String name = defaultName();
    private boolean coherentCache = true;
    private @Nullable Path tlsCa;
    private @Nullable Path tlsCert;
    private @Nullable Path tlsKey;
    private @Nullable String token;
    private LongSupplier nanoClock = System::nanoTime;

    private Builder() {}

    /** Bytes of values the cache may hold; 0 disables caching. */
    public Builder cacheSizeBytes(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("cache size must be >= 0 bytes, got " + bytes);
      }
      this.cacheSizeBytes = bytes;
      return this;
    }

    /** Values above {@code cacheSize / divisor} bypass the cache (default 8). */
    public Builder admissionDivisor(int divisor) {
      if (divisor < 1) {
        throw new IllegalArgumentException("admission divisor must be >= 1, got " + divisor);
      }
      this.admissionDivisor = divisor;
      return this;
    }

    /** Chunk size of streamed transfers, 4 KiB to 4 MiB (default 1 MiB). */
    public Builder chunkSize(int bytes) {
      if (bytes < 4096 || bytes > (4 << 20)) {
        throw new IllegalArgumentException(
            "chunk size must be between 4 KiB and 4 MiB, got " + bytes + " bytes");
      }
      this.chunkSize = bytes;
      return this;
    }

    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "request timeout");
      return this;
    }

    /**
     * The reconnection backoff: the first wait after Global is lost, doubled on each failed attempt
     * up to {@code max} (defaults 50 ms and 2 s).
     */
    public Builder reconnectBackoff(Duration initial, Duration max) {
      positive(initial, "initial backoff");
      positive(max, "max backoff");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("max backoff " + max + " < initial backoff " + initial);
      }
      this.reconnectInitialBackoff = initial;
      this.reconnectMaxBackoff = max;
      return this;
    }

    public Builder name(String name) {
      this.name = requireNonNull(name, "name");
      return this;
    }

    /** See {@link DstoreOptions#coherentCache()}. */
    public Builder coherentCache(boolean coherentCache) {
      this.coherentCache = coherentCache;
      return this;
    }

    /** Use TLS, trusting the CA certificate in this PEM file. */
    public Builder tlsCa(Path caPem) {
      this.tlsCa = requireNonNull(caPem, "caPem");
      return this;
    }

    /** Present this client certificate (mutual TLS). */
    public Builder tlsClientCertificate(Path certPem, Path keyPem) {
      this.tlsCert = requireNonNull(certPem, "certPem");
      this.tlsKey = requireNonNull(keyPem, "keyPem");
      return this;
    }

    /** Send this bearer token on every call. */
    public Builder token(String token) {
      requireNonNull(token, "token");
      if (token.isBlank()) {
        throw new IllegalArgumentException("token is blank");
      }
      this.token = token.strip();
      return this;
    }

    /**
     * The monotonic clock, in nanoseconds, that the Local's lease runs on and that its lease
     * renewal is timed by (default {@link System#nanoTime}): only differences between its readings
     * count, and they must never go backwards. For tests, which advance a fake clock to make a
     * lease run out without waiting. Timeouts of calls and the reconnection backoff are waits on
     * the real clock whatever this is.
     */
    public Builder nanoClock(LongSupplier nanoClock) {
      this.nanoClock = requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    /**
     * @throws IllegalArgumentException if a client certificate was given without {@link #tlsCa}
     */
    public DstoreOptions build() {
      if (tlsCert != null && tlsCa == null) {
        throw new IllegalArgumentException("a client certificate needs tlsCa as well");
      }
      return new DstoreOptions(this);
    }

    private static Duration positive(Duration d, String what) {
      requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }

    private static String defaultName() {
      String host = System.getenv().getOrDefault("HOSTNAME", "local");
      return host + "/" + ProcessHandle.current().pid();
    }
  }
}
