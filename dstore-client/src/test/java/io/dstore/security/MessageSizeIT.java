package io.dstore.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** gRPC's own refusal of an oversize message reaches the caller as a clear TOO_LARGE. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MessageSizeIT {
  private static final byte[] K = {(byte) 'k'};

  @Test
  void aMessageOverGlobalsLimitIsTooLargeNamingTheLimit() throws Exception {
    try (GlobalServer global =
            GlobalServer.builder()
                .listen("127.0.0.1", 0)
                .maxMessageBytes(64 << 10)
                .build()
                .start();
        Dstore thin =
            Dstore.connect(
                global.address(), DstoreOptions.builder().coherentCache(false).build())) {
      // Up to the 1 MiB chunk size a value travels in one message: over Global's 64 KiB.
      assertThatThrownBy(() -> thin.put(K, new byte[100 << 10]))
          .isInstanceOfSatisfying(
              DstoreException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE);
                assertThat(e.getMessage()).contains("65536").contains("--max-message-size");
              });
      assertThat(global.storage().keyCount()).isZero();
      thin.put(K, new byte[1000]);
      assertThat(thin.get(K)).hasSize(1000);
    }
  }
}
