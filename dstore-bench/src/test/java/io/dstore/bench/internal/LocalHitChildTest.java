package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LocalHitChildTest {

  @Test
  void aResultLineCarriesTheVariantThatTheJsonHasNoRoomFor() {
    String line =
        LocalHitChild.RESULT_LINE
            + "caffeine-copy "
            + ResultJson.write(java.util.List.of(RoundsTest.remote(SystemId.CAFFEINE, 2, 9e6, 0.2)))
                .replace("\n", "");

    Result r = LocalHitChild.parse(line);

    assertThat(r.variant()).isEqualTo("caffeine-copy");
    assertThat(r.label()).isEqualTo("caffeine-copy");
    assertThat(r.system()).isEqualTo(SystemId.CAFFEINE);
    assertThat(r.opsPerSecond()).isEqualTo(9e6);
  }

  @Test
  void aResultLineWithoutAVariantIsTheMainRow() {
    String line =
        LocalHitChild.RESULT_LINE
            + "- "
            + ResultJson.write(java.util.List.of(RoundsTest.remote(SystemId.DSTORE, 1, 5e6, 0.2)))
                .replace("\n", "");

    assertThat(LocalHitChild.parse(line).inJson()).isTrue();
  }

  @Test
  void aMalformedResultLineIsRefusedWithTheLine() {
    assertThatThrownBy(() -> LocalHitChild.parse(LocalHitChild.RESULT_LINE + "[]"))
        .isInstanceOf(BenchException.class)
        .hasMessageContaining("malformed result line");
  }
}
