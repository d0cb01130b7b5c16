package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.server.GlobalServer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BenchSettingsTest {
  private static BenchSettings settings(boolean quick) {
    return new BenchSettings(List.of(Scenario.LARGE), quick, 1.0, false);
  }

  @Test
  void aFullRunMovesOneGibibyteThroughDstoreAtGlobalsDefaultValueLimit() {
    assertThat(settings(false).largeValueSize(SystemId.DSTORE))
        .isEqualTo(1 << 30)
        .isEqualTo(GlobalServer.DEFAULT_MAX_VALUE_BYTES);
  }

  @Test
  void aFullRunMovesRedissLargestBulkStringThroughRedisAndHazelcast() {
    // Redis's proto-max-bulk-len default, 512mb: the largest value its SET accepts.
    assertThat(settings(false).largeValueSize(SystemId.REDIS)).isEqualTo(536_870_912);
    assertThat(settings(false).largeValueSize(SystemId.HAZELCAST)).isEqualTo(536_870_912);
  }

  @Test
  void aQuickRunMovesThirtyTwoMebibytesThroughEverySystem() {
    for (SystemId s : List.of(SystemId.DSTORE, SystemId.REDIS, SystemId.HAZELCAST)) {
      assertThat(settings(true).largeValueSize(s)).as(s.id()).isEqualTo(32 << 20);
    }
  }

  @Test
  void aSystemTheLargeScenarioDoesNotRunHasNoSize() {
    assertThatThrownBy(() -> settings(false).largeValueSize(SystemId.CAFFEINE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("caffeine");
  }

  @Test
  void sizesAreNamedInWholeGibibytesOrMebibytes() {
    assertThat(LargeScenario.size(1L << 30)).isEqualTo("1 GiB");
    assertThat(LargeScenario.size(512L << 20)).isEqualTo("512 MiB");
  }
}
