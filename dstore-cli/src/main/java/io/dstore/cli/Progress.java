package io.dstore.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress bar for a transfer, drawn on stderr with {@code \r}: bytes done and total, rate and
 * time left. It shows only when stderr is a terminal and the transfer is over {@link #THRESHOLD}
 * (or of unknown size and past it), redraws at most every 100 ms, and ends its line when the
 * transfer ends. Not thread-safe: one transfer, one thread.
 */
class Progress {
  /** Transfers smaller than this get no bar. */
  static final long THRESHOLD = 4L << 20;

  static final long REDRAW_NANOS = 100_000_000L;
  private static final int BAR = 24;

  /** Draws nothing. */
  static final Progress NONE =
      new Progress(null, 0, () -> 0) {
        @Override
        void advance(long bytes) {}

        @Override
        void finish() {}
      };

  private final PrintStream err;
  private final long total;
  private final LongSupplier clock;
  private final long start;
  private long lastDraw;
  private long done;
  private int lastWidth;
  private boolean drawn;

  private Progress(PrintStream err, long total, LongSupplier clock) {
    this.err = err;
    this.total = total;
    this.clock = clock;
    this.start = clock.getAsLong();
    this.lastDraw = start;
  }

  /**
   * A bar for a transfer of {@code total} bytes (-1 if unknown) in {@code env}, or one that draws
   * nothing when stderr is no terminal or the transfer is small.
   */
  static Progress start(Env env, long total) {
    if ((total >= 0 && total < THRESHOLD) || !env.stderrIsTerminal().getAsBoolean()) {
      return NONE;
    }
    return new Progress(env.err(), total, env.nanoClock());
  }

  /** Counts {@code bytes} more done, redrawing if the last frame is old enough. */
  void advance(long bytes) {
    done += bytes;
    if (done < THRESHOLD) {
      return;
    }
    long now = clock.getAsLong();
    if (now - lastDraw >= REDRAW_NANOS) {
      draw(now);
    }
  }

  /** Bytes counted so far. */
  long done() {
    return done;
  }

  /** Draws the last frame and ends the line, if a bar was shown at all. */
  void finish() {
    if (!drawn) {
      return;
    }
    draw(clock.getAsLong());
    err.print('\n');
    err.flush();
    drawn = false; // a second call prints nothing
  }

  private void draw(long now) {
    String frame = render(done, total, now - start);
    int pad = Math.max(0, lastWidth - frame.length());
    err.print('\r' + frame + " ".repeat(pad));
    err.flush();
    lastWidth = frame.length();
    lastDraw = now;
    drawn = true;
  }

  /**
   * One frame: {@code [=====> ] 42% 27.0/64.0 MiB 13.5 MiB/s ETA 3s}; without a known total, {@code
   * 27.0 MiB 13.5 MiB/s}.
   */
  static String render(long done, long total, long elapsedNanos) {
    double seconds = elapsedNanos / 1e9;
    double rate = seconds > 0 ? done / seconds : 0;
    String rateText = String.format(Locale.ROOT, "%.1f MiB/s", rate / (1 << 20));
    if (total < 0) {
      return mib(done) + " MiB  " + rateText;
    }
    long shown = Math.min(done, total);
    int percent = total == 0 ? 100 : (int) (shown * 100 / total);
    int filled = total == 0 ? BAR : (int) (shown * BAR / total);
    StringBuilder bar = new StringBuilder(BAR + 2).append('[');
    for (int i = 0; i < BAR; i++) {
      bar.append(i < filled ? '=' : i == filled ? '>' : ' ');
    }
    bar.append(']');
    String eta = rate > 0 ? duration((long) Math.ceil((total - shown) / rate)) : "--";
    return String.format(
        Locale.ROOT,
        "%s %3d%%  %s/%s MiB  %s  ETA %s",
        bar,
        percent,
        mib(shown),
        mib(total),
        rateText,
        eta);
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f", bytes / (double) (1 << 20));
  }

  private static String duration(long seconds) {
    if (seconds < 60) {
      return seconds + "s";
    }
    if (seconds < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60);
  }
}
