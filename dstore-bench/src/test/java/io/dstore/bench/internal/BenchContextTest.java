package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Keys of one round never collide with those of another: dstore refuses to overwrite a value. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BenchContextTest {
  @Test
  void everyRoundHasARunIdOfItsOwnAndTheFirstKeepsTheRunsId() {
    BenchContext ctx =
        new BenchContext(
            new BenchSettings(List.of(Scenario.LOCAL_HIT), true, 1, false, 3),
            new PrintWriter(new StringWriter()));
    String first = ctx.runId();
    ctx.round(1, 3);
    assertThat(ctx.runId()).isEqualTo(first);
    ctx.round(2, 3);
    String second = ctx.runId();
    ctx.round(3, 3);
    assertThat(List.of(first, second, ctx.runId())).doesNotHaveDuplicates();
  }
}
