package io.dstore.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.server.internal.ServerInternals;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Locals against a Global that requires a token, over a real socket. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TokenIT {
  private static final String TOKEN = "tok-3f9a1c";

  private GlobalServer global;
  private Dstore local;

  @BeforeEach
  void start() throws Exception {
    global = GlobalServer.builder().listen("127.0.0.1", 0).token(TOKEN).build().start();
  }

  @AfterEach
  void stop() {
    if (local != null) {
      local.close();
    }
    global.close();
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
  void aLocalWithTheTokenIsServedAndCaches() {
    local = Dstore.connect(global.address(), options().token(TOKEN).build());
    local.awaitReady(Duration.ofSeconds(20));
    local.put(b("k"), b("v"));
    assertThat(local.getEntry(b("k")).fromCache()).isTrue();
    assertThat(local.delete(b("k"))).isPositive();
    assertThat(global.storage().keyCount()).isZero();
  }

  @Test
  void aCoherentLocalWithAWrongTokenServesNothingAndSaysWhy() throws Exception {
    // Someone with the token stores a value first.
    // A thin client: it never joins, so Global knows no Local before the one under test.
    try (Dstore good =
        Dstore.connect(global.address(), options().coherentCache(false).token(TOKEN).build())) {
      good.put(b("there"), b("v"));
    }
    local = Dstore.connect(global.address(), options().token("not-the-token").build());
    assertRefusedEverywhere();
    assertThat(global.storage().keyCount()).isEqualTo(1);
    assertThat(local.stats().leaseValid()).isFalse();
    assertThat(local.stats().connected()).isFalse();
    assertThat(local.isCached(b("there"))).isFalse();
    assertThat(ServerInternals.hub(global).memberCount()).isZero();
  }

  @Test
  void aLocalWithoutATokenIsRefused() {
    local = Dstore.connect(global.address(), options().build());
    assertRefusedEverywhere();
    assertThat(global.storage().keyCount()).isZero();
  }

  @Test
  void aThinClientWithAWrongTokenIsRefused() {
    local = Dstore.connect(global.address(), options().coherentCache(false).token("nope").build());
    assertRefusedEverywhere();
  }

  private void assertRefusedEverywhere() {
    List<ThrowingCallable> calls =
        List.of(
            () -> local.put(b("k"), b("v")),
            () -> local.put(b("big"), new java.io.ByteArrayInputStream(new byte[10]), 10),
            () -> local.get(b("there")),
            () -> local.stat(b("there")),
            () -> local.delete(b("there")));
    for (ThrowingCallable call : calls) {
      assertThatThrownBy(call)
          .isInstanceOfSatisfying(
              DstoreException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
                assertThat(e.getMessage()).contains("missing or wrong token");
              });
    }
  }
}
