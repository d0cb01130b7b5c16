package io.dstore.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.testing.Await;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A Local recovers the moment Global does: over real sockets, Global stops, a call fails while it
 * is down (so the channel is in TRANSIENT_FAILURE and the subscription waits out a long backoff),
 * Global comes back on the same port, and the very next call succeeds, long before either backoff
 * would have fired.
 */
class ReconnectTest {
  /** Far longer than anything the test should wait for. */
  private static final Duration BACKOFF = Duration.ofSeconds(20);

  private final HoldingStorage storage = new HoldingStorage(Storage.memory());
  private GlobalServer global;

  @AfterEach
  void tearDown() {
    if (global != null) {
      global.close();
    }
    storage.closeForReal();
  }

  private GlobalServer startGlobal(int port) throws IOException {
    return GlobalServer.builder()
        .listen("127.0.0.1", port)
        .storage(storage)
        .startupGrace(Duration.ZERO)
        .build()
        .start();
  }

  @Test
  void theNextCallAfterGlobalReturnsDoesNotWaitForTheBackoff() throws Exception {
    global = startGlobal(0);
    int port = global.port();
    String target = "127.0.0.1:" + port;
    DstoreOptions options = DstoreOptions.builder().reconnectBackoff(BACKOFF, BACKOFF).build();
    try (Dstore local = Dstore.connect(target, options)) {
      local.awaitReady(Duration.ofSeconds(30));

      global.close();
      Await.until("the Local to see Global gone", () -> !local.stats().connected());
      long down = System.nanoTime();
      assertThatThrownBy(() -> local.get(bytes("k")))
          .isInstanceOfSatisfying(
              DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
      Duration unreachable = Duration.ofNanos(System.nanoTime() - down);
      // Global really down: the call still answers promptly, not after its 30 s timeout.
      assertThat(unreachable).isLessThan(Reconnect.MAX_WAIT.plusSeconds(5));

      global = startGlobal(port);
      try (Dstore writer =
          Dstore.connect(target, DstoreOptions.builder().coherentCache(false).build())) {
        writer.put(bytes("k"), bytes("v"));
      }

      long back = System.nanoTime();
      assertThat(local.get(bytes("k"))).isEqualTo(bytes("v"));
      Duration firstCall = Duration.ofNanos(System.nanoTime() - back);
      assertThat(firstCall).isLessThan(BACKOFF.dividedBy(10));
      // The subscription does not wait out its backoff either.
      Await.until(
          "the Local to subscribe again", BACKOFF.dividedBy(4), () -> local.stats().connected());
      Duration subscribed = Duration.ofNanos(System.nanoTime() - back);
      System.err.printf(
          "ReconnectTest: unreachable answered in %d ms; after Global returned, first get in %d ms,"
              + " subscribed in %d ms; backoff %d ms%n",
          unreachable.toMillis(), firstCall.toMillis(), subscribed.toMillis(), BACKOFF.toMillis());
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }
}
