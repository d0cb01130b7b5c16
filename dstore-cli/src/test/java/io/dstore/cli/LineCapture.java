package io.dstore.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An output stream that keeps what was written and lets a test wait for a line; for tests. */
final class LineCapture extends OutputStream {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

  @Override
  public synchronized void write(int b) {
    bytes.write(b);
    notifyAll();
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    bytes.write(b, off, len);
    notifyAll();
  }

  synchronized String text() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** Waits until a whole line matches {@code pattern}; returns the match. */
  synchronized Matcher awaitLine(Pattern pattern, long timeout, TimeUnit unit)
      throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    while (true) {
      for (String line : text().split("\n", -1)) {
        Matcher m = pattern.matcher(line);
        if (m.matches() && text().contains(line + "\n")) {
          return m;
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no line matching " + pattern + " in:\n" + text());
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }
}
