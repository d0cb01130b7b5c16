package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ProgressTest {
  private static final long MIB = 1 << 20;
  private static final long MS = 1_000_000L;

  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final AtomicLong now = new AtomicLong(1_000 * MS);

  private Env env(boolean terminal) {
    PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    return new Env(
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        err,
        new ByteArrayInputStream(new byte[0]),
        () -> false,
        () -> terminal,
        now::get,
        onExit -> {});
  }

  private String err() {
    return errBytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void rendersBytesRateAndEta() {
    // 16 of 64 MiB in 2 s: 8 MiB/s, 48 MiB left: 6 s.
    assertThat(Progress.render(16 * MIB, 64 * MIB, 2_000 * MS))
        .isEqualTo("[======>                 ]  25%  16.0/64.0 MiB  8.0 MiB/s  ETA 6s");
    assertThat(Progress.render(64 * MIB, 64 * MIB, 4_000 * MS))
        .isEqualTo("[========================] 100%  64.0/64.0 MiB  16.0 MiB/s  ETA 0s");
    assertThat(Progress.render(1 * MIB, 1024 * MIB, 1_000 * MS)).endsWith("ETA 17m03s");
    assertThat(Progress.render(0, 64 * MIB, 0)).endsWith("0.0 MiB/s  ETA --");
  }

  @Test
  void rendersUnknownTotalsWithoutBarOrEta() {
    assertThat(Progress.render(10 * MIB, -1, 2_000 * MS)).isEqualTo("10.0 MiB  5.0 MiB/s");
  }

  @Test
  void redrawsAtMostEvery100msAndEndsTheLine() {
    Progress progress = Progress.start(env(true), 64 * MIB);
    for (int i = 0; i < 64; i++) {
      now.addAndGet(40 * MS); // one MiB every 40 ms
      progress.advance(MIB);
    }
    progress.finish();
    String out = err();
    long frames = out.chars().filter(c -> c == '\r').count();
    // 64 x 40 ms = 2.56 s at most 10 frames a second, first frame once 4 MiB are done.
    assertThat(frames).isBetween(20L, 27L);
    assertThat(out).endsWith("\n").contains("100%  64.0/64.0 MiB");
    assertThat(out.substring(0, out.length() - 1)).doesNotContain("\n");
  }

  @Test
  void nothingWhenStderrIsNoTerminal() {
    Progress progress = Progress.start(env(false), 64 * MIB);
    for (int i = 0; i < 64; i++) {
      now.addAndGet(200 * MS);
      progress.advance(MIB);
    }
    progress.finish();
    assertThat(err()).isEmpty();
  }

  @Test
  void nothingForSmallTransfers() {
    Progress progress = Progress.start(env(true), 3 * MIB);
    now.addAndGet(10_000 * MS);
    progress.advance(3 * MIB);
    progress.finish();
    assertThat(err()).isEmpty();
  }

  @Test
  void nothingWhenTheTransferEndsBeforeTheFirstFrame() {
    Progress progress = Progress.start(env(true), 64 * MIB);
    progress.advance(64 * MIB); // the clock did not move: too fast to be worth a bar
    progress.finish();
    assertThat(err()).isEmpty();
  }

  @Test
  void unknownSizesShowOncePastTheThreshold() {
    Progress progress = Progress.start(env(true), -1);
    now.addAndGet(500 * MS);
    progress.advance(MIB);
    assertThat(err()).isEmpty();
    now.addAndGet(500 * MS);
    progress.advance(4 * MIB);
    progress.finish();
    assertThat(err()).startsWith("\r5.0 MiB").endsWith("\n");
  }

  @Test
  void countingStreamsReportEveryByte() throws Exception {
    Progress progress = Progress.start(env(true), 64 * MIB);
    byte[] data = new byte[10_000];
    try (var in = ProgressStreams.counting(new ByteArrayInputStream(data), progress)) {
      assertThat(in.read()).isZero();
      assertThat(in.read(new byte[100])).isEqualTo(100);
      assertThat(in.skip(899)).isEqualTo(899);
      assertThat(in.readAllBytes()).hasSize(9_000);
    }
    assertThat(progress.done()).isEqualTo(10_000);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (var out = ProgressStreams.counting(sink, progress)) {
      out.write(1);
      out.write(data, 10, 500);
    }
    assertThat(sink.size()).isEqualTo(501);
    assertThat(progress.done()).isEqualTo(10_501);
  }
}
