package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.channel.unix.Errors;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * How a command reaches Global (or a Local daemon): {@code --global HOST:PORT} (or a cluster's
 * gateways, {@code --global H1:P1,H2:P2}), TLS ({@code --tls-ca}, and {@code --tls-cert}/{@code
 * --tls-key} for a client certificate) and the bearer token ({@code --token-file}, else the {@code
 * DSTORE_TOKEN} environment variable). A mixin of {@code local} and of every one-shot command.
 */
final class ClientOptions {
  /** Deadline of a one-shot call: a Global that is down or silent fails the command this fast. */
  static final Duration ONE_SHOT_TIMEOUT = Duration.ofSeconds(10);

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--global",
      paramLabel = "HOST:PORT[,HOST:PORT...]",
      defaultValue = "127.0.0.1:50051",
      converter = Globals.Converter.class,
      description =
          "Address of Global, or of a Local daemon ('dstore local --listen')"
              + " (default: ${DEFAULT-VALUE}). For a cluster store, its gateways separated by"
              + " commas: the Local talks to the first and moves to the next when it fails.")
  Globals global;

  /**
   * The addresses given to {@code --global}: one, or a cluster's gateways in the order given.
   *
   * @param addresses at least one, no two equal
   */
  record Globals(java.util.List<HostPort> addresses) {
    Globals {
      addresses = java.util.List.copyOf(addresses);
    }

    static Globals of(HostPort address) {
      return new Globals(java.util.List.of(address));
    }

    /**
     * Parses {@code H1:P1[,H2:P2...]}.
     *
     * @throws IllegalArgumentException naming the problem: an empty list or entry, an entry that is
     *     not HOST:PORT with a port from 1 to 65535, an address given twice
     */
    static Globals parse(String text) {
      if (text.isBlank()) {
        throw new IllegalArgumentException("no address given: expected HOST:PORT[,HOST:PORT...]");
      }
      String[] entries = text.split(",", -1);
      java.util.List<HostPort> list = new java.util.ArrayList<>(entries.length);
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (int i = 0; i < entries.length; i++) {
        if (entries[i].isBlank()) {
          throw new IllegalArgumentException(
              "address "
                  + (i + 1)
                  + " of '"
                  + text
                  + "' is empty: expected HOST:PORT[,HOST:PORT...]");
        }
        HostPort address = HostPort.parse(entries[i], false);
        if (!seen.add(address.toString())) {
          throw new IllegalArgumentException(
              address + " is given twice in '" + text + "': list each gateway once");
        }
        list.add(address);
      }
      return new Globals(list);
    }

    /** As given to {@link Dstore#connect}: {@code h1:p1,h2:p2}. */
    @Override
    public String toString() {
      return String.join(",", addresses.stream().map(HostPort::toString).toList());
    }

    /** picocli converter for {@code --global}. */
    static final class Converter implements picocli.CommandLine.ITypeConverter<Globals> {
      @Override
      public Globals convert(String value) {
        try {
          return parse(value);
        } catch (IllegalArgumentException e) {
          throw new picocli.CommandLine.TypeConversionException(e.getMessage());
        }
      }
    }
  }

  @Option(
      names = "--tls-ca",
      paramLabel = "FILE",
      description =
          "Talk TLS, trusting the CA certificate(s) in this PEM file to have signed the server's"
              + " certificate. Without it: plaintext.")
  Path tlsCa;

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description =
          "Client certificate (PEM) to present, for a server that requires one (mutual TLS);"
              + " needs --tls-key and --tls-ca.")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "Private key of --tls-cert (PEM, PKCS#8: 'BEGIN PRIVATE KEY').")
  Path tlsKey;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "File holding the token the server requires (surrounding white space ignored)."
              + " Default: the "
              + Credentials.TOKEN_VARIABLE
              + " environment variable, if set.")
  Path tokenFile;

  /**
   * Adds the TLS files and the token to {@code options}.
   *
   * @throws ParameterException (exit 2) for options that do not go together
   * @throws Failure (exit 2) for a file that cannot be read or a token that cannot be sent
   */
  DstoreOptions.Builder apply(DstoreOptions.Builder options, Env env) {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw usage("--tls-cert and --tls-key go together: give both or neither");
    }
    if (tlsCert != null && tlsCa == null) {
      throw usage("--tls-cert needs --tls-ca: a client certificate is only sent over TLS");
    }
    if (tlsCa != null) {
      options.tlsCa(Credentials.readable(tlsCa, "--tls-ca"));
    }
    if (tlsCert != null) {
      options.tlsClientCertificate(
          Credentials.readable(tlsCert, "--tls-cert"), Credentials.readable(tlsKey, "--tls-key"));
    }
    String token =
        tokenFile != null
            ? Credentials.tokenFile(tokenFile, "--token-file")
            : Credentials.tokenFromEnvironment(env);
    if (token != null) {
      options.token(token);
    }
    return options;
  }

  /**
   * A thin client for one call: no cache, no subscription, nothing registered at Global. Calls fail
   * at once when Global refuses connections, and after {@link #ONE_SHOT_TIMEOUT} when it does not
   * answer.
   */
  Dstore connectThin(Env env) {
    DstoreOptions.Builder options =
        DstoreOptions.builder()
            .coherentCache(false)
            .cacheSizeBytes(0)
            .requestTimeout(ONE_SHOT_TIMEOUT)
            .name("dstore-cli");
    return connect(global, apply(options, env).build());
  }

  /**
   * Connects to {@code target}.
   *
   * @throws Failure (exit 2) if the TLS files cannot be used (a CA file that holds no certificate,
   *     say): with TLS options given, the one thing {@link Dstore#connect} still refuses as {@link
   *     ErrorCode#INVALID_ARGUMENT}, since the address and the token were checked when parsed
   * @throws DstoreException as {@link Dstore#connect} does, otherwise
   */
  static Dstore connect(Globals target, DstoreOptions options) {
    try {
      return Dstore.connect(target.toString(), options);
    } catch (DstoreException e) {
      if (e.code() == ErrorCode.INVALID_ARGUMENT && options.tlsCa().isPresent()) {
        throw Failure.usage(
            "Cannot use the TLS files given (--tls-ca, --tls-cert, --tls-key): "
                + StartFailure.rootMessage(e),
            e);
      }
      throw e;
    }
  }

  /**
   * The failure of a call about {@code key} (null when about no one key), with a hint when a
   * plaintext client's connection was closed unexplained, as a TLS server does.
   */
  Failure failure(DstoreException e, String key) {
    Failure f = Failure.of(e, key);
    if (tlsCa == null && looksLikeTlsRefusingPlaintext(e)) {
      return new Failure(
          f.exitCode(), f.getMessage() + "; if the server serves TLS, give --tls-ca", e);
    }
    return f;
  }

  /**
   * Whether {@code e} is the connection being closed or reset by the server before any HTTP/2 frame
   * came back: a TLS server drops a plaintext handshake either way, depending on what it had read
   * when it gave up. Decided from the code, the gRPC status and the types of the transport's
   * exceptions, never from message text: the call failed {@link ErrorCode#UNAVAILABLE} with gRPC
   * status UNAVAILABLE (not a deadline), and the transport either gave no cause (the connection
   * closed without a reason) or one that says an established connection was reset, closed or
   * broken, not that none could be made (refused, unreachable, unknown host) and not a TLS failure.
   */
  static boolean looksLikeTlsRefusingPlaintext(DstoreException e) {
    if (e.code() != ErrorCode.UNAVAILABLE || e.getCause() == null) {
      return false; // not a failed call (a closed Local, say)
    }
    Status status = Status.fromThrowable(e.getCause());
    if (status.getCode() != Status.Code.UNAVAILABLE) {
      return false;
    }
    Throwable transport = status.getCause();
    return transport == null || droppedByPeer(transport);
  }

  /** Whether a transport failure is a connection the peer reset or closed, found by type. */
  private static boolean droppedByPeer(Throwable transport) {
    boolean dropped = false;
    for (Throwable c = transport; c != null && c.getCause() != c; c = c.getCause()) {
      if (c instanceof ConnectException
          || c instanceof NoRouteToHostException
          || c instanceof PortUnreachableException
          || c instanceof BindException
          || c instanceof UnknownHostException
          || c instanceof SSLException) {
        return false; // no connection was made, or TLS itself failed
      }
      dropped |=
          c instanceof ClosedChannelException
              || c instanceof SocketException // the JDK's transport: a reset
              || (c instanceof Errors.NativeIoException n && isResetOrBrokenPipe(n));
    }
    return dropped;
  }

  /** The native (epoll) transport's reset and broken pipe, by their errno. */
  private static boolean isResetOrBrokenPipe(Errors.NativeIoException e) {
    // Errors is initialised by the native transport, which has loaded since it threw this.
    return e.expectedErr() == Errors.ERRNO_ECONNRESET_NEGATIVE
        || e.expectedErr() == Errors.ERRNO_EPIPE_NEGATIVE;
  }

  private ParameterException usage(String message) {
    return new ParameterException(mixee.commandLine(), message);
  }
}
