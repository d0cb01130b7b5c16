package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.server.StoredInfo;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MetaTest {
  private static final String SHA = "ab".repeat(32);

  @Test
  void anInlineMetaRoundTripsWithItsBytesAndRequestId() throws IOException {
    Meta meta = Meta.inline("hello".getBytes(UTF_8), SHA, new byte[] {1, 2, 3});

    Meta back = Meta.decode("k", meta.encode());

    assertThat(back).isEqualTo(meta);
    assertThat(back.isInline()).isTrue();
    assertThat(back.inline()).isEqualTo("hello".getBytes(UTF_8));
    assertThat(back.requestId()).containsExactly(1, 2, 3);
    assertThat(back.info(42)).isEqualTo(new StoredInfo(5, 42, SHA));
  }

  @Test
  void anS3MetaRoundTripsWithLargeSizesAndAnEmptyRequestId() throws IOException {
    for (long size : new long[] {0, 1, 127, 128, 16_383, 16_384, 1L << 40, Long.MAX_VALUE}) {
      Meta meta = Meta.s3(size, SHA, new byte[0], "prefix/v/" + size);
      assertThat(Meta.decode("k", meta.encode())).isEqualTo(meta);
    }
  }

  @Test
  void anEmptyInlineValueRoundTrips() throws IOException {
    Meta meta = Meta.inline(new byte[0], SHA, new byte[0]);
    assertThat(Meta.decode("k", meta.encode()).inline()).isEmpty();
  }

  @Test
  void everyCutShortEncodingIsRefusedNamingTheKey() {
    byte[] full = Meta.s3(1234, SHA, new byte[] {9, 9}, "v/x").encode();
    for (int n = 0; n < full.length; n++) {
      byte[] cut = Arrays.copyOf(full, n);
      assertThatThrownBy(() -> Meta.decode("/dstore/k/a2V5", cut))
          .as("cut to %d bytes", n)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("/dstore/k/a2V5");
    }
  }

  @Test
  void anInlineValueWhoseLengthDisagreesWithItsSizeIsRefused() {
    byte[] bytes = Meta.inline(new byte[10], SHA, new byte[0]).encode();
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
    assertThatThrownBy(() -> Meta.decode("key", longer))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("size says 10");
  }

  @Test
  void anUnknownVersionOrKindIsRefused() {
    byte[] bytes = Meta.inline(new byte[1], SHA, new byte[0]).encode();
    byte[] v2 = bytes.clone();
    v2[0] = 2;
    assertThatThrownBy(() -> Meta.decode("key", v2))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("version 2");
    byte[] kind = bytes.clone();
    kind[1] = 7;
    assertThatThrownBy(() -> Meta.decode("key", kind))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("kind 7");
  }

  @Test
  void randomGarbageIsRefusedWithAnIOExceptionNeverAnotherException() {
    Random random = new Random(1);
    int refused = 0;
    for (int i = 0; i < 10_000; i++) {
      byte[] garbage = new byte[random.nextInt(80)];
      random.nextBytes(garbage);
      try {
        Meta.decode("key", garbage);
      } catch (IOException e) {
        refused++;
      }
    }
    assertThat(refused).isGreaterThan(9_900);
  }

  @Test
  void aMetaIsEitherInlineOrInS3() {
    assertThatThrownBy(() -> new Meta(1, SHA, new byte[0], new byte[1], "v/x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Meta(1, SHA, new byte[0], null, null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
