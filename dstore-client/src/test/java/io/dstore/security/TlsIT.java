package io.dstore.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.testing.Certificates;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Global over TLS and mutual TLS, with Locals over real sockets. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsIT {
  @TempDir static Path dir;
  private static Certificates certs;

  private GlobalServer global;
  private Dstore local;

  @BeforeAll
  static void makeCertificates() throws Exception {
    certs = Certificates.create(dir);
  }

  @AfterEach
  void stop() {
    if (local != null) {
      local.close();
    }
    if (global != null) {
      global.close();
    }
  }

  private void startGlobal(boolean mutual) throws Exception {
    GlobalServer.Builder b =
        GlobalServer.builder().listen("127.0.0.1", 0).tls(certs.serverCert, certs.serverKey);
    if (mutual) {
      b.tlsClientCa(certs.caCert);
    }
    global = b.build().start();
  }

  private static DstoreOptions.Builder options() {
    return DstoreOptions.builder()
        .requestTimeout(Duration.ofSeconds(5))
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aLocalTrustingTheCaTalksTls() throws Exception {
    startGlobal(false);
    local = Dstore.connect(global.address(), options().tlsCa(certs.caCert).build());
    local.awaitReady(Duration.ofSeconds(20));
    local.put(b("k"), b("over TLS"));
    assertThat(local.get(b("k"))).isEqualTo(b("over TLS"));
    assertThat(local.getEntry(b("k")).fromCache()).isTrue();
    assertThat(local.delete(b("k"))).isPositive();
  }

  @Test
  void aPlaintextLocalCannotTalkToATlsGlobal() throws Exception {
    startGlobal(false);
    local = Dstore.connect(global.address(), options().build());
    assertThatThrownBy(() -> local.put(b("k"), b("v")))
        .isInstanceOfSatisfying(
            DstoreException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
              assertThat(e.getMessage()).contains("cannot reach Global at " + global.address());
            });
    assertThat(global.storage().keyCount()).isZero();
  }

  @Test
  void aLocalThatDoesNotTrustTheServerIsRefused() throws Exception {
    startGlobal(false);
    local = Dstore.connect(global.address(), options().tlsCa(certs.otherCaCert).build());
    assertThatThrownBy(() -> local.get(b("k")))
        .isInstanceOfSatisfying(
            DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  @Test
  void mutualTlsRefusesALocalWithoutACertificate() throws Exception {
    startGlobal(true);
    local = Dstore.connect(global.address(), options().tlsCa(certs.caCert).build());
    assertRefused();
  }

  @Test
  void mutualTlsRefusesACertificateFromAnotherCa() throws Exception {
    startGlobal(true);
    local =
        Dstore.connect(
            global.address(),
            options()
                .tlsCa(certs.caCert)
                .tlsClientCertificate(certs.strangerCert, certs.strangerKey)
                .build());
    assertRefused();
  }

  @Test
  void mutualTlsServesALocalWithACertificateFromItsCa() throws Exception {
    startGlobal(true);
    local =
        Dstore.connect(
            global.address(),
            options()
                .tlsCa(certs.caCert)
                .tlsClientCertificate(certs.clientCert, certs.clientKey)
                .build());
    local.put(b("k"), b("mutual"));
    assertThat(local.get(b("k"))).isEqualTo(b("mutual"));
    local.awaitReady(Duration.ofSeconds(20));
  }

  private void assertRefused() {
    assertThatThrownBy(() -> local.put(b("k"), b("v")))
        .isInstanceOfSatisfying(
            DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
    assertThatThrownBy(() -> local.get(b("k")))
        .isInstanceOfSatisfying(
            DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
    assertThat(global.storage().keyCount()).isZero();
    assertThat(local.stats().leaseValid()).isFalse();
  }
}
