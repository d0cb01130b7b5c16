package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ServerCostTest {
  private static final long MS = 1_000_000L;

  @Test
  void cpuTicksAreUtimePlusStimeCountedFromTheLastParenthesis() {
    // A command name with a space and a ')' of its own must not shift the fields.
    String stat =
        "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 123 0 0 0 1500 250 7 8 20 0 40 0 99 "
            + "4000000000 30000 18446744073709551615";

    assertThat(ServerCost.cpuTicks(stat)).isEqualTo(1750);
  }

  @Test
  void aLineThatIsNoStatLineIsRefused() {
    assertThatThrownBy(() -> ServerCost.cpuTicks("no parenthesis here"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ServerCost.cpuTicks("1 (java) S 1 2"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void thisProcessHasUsedSomeCpuAndTheFigureNeverGoesBack() {
    long pid = ProcessHandle.current().pid();
    OptionalLong first = ServerCost.cpuNanos(pid);
    OptionalLong second = ServerCost.cpuNanos(pid);

    assertThat(first).isPresent();
    assertThat(first.getAsLong()).isPositive();
    assertThat(second.getAsLong()).isGreaterThanOrEqualTo(first.getAsLong());
  }

  @Test
  void cpuPerDeleteChargesOnlyWhatTheIdleRateDoesNotExplain() {
    // 300 ms used over 2 s, 50 ms/s of it background: 200 ms for 1,000 deletes = 200 us each.
    assertThat(
            ServerCost.cpuMicrosPerOp(
                    OptionalLong.of(1_000 * MS),
                    OptionalLong.of(1_300 * MS),
                    2_000 * MS,
                    50 * MS,
                    1_000)
                .getAsDouble())
        .isCloseTo(200.0, within(1e-9));
    // Without an idle rate, everything is charged.
    assertThat(
            ServerCost.cpuMicrosPerOp(
                    OptionalLong.of(0), OptionalLong.of(300 * MS), 2_000 * MS, 0, 1_000)
                .getAsDouble())
        .isCloseTo(300.0, within(1e-9));
  }

  @Test
  void cpuPerDeleteIsNeverNegativeAndAbsentWithoutReadingsOrDeletes() {
    assertThat(
            ServerCost.cpuMicrosPerOp(
                    OptionalLong.of(0), OptionalLong.of(10 * MS), 1_000 * MS, 50 * MS, 10)
                .getAsDouble())
        .isZero();
    assertThat(
            ServerCost.cpuMicrosPerOp(
                OptionalLong.empty(), OptionalLong.of(10 * MS), 1_000 * MS, 0, 10))
        .isEmpty();
    assertThat(ServerCost.cpuMicrosPerOp(OptionalLong.of(0), OptionalLong.of(10 * MS), 1_000, 0, 0))
        .isEmpty();
  }

  @Test
  void idleRateIsCpuPerSecondOfWallTime() {
    assertThat(
            ServerCost.cpuNanosPerSecond(
                    OptionalLong.of(100 * MS), OptionalLong.of(150 * MS), 500 * MS)
                .getAsDouble())
        .isCloseTo(100.0 * MS, within(1e-6));
    assertThat(ServerCost.cpuNanosPerSecond(OptionalLong.of(0), OptionalLong.of(1), 0)).isEmpty();
  }

  @Test
  void memoryPerConnectionIsTheGrowthOverTheConnections() {
    assertThat(
            ServerCost.bytesPerConnection(
                    OptionalLong.of(100 << 20), OptionalLong.of(164 << 20), 1024)
                .getAsDouble())
        .isCloseTo(64 * 1024.0, within(1e-9));
    // Memory given back in between shows as measured, not hidden.
    assertThat(
            ServerCost.bytesPerConnection(OptionalLong.of(2_000), OptionalLong.of(1_000), 10)
                .getAsDouble())
        .isCloseTo(-100.0, within(1e-9));
    assertThat(ServerCost.bytesPerConnection(OptionalLong.of(1), OptionalLong.empty(), 10))
        .isEmpty();
    assertThat(ServerCost.bytesPerConnection(OptionalLong.of(1), OptionalLong.of(2), 0)).isEmpty();
  }

  @Test
  void measuredDeletesFitThePacingBudgetAndTheFillBudget() {
    // Unpaced, few clients: the settings' maximum.
    assertThat(InvalidateScenario.measuredDeletes(2_000, 20, 5_000 * MS, 0, 32)).isEqualTo(2_000);
    // Paced every 200 ms in 5 s: 25.
    assertThat(InvalidateScenario.measuredDeletes(2_000, 20, 5_000 * MS, 200 * MS, 1))
        .isEqualTo(25);
    // 1,024 clients: 200,000 fills / 1,024 = 195 keys, 20 of them warm-up.
    assertThat(InvalidateScenario.measuredDeletes(2_000, 20, 5_000 * MS, 0, 1024))
        .isEqualTo(InvalidateScenario.FILL_BUDGET / 1024 - 20);
    // Never fewer than 2.
    assertThat(InvalidateScenario.measuredDeletes(2_000, 20, 5_000 * MS, 0, 1_000_000))
        .isEqualTo(2);
  }
}
