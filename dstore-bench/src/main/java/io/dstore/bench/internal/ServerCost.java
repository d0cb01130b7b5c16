package io.dstore.bench.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * What a server process costs, read from outside it: CPU time from {@code /proc/PID/stat}, resident
 * memory from {@code /proc/PID/status} (after asking a JVM to collect its garbage first), and the
 * arithmetic that turns two readings into a cost per operation or per connection. Stateless and
 * thread-safe; on a system without {@code /proc} every reading is empty and every figure absent.
 */
final class ServerCost {
  /**
   * Clock ticks per second of {@code /proc/PID/stat}'s utime and stime (USER_HZ: 100 on every Linux
   * this runs on; the JDK offers no way to ask sysconf).
   */
  static final long TICKS_PER_SECOND = 100;

  private ServerCost() {}

  /** User plus system CPU time process {@code pid} has used so far, in nanoseconds. */
  static OptionalLong cpuNanos(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return OptionalLong.of(TimeUnit.SECONDS.toNanos(cpuTicks(stat)) / TICKS_PER_SECOND);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty(); // not Linux, or the process is gone
    }
  }

  /**
   * utime + stime (fields 14 and 15) of one {@code /proc/PID/stat} line. The command name (field 2)
   * is in parentheses and may itself hold spaces and parentheses, so fields are counted from the
   * last ')'.
   *
   * @throws IllegalArgumentException if the line is not a stat line
   */
  static long cpuTicks(String statLine) {
    int close = statLine.lastIndexOf(')');
    if (close < 0) {
      throw new IllegalArgumentException("not a /proc/PID/stat line: " + statLine);
    }
    // After ")": field 3 (state) is the first; utime is field 14, stime field 15.
    String[] f = statLine.substring(close + 1).trim().split("\\s+", -1);
    if (f.length < 13) {
      throw new IllegalArgumentException("not a /proc/PID/stat line: " + statLine);
    }
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /**
   * Resident memory of the JVM {@code pid} after a full collection ({@code jcmd PID GC.run}, so
   * that garbage does not count as cost), or as it is if jcmd is not available.
   */
  static OptionalLong settledJvmRss(long pid) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (Files.isExecutable(jcmd)) {
      try {
        Process p =
            new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          Procs.stop(p, 1000);
        }
      } catch (IOException e) {
        // no collection then; the reading is still a reading
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return Procs.rssBytes(pid);
  }

  /**
   * CPU time per operation in microseconds: the CPU used between two readings, less what the
   * process used anyway in that time at {@code idleNanosPerSecond} (background work such as lease
   * renewals; 0 to charge everything to the operations), over {@code ops}. Empty if a reading is
   * missing or there were no operations; never negative.
   */
  static OptionalDouble cpuMicrosPerOp(
      OptionalLong before,
      OptionalLong after,
      long elapsedNanos,
      double idleNanosPerSecond,
      long ops) {
    if (before.isEmpty() || after.isEmpty() || ops <= 0) {
      return OptionalDouble.empty();
    }
    double used = after.getAsLong() - before.getAsLong();
    double idle = idleNanosPerSecond * elapsedNanos / 1e9;
    return OptionalDouble.of(Math.max(0, used - idle) / ops / 1000.0);
  }

  /**
   * CPU the process used per second of wall time between two readings {@code elapsedNanos} apart,
   * in nanoseconds per second; empty if a reading is missing or no time passed.
   */
  static OptionalDouble cpuNanosPerSecond(
      OptionalLong before, OptionalLong after, long elapsedNanos) {
    if (before.isEmpty() || after.isEmpty() || elapsedNanos <= 0) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of((after.getAsLong() - before.getAsLong()) * 1e9 / elapsedNanos);
  }

  /**
   * Memory per connection in bytes: resident memory with {@code connections} connected minus
   * without any, over {@code connections}. Empty if a reading is missing or there are none. May be
   * negative when the process gave memory back in between (reported as measured).
   */
  static OptionalDouble bytesPerConnection(
      OptionalLong without, OptionalLong with, int connections) {
    if (without.isEmpty() || with.isEmpty() || connections <= 0) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of((double) (with.getAsLong() - without.getAsLong()) / connections);
  }
}
