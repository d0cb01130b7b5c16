package io.dstore.internal;

import io.dstore.DstoreOptions;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Builds the channel a Local uses to reach Global (or a Local daemon): TLS when {@link
 * DstoreOptions#tlsCa()} is set (with the client certificate, if any, for mutual TLS), plaintext
 * otherwise; and the bearer token, if any, on every call.
 */
final class Channels {
  /** The header that carries the token. */
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private Channels() {}

  /** Checks that {@code target} is {@code host:port} with a valid port. */
  static void checkTarget(String target) {
    int colon = target.lastIndexOf(':');
    if (colon <= 0 || colon == target.length() - 1) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "address must be HOST:PORT, got '" + target + "'");
    }
    try {
      int port = Integer.parseInt(target.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new DstoreException(ErrorCode.INVALID_ARGUMENT, "port must be 1..65535, got " + port);
      }
    } catch (NumberFormatException e) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "address must be HOST:PORT, got '" + target + "'");
    }
  }

  /**
   * Opens a channel to {@code target}.
   *
   * @throws DstoreException INVALID_ARGUMENT if the address is malformed, a TLS file cannot be read
   *     or parsed, or the token cannot travel in a header (never IllegalArgumentException)
   */
  static ManagedChannel open(String target, DstoreOptions options) {
    checkTarget(target);
    NettyChannelBuilder builder;
    try {
      builder =
          options.tlsCa().isPresent()
              ? NettyChannelBuilder.forTarget(target, tls(options))
              : NettyChannelBuilder.forTarget(target).usePlaintext();
    } catch (IllegalArgumentException e) {
      // Netty parses the certificates and the key only here, and says what is wrong with an IAE.
      String what =
          options.tlsCa().isPresent()
              ? "cannot use the TLS files given (CA "
                  + options.tlsCa().get()
                  + options.tlsCert().map(cert -> ", client certificate " + cert).orElse("")
                  + options.tlsKey().map(key -> ", client key " + key).orElse("")
                  + ")"
              : "cannot open a channel to " + target;
      throw new DstoreException(ErrorCode.INVALID_ARGUMENT, what + ": " + e.getMessage(), e);
    }
    options.token().ifPresent(token -> builder.intercept(bearer(token)));
    try {
      return builder
          .keepAliveTime(10, TimeUnit.SECONDS)
          .keepAliveTimeout(5, TimeUnit.SECONDS)
          .keepAliveWithoutCalls(true)
          .maxInboundMessageSize(Integer.MAX_VALUE)
          .userAgent("dstore-local")
          .build();
    } catch (IllegalArgumentException e) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT,
          "cannot open a channel to " + target + ": " + e.getMessage(),
          e);
    }
  }

  private static ChannelCredentials tls(DstoreOptions options) {
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
    try {
      tls.trustManager(read(options.tlsCa().orElseThrow(), "TLS CA certificate"));
      if (options.tlsCert().isPresent()) {
        tls.keyManager(
            read(options.tlsCert().get(), "TLS client certificate"),
            read(options.tlsKey().orElseThrow(), "TLS client key"));
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new DstoreException(ErrorCode.INVALID_ARGUMENT, e.getMessage(), e);
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

  /** Adds {@code authorization: Bearer <token>} to every call. */
  static ClientInterceptor bearer(String token) {
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT,
            "token must be printable ASCII without spaces (character " + (i + 1) + " is not)");
      }
    }
    String value = "Bearer " + token;
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(
          MethodDescriptor<Q, R> method, CallOptions callOptions, Channel next) {
        return new SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
          @Override
          public void start(Listener<R> responseListener, Metadata headers) {
            headers.put(AUTHORIZATION, value);
            super.start(responseListener, headers);
          }
        };
      }
    };
  }
}
