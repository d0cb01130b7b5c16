package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.Certificates;
import io.dstore.testing.MetricsPage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dstore local --listen} as a service in this JVM (stdin no terminal, stopped by the
 * injected signal): one-shot commands through it share its cache; its metrics, TLS and token
 * options.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DaemonTest {

  @TempDir static Path dir;
  private static TestGlobal global;
  private static Certificates certs;

  @BeforeAll
  static void start() throws Exception {
    global = TestGlobal.start();
    certs = Certificates.create(dir);
  }

  @AfterAll
  static void stop() {
    global.close();
  }

  private static Background daemon(String... extra) {
    String[] base = {"local", "--global", global.address(), "--listen", "127.0.0.1:0"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return Background.start(args);
  }

  @Test
  void oneShotCommandsThroughTheDaemonShareItsCache() throws Exception {
    try (Background d = daemon("--metrics-listen", "127.0.0.1:0")) {
      String address = d.awaitOut(Background.LOCAL_LISTENING);
      assertThat(address).doesNotEndWith(":0");
      String metrics = d.awaitErr(Background.METRICS);
      assertThat(d.out.text()).isEqualTo("Dstore local listening on " + address + "\n");

      assertThat(Cli.run("put", "shared", "cached value", "--global", address).exit()).isZero();
      Cli.Result first = Cli.run("get", "shared", "--global", address);
      assertThat(first.out()).isEqualTo("cached value");
      long before = MetricsPage.cacheHits(metrics);
      Cli.Result second = Cli.run("get", "shared", "--global", address);
      assertThat(second.out()).isEqualTo("cached value");
      assertThat(MetricsPage.cacheHits(metrics))
          .as("the second get was a hit of the daemon's cache")
          .isGreaterThan(before);

      // The value is in Global too: the daemon's Local wrote through.
      assertThat(Cli.run("get", "shared", "--global", global.address()).out())
          .isEqualTo("cached value");
      assertThat(Cli.run("del", "shared", "--global", address).exit()).isZero();
      assertThat(Cli.run("get", "shared", "--global", address).exit()).isEqualTo(1);

      assertThat(d.stop()).isZero();
    }
  }

  @Test
  void theDaemonChecksItsCallersTokenWhichIsNotGlobalsToken() throws Exception {
    Path callers = Files.writeString(dir.resolve("callers"), "callers-token");
    try (Background d = daemon("--listen-token-file", callers.toString())) {
      String address = d.awaitOut(Background.LOCAL_LISTENING);
      Cli.Result none = Cli.run("put", "guarded", "v", "--global", address);
      assertThat(none.exit()).as("%s", none).isEqualTo(4);
      assertThat(none.err()).startsWith("Authentication failed: ");

      Cli.Result env =
          Cli.runWithEnvironment(
              Map.of(Credentials.TOKEN_VARIABLE, "callers-token"),
              new byte[0],
              "put",
              "guarded",
              "v",
              "--global",
              address);
      assertThat(env.exit()).as("%s", env).isZero();
      assertThat(
              Cli.run("get", "guarded", "--global", address, "--token-file", callers.toString())
                  .out())
          .isEqualTo("v");
    }
  }

  @Test
  void theDaemonServesTlsWithItsOwnCertificate() throws Exception {
    try (Background d =
        daemon(
            "--listen-tls-cert",
            certs.serverCert.toString(),
            "--listen-tls-key",
            certs.serverKey.toString(),
            "--listen-tls-client-ca",
            certs.caCert.toString())) {
      String address = d.awaitOut(Background.LOCAL_LISTENING);
      Cli.Result anonymous =
          Cli.run("put", "tls", "v", "--global", address, "--tls-ca", certs.caCert.toString());
      assertThat(anonymous.exit()).as("%s", anonymous).isEqualTo(3);
      Cli.Result put =
          Cli.run(
              "put",
              "tls",
              "v",
              "--global",
              address,
              "--tls-ca",
              certs.caCert.toString(),
              "--tls-cert",
              certs.clientCert.toString(),
              "--tls-key",
              certs.clientKey.toString());
      assertThat(put.exit()).as("%s", put).isZero();
    }
  }

  @Test
  void daemonOptionsWithoutListenOrThatDoNotGoTogetherAreUsageErrors() {
    String[][] cases = {
      {"local", "--metrics-listen", "127.0.0.1:0"},
      {"local", "--listen-token-file", "x"},
      {"local", "--listen-tls-cert", "x", "--listen-tls-key", "y"},
      {"local", "--listen", "127.0.0.1:0", "--listen-tls-cert", "x"},
      {"local", "--listen", "127.0.0.1:0", "--listen-tls-client-ca", "x"},
      {"local", "--listen", "nowhere"},
    };
    for (String[] args : cases) {
      Cli.Result r = Cli.run(args);
      assertThat(r.exit()).as("%s: %s", String.join(" ", args), r).isEqualTo(2);
      assertThat(r.err()).startsWith("dstore local: ");
      assertThat(r.stdout()).isEmpty();
    }
    // The daemon's TLS rules are Global's, under the daemon's own option names.
    assertThat(Cli.run("local", "--listen", "127.0.0.1:0", "--listen-tls-cert", "x").err())
        .contains("--listen-tls-cert and --listen-tls-key go together: give both or neither");
    assertThat(Cli.run("local", "--listen", "127.0.0.1:0", "--listen-tls-client-ca", "x").err())
        .contains(
            "--listen-tls-client-ca needs TLS: give --listen-tls-cert and --listen-tls-key as"
                + " well");
  }

  @Test
  void aListenAddressInUseIsOneClearLine() {
    Cli.Result r = Cli.run("local", "--global", global.address(), "--listen", global.address());
    assertThat(r.exit()).as("%s", r).isEqualTo(2);
    assertThat(r.err()).contains("Cannot listen on " + global.address() + ": ");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void theHelpExplainsTheDaemonAndItsTwoSetsOfCredentials() {
    String help = Cli.run("local", "--help").out();
    assertThat(help)
        .contains("--listen=HOST:PORT")
        .contains("SIGTERM")
        .contains("--listen-token-file")
        .contains("--listen-tls-cert")
        .contains("DSTORE_TOKEN");
  }
}
