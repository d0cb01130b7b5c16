package io.dstore.serving;

import static java.util.Objects.requireNonNull;

import io.dstore.wire.BearerToken;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The options every dstore server takes, Global and the Local daemon alike: where to listen, TLS,
 * the token, {@code /metrics}, message and stream limits, the idle-stream timeout. Each server's
 * builder extends it, so the two cannot drift apart; {@link ServerStack.Builder#options} applies
 * them. Every setter validates its argument at once and throws {@link IllegalArgumentException} (or
 * {@link NullPointerException}) for a bad one. Not thread-safe, like any builder.
 *
 * @param <B> the builder's own type, returned by every setter
 */
public abstract class ServerOptions<B extends ServerOptions<B>> {
  /** 4 MiB. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 4 << 20;

  /** 1,000 concurrent calls (HTTP/2 streams) per connection. */
  public static final int DEFAULT_MAX_STREAMS_PER_CONNECTION = 1_000;

  /** 30 seconds. */
  public static final Duration DEFAULT_IDLE_STREAM_TIMEOUT = Duration.ofSeconds(30);

  String host = "127.0.0.1";
  int port;
  @Nullable String inProcessName;
  @Nullable Path tlsCert;
  @Nullable Path tlsKey;
  @Nullable Path tlsClientCa;
  @Nullable BearerToken token;
  @Nullable String metricsHost;
  int metricsPort;
  int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
  int maxStreamsPerConnection = DEFAULT_MAX_STREAMS_PER_CONNECTION;
  Duration idleStreamTimeout = DEFAULT_IDLE_STREAM_TIMEOUT;

  /** Options that listen on 127.0.0.1:{@code defaultPort} unless told otherwise. */
  protected ServerOptions(int defaultPort) {
    this.port = defaultPort;
  }

  /** This builder, for chaining. */
  protected abstract B self();

  /** Address to listen on; port 0 picks a free port. */
  public B listen(String host, int port) {
    this.host = requireNonNull(host, "host");
    this.port = checkPort(port, "port");
    return self();
  }

  /** Serve over gRPC's in-process transport under {@code name}, without a socket (tests). */
  public B inProcess(String name) {
    this.inProcessName = requireNonNull(name, "name");
    return self();
  }

  /**
   * Serve TLS with this certificate chain and private key (PEM files; the key in PKCS#8, {@code
   * BEGIN PRIVATE KEY}), read at start. Ignored in process, where there is no socket.
   */
  public B tls(Path certChainPem, Path privateKeyPem) {
    this.tlsCert = requireNonNull(certChainPem, "certChainPem");
    this.tlsKey = requireNonNull(privateKeyPem, "privateKeyPem");
    return self();
  }

  /**
   * Mutual TLS: require every client to present a certificate signed by a CA in this PEM file; the
   * handshake fails for any other client. Needs {@link #tls}.
   */
  public B tlsClientCa(Path caPem) {
    this.tlsClientCa = requireNonNull(caPem, "caPem");
    return self();
  }

  /**
   * Require {@code authorization: Bearer <token>} on every call to the dstore service (not the
   * health or reflection services). Surrounding white space is stripped; the token must then be
   * printable ASCII without spaces (see {@link BearerToken#of}). It is never logged.
   */
  public B token(String token) {
    this.token = BearerToken.of(requireNonNull(token, "token"));
    return self();
  }

  /**
   * Serve the metrics at {@code http://host:port/metrics} (Prometheus text format); port 0 picks a
   * free port. Off by default.
   */
  public B metricsListen(String host, int port) {
    this.metricsHost = requireNonNull(host, "host");
    this.metricsPort = checkPort(port, "metrics port");
    return self();
  }

  /** Largest gRPC message accepted (default 4 MiB); larger values must be streamed. */
  public B maxMessageBytes(int bytes) {
    if (bytes < 64 << 10) {
      throw new IllegalArgumentException("max message size must be >= 64 KiB, got " + bytes);
    }
    this.maxMessageBytes = bytes;
    return self();
  }

  /**
   * Concurrent calls per connection (default 1,000), sent to clients as HTTP/2's {@code
   * SETTINGS_MAX_CONCURRENT_STREAMS}. A client at the limit queues further calls until one ends
   * (grpc-java does), so this bounds the server's work per connection without failing calls; a
   * client that ignores the setting has its extra streams reset. Sockets only.
   */
  public B maxStreamsPerConnection(int streams) {
    if (streams < 1) {
      throw new IllegalArgumentException("max streams per connection must be >= 1, got " + streams);
    }
    this.maxStreamsPerConnection = streams;
    return self();
  }

  /**
   * How long an upload may receive nothing, or a download's client read nothing, before the stream
   * is cut off with UNAVAILABLE (default 30 s). A cut-off upload leaves nothing.
   */
  public B idleStreamTimeout(Duration timeout) {
    requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("idle stream timeout must be positive, got " + timeout);
    }
    this.idleStreamTimeout = timeout;
    return self();
  }

  /** The host to listen on. */
  public String listenHost() {
    return host;
  }

  /** The port to listen on (0: any free one). */
  public int listenPort() {
    return port;
  }

  /** The in-process name, or null for a socket. */
  public @Nullable String inProcessName() {
    return inProcessName;
  }

  /** The host serving {@code /metrics}, or null when metrics are not served. */
  public @Nullable String metricsHost() {
    return metricsHost;
  }

  public int maxMessageBytes() {
    return maxMessageBytes;
  }

  public Duration idleStreamTimeout() {
    return idleStreamTimeout;
  }

  /**
   * Checks the options that must agree with each other; call from {@code build()}.
   *
   * @throws IllegalArgumentException if client certificates are asked for without TLS
   */
  protected void checkConsistent() {
    if (tlsClientCa != null && tlsCert == null) {
      throw new IllegalArgumentException(
          "client certificates (tlsClientCa) need TLS: give tls(certificate, key) as well");
    }
  }

  private static int checkPort(int port, String what) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(what + " must be 0..65535, got " + port);
    }
    return port;
  }
}
