package io.dstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.server.GlobalServer;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The public API as an application sees it, over loopback sockets: {@code connect} fails only with
 * {@link DstoreException}, {@code awaitReady} waits for the lease or says what is missing, and the
 * injected clock is the one the lease runs on.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PublicApiTest {
  /** Nothing listens on port 1 of loopback: connections are refused at once. */
  private static final String NOWHERE = "127.0.0.1:1";

  @TempDir Path dir;

  private static DstoreOptions.Builder fastRetries() {
    return DstoreOptions.builder().reconnectBackoff(Duration.ofMillis(5), Duration.ofMillis(50));
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void assertCode(ThrowingCallable call, ErrorCode code, String messagePart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            DstoreException.class,
            e -> {
              assertThat(e.code()).isEqualTo(code);
              assertThat(e.getMessage()).contains(messagePart);
            });
  }

  @Test
  void connectRefusesBadInputWithInvalidArgumentOnly() throws Exception {
    assertCode(() -> Dstore.connect("no-port"), ErrorCode.INVALID_ARGUMENT, "HOST:PORT");
    assertCode(() -> Dstore.connect("localhost:70000"), ErrorCode.INVALID_ARGUMENT, "port");
    Path notACertificate = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");
    assertCode(
        () -> Dstore.connect(NOWHERE, DstoreOptions.builder().tlsCa(notACertificate).build()),
        ErrorCode.INVALID_ARGUMENT,
        "cannot use the TLS files given (CA " + notACertificate);
    assertCode(
        () -> Dstore.connect(NOWHERE, DstoreOptions.builder().tlsCa(dir.resolve("absent")).build()),
        ErrorCode.INVALID_ARGUMENT,
        "absent");
  }

  @Test
  void awaitReadyNamesWhatIsMissingAtTheDeadline() {
    try (Dstore local = Dstore.connect(NOWHERE, fastRetries().build())) {
      assertCode(
          () -> local.awaitReady(Duration.ofMillis(200)),
          ErrorCode.UNAVAILABLE,
          "still waiting to join Global at " + NOWHERE);
      assertCode(
          () -> local.awaitReady(Duration.ofSeconds(-1)), ErrorCode.INVALID_ARGUMENT, "negative");
    }
    try (Dstore thin = Dstore.connect(NOWHERE, fastRetries().coherentCache(false).build())) {
      assertCode(
          () -> thin.awaitReady(Duration.ofMillis(200)),
          ErrorCode.UNAVAILABLE,
          "still waiting for a connection to " + NOWHERE);
    }
  }

  @Test
  void awaitReadyFailsOnceTheLocalIsClosed() {
    Dstore local = Dstore.connect(NOWHERE, fastRetries().build());
    local.close();
    assertCode(() -> local.awaitReady(Duration.ofSeconds(10)), ErrorCode.UNAVAILABLE, "closed");
  }

  @Test
  void aReadyLocalServesHitsAndItsLeaseRunsOnTheInjectedClock() throws Exception {
    AtomicLong nanos = new AtomicLong(System.nanoTime());
    try (GlobalServer global =
            GlobalServer.builder()
                .listen("127.0.0.1", 0)
                .lease(Duration.ofSeconds(2))
                .startupGrace(Duration.ZERO)
                .build()
                .start();
        Dstore local =
            Dstore.connect(global.address(), fastRetries().nanoClock(nanos::get).build());
        Dstore thin =
            Dstore.connect(global.address(), fastRetries().coherentCache(false).build())) {
      local.awaitReady(Duration.ofSeconds(20));
      assertThat(local.stats().connected()).isTrue();
      assertThat(local.stats().leaseValid()).isTrue();
      local.awaitReady(Duration.ZERO); // ready already: returns at once
      thin.awaitReady(Duration.ofSeconds(20));

      local.put(b("k"), b("v"));
      assertThat(local.getEntry(b("k")).fromCache()).isTrue();
      global.close(); // no renewal from now on
      nanos.addAndGet(Duration.ofSeconds(2).toNanos()); // one whole lease, on the Local's clock
      assertThat(local.stats().leaseValid()).isFalse();
      assertThat(local.isCached(b("k"))).isFalse();
    }
  }
}
