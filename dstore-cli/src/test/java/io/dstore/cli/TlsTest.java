package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dstore.testing.Certificates;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.unix.Errors;
import java.net.ConnectException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dstore global --tls-cert/--tls-key [--tls-client-ca]} in this JVM, and one-shot commands
 * and the REPL reaching it with {@code --tls-ca [--tls-cert --tls-key]}. Certificates are made at
 * test time.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsTest {
  @TempDir static Path dir;
  private static Certificates certs;

  @BeforeAll
  static void makeCertificates() throws Exception {
    certs = Certificates.create(dir);
  }

  private static Background tlsGlobal(String... extra) {
    String[] base = {
      "global",
      "--listen",
      "127.0.0.1:0",
      "--store",
      "memory",
      "--tls-cert",
      certs.serverCert.toString(),
      "--tls-key",
      certs.serverKey.toString()
    };
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return Background.start(args);
  }

  @Test
  void oneShotCommandsTrustingTheCaTalkTls() throws Exception {
    try (Background global = tlsGlobal()) {
      String address = global.awaitOut(Background.GLOBAL_LISTENING);
      String ca = certs.caCert.toString();
      Cli.Result put = Cli.run("put", "k", "over TLS", "--global", address, "--tls-ca", ca);
      assertThat(put.exit()).as("%s", put).isZero();
      Cli.Result get = Cli.run("get", "k", "--global", address, "--tls-ca", ca);
      assertThat(get.exit()).as("%s", get).isZero();
      assertThat(get.out()).isEqualTo("over TLS");
      assertThat(Cli.run("stat", "k", "--global", address, "--tls-ca", ca).out())
          .startsWith("size: 8\n");
      assertThat(Cli.run("del", "k", "--global", address, "--tls-ca", ca).exit()).isZero();
    }
  }

  @Test
  void aPlaintextClientOfATlsGlobalExits3() throws Exception {
    try (Background global = tlsGlobal()) {
      String address = global.awaitOut(Background.GLOBAL_LISTENING);
      Cli.Result get = Cli.run("get", "k", "--global", address);
      assertThat(get.exit()).as("%s", get).isEqualTo(3);
      assertThat(get.err())
          .startsWith("Global unreachable: ")
          .endsWith("; if the server serves TLS, give --tls-ca\n");
      assertThat(get.err().strip()).doesNotContain("\n");
      assertThat(get.stdout()).isEmpty();
    }
  }

  /**
   * A TLS server drops a plaintext client with a close or a reset, depending on timing; both get
   * the hint, other failures do not. The hint is decided from the status and the exception types
   * that gRPC reports (as the client gets them), not from their messages.
   */
  @Test
  void theTlsHintCoversACloseAndAResetButNotOtherFailures() {
    // The connection closed without a cause.
    assertThat(hinted(ErrorCode.UNAVAILABLE, unavailable(null))).isTrue();
    // The JDK transport's reset.
    assertThat(hinted(ErrorCode.UNAVAILABLE, unavailable(new SocketException("Connection reset"))))
        .isTrue();
    assertThat(hinted(ErrorCode.UNAVAILABLE, unavailable(new ClosedChannelException()))).isTrue();
    // No connection was made, or TLS itself failed: no hint.
    assertThat(
            hinted(ErrorCode.UNAVAILABLE, unavailable(new ConnectException("Connection refused"))))
        .isFalse();
    assertThat(hinted(ErrorCode.UNAVAILABLE, unavailable(new SSLHandshakeException("bad CA"))))
        .isFalse();
    // A deadline, another code, or no failed call at all: no hint.
    assertThat(hinted(ErrorCode.UNAVAILABLE, Status.DEADLINE_EXCEEDED.asRuntimeException()))
        .isFalse();
    assertThat(hinted(ErrorCode.NOT_FOUND, unavailable(null))).isFalse();
    assertThat(
            ClientOptions.looksLikeTlsRefusingPlaintext(
                new DstoreException(ErrorCode.UNAVAILABLE, "this Local is closed")))
        .isFalse();
  }

  /** The native (epoll) transport reports a reset by its errno, ECONNRESET. */
  @Test
  void theTlsHintCoversTheNativeTransportsReset() {
    assumeTrue(Epoll.isAvailable(), "the native transport is not available here");
    assertThat(
            hinted(
                ErrorCode.UNAVAILABLE,
                unavailable(
                    new Errors.NativeIoException(
                        "recvAddress(..) failed", Errors.ERRNO_ECONNRESET_NEGATIVE))))
        .isTrue();
    assertThat(
            hinted(
                ErrorCode.UNAVAILABLE,
                unavailable(
                    new Errors.NativeIoException(
                        "finishConnect(..) failed", Errors.ERROR_ECONNREFUSED_NEGATIVE))))
        .isFalse();
  }

  private static StatusRuntimeException unavailable(Throwable transport) {
    return Status.UNAVAILABLE
        .withDescription(transport == null ? "Network closed for unknown reason" : "io exception")
        .withCause(transport)
        .asRuntimeException();
  }

  private static boolean hinted(ErrorCode code, StatusRuntimeException call) {
    return ClientOptions.looksLikeTlsRefusingPlaintext(
        new DstoreException(code, "cannot reach Global", call));
  }

  @Test
  void aCaThatDidNotSignTheServerExits3NamingTls() throws Exception {
    try (Background global = tlsGlobal()) {
      String address = global.awaitOut(Background.GLOBAL_LISTENING);
      Cli.Result get =
          Cli.run("get", "k", "--global", address, "--tls-ca", certs.otherCaCert.toString());
      assertThat(get.exit()).as("%s", get).isEqualTo(3);
      assertThat(get.err()).startsWith("Global unreachable: ").contains("TLS");
    }
  }

  @Test
  void mutualTlsRefusesClientsWithoutACertificateFromTheCa() throws Exception {
    try (Background global = tlsGlobal("--tls-client-ca", certs.caCert.toString())) {
      String address = global.awaitOut(Background.GLOBAL_LISTENING);
      String ca = certs.caCert.toString();

      Cli.Result anonymous = Cli.run("put", "m", "v", "--global", address, "--tls-ca", ca);
      assertThat(anonymous.exit()).as("%s", anonymous).isEqualTo(3);
      assertThat(anonymous.err()).startsWith("Global unreachable: ");

      Cli.Result stranger =
          Cli.run(
              "put",
              "m",
              "v",
              "--global",
              address,
              "--tls-ca",
              ca,
              "--tls-cert",
              certs.strangerCert.toString(),
              "--tls-key",
              certs.strangerKey.toString());
      assertThat(stranger.exit()).as("%s", stranger).isEqualTo(3);

      String[] client = {
        "--global",
        address,
        "--tls-ca",
        ca,
        "--tls-cert",
        certs.clientCert.toString(),
        "--tls-key",
        certs.clientKey.toString()
      };
      Cli.Result get = Cli.run(concat(new String[] {"get", "m"}, client));
      assertThat(get.exit()).as("nothing was written by the refused clients: %s", get).isEqualTo(1);
      Cli.Result put = Cli.run(concat(new String[] {"put", "m", "v"}, client));
      assertThat(put.exit()).as("%s", put).isZero();
      assertThat(Cli.run(concat(new String[] {"get", "m"}, client)).out()).isEqualTo("v");
    }
  }

  @Test
  void theReplTalksTlsToo() throws Exception {
    try (Background global = tlsGlobal()) {
      String address = global.awaitOut(Background.GLOBAL_LISTENING);
      Cli.Result r =
          Cli.run(
              "SET r hello\nGET r\n".getBytes(StandardCharsets.UTF_8),
              "local",
              "--global",
              address,
              "--tls-ca",
              certs.caCert.toString());
      assertThat(r.exit()).as("%s", r).isZero();
      assertThat(r.out()).isEqualTo("Database updated\ndb: r -> hello\n");
    }
  }

  @Test
  void clientTlsOptionsThatDoNotGoTogetherAreUsageErrors() {
    String ca = certs.caCert.toString();
    String cert = certs.clientCert.toString();
    String key = certs.clientKey.toString();
    String[][] cases = {
      {"get", "k", "--tls-ca", ca, "--tls-cert", cert},
      {"get", "k", "--tls-ca", ca, "--tls-key", key},
      {"get", "k", "--tls-cert", cert, "--tls-key", key},
    };
    for (String[] args : cases) {
      Cli.Result r = Cli.run(args);
      assertThat(r.exit()).as("%s: %s", String.join(" ", args), r).isEqualTo(2);
      assertThat(r.err()).startsWith("dstore get: ").contains("--tls-");
    }
  }

  @Test
  void aMissingCertificateFileIsNamedWithItsOption() {
    Path missing = dir.resolve("missing.pem");
    Cli.Result client = Cli.run("get", "k", "--tls-ca", missing.toString());
    assertThat(client.exit()).isEqualTo(2);
    assertThat(client.err())
        .isEqualTo("Cannot read the --tls-ca file " + missing + ": no such file or directory\n");

    Cli.Result server =
        Cli.run(
            "global",
            "--store",
            "memory",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            missing.toString(),
            "--tls-key",
            certs.serverKey.toString());
    assertThat(server.exit()).isEqualTo(2);
    assertThat(server.err()).startsWith("Cannot read the --tls-cert file " + missing + ": ");
  }

  @Test
  void aCaFileThatHoldsNoCertificateIsAUsageError() throws Exception {
    Cli.Result r = Cli.run("get", "k", "--tls-ca", certs.serverKey.toString());
    assertThat(r.exit()).as("%s", r).isEqualTo(2);
    assertThat(r.err())
        .startsWith("Cannot use the TLS files given (--tls-ca, --tls-cert, --tls-key): ");
    assertThat(r.err().strip()).doesNotContain("\n");
  }

  @Test
  void serverTlsOptionsThatDoNotGoTogetherOrCannotBeUsedAreUsageErrors() throws Exception {
    Cli.Result keyless =
        Cli.run("global", "--store", "memory", "--tls-cert", certs.serverCert.toString());
    assertThat(keyless.exit()).isEqualTo(2);
    assertThat(keyless.err()).contains("--tls-cert and --tls-key go together");

    Cli.Result caOnly =
        Cli.run("global", "--store", "memory", "--tls-client-ca", certs.caCert.toString());
    assertThat(caOnly.exit()).isEqualTo(2);
    assertThat(caOnly.err()).contains("--tls-client-ca needs TLS");

    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate\n");
    Cli.Result unusable =
        Cli.run(
            "global",
            "--store",
            "memory",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            garbage.toString(),
            "--tls-key",
            certs.serverKey.toString());
    assertThat(unusable.exit()).as("%s", unusable).isEqualTo(2);
    assertThat(unusable.err())
        .startsWith("Cannot serve TLS with --tls-cert " + garbage)
        .doesNotContain("Exception");
    assertThat(unusable.err().strip()).doesNotContain("\n");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
