package io.dstore.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * What a command may touch of the outside world, injected so commands run in tests without a
 * terminal, signals or {@code System.exit}.
 *
 * @param out data only: values, keys, result lines of the REPL (UTF-8)
 * @param err messages, progress and logs (UTF-8)
 * @param in the value of {@code put} without one, and the REPL's input
 * @param interactive whether stdin (and stdout) is a terminal: the REPL then shows a banner and a
 *     prompt and edits lines with JLine
 * @param stderrIsTerminal whether stderr is a terminal, so a progress bar may be drawn on it
 * @param nanoClock a monotonic clock in nanoseconds (progress rate, ETA and redraw pacing)
 * @param stopSignal how {@code dstore global} and a {@code dstore local --listen} service learn
 *     that they should stop
 * @param environment the process's environment variables by name (null when unset): {@code
 *     DSTORE_TOKEN}
 */
record Env(
    PrintStream out,
    PrintStream err,
    InputStream in,
    BooleanSupplier interactive,
    BooleanSupplier stderrIsTerminal,
    LongSupplier nanoClock,
    StopSignal stopSignal,
    UnaryOperator<String> environment) {

  /** An environment without variables: what most tests want. */
  Env(
      PrintStream out,
      PrintStream err,
      InputStream in,
      BooleanSupplier interactive,
      BooleanSupplier stderrIsTerminal,
      LongSupplier nanoClock,
      StopSignal stopSignal) {
    this(out, err, in, interactive, stderrIsTerminal, nanoClock, stopSignal, name -> null);
  }

  /** The real process: its standard streams, its terminal, {@code System.nanoTime}, signals. */
  static Env system() {
    PrintStream out =
        new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    PrintStream err =
        new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
    return new Env(
        out,
        err,
        new FileInputStream(FileDescriptor.in),
        Terminals::interactive,
        Terminals::stderrIsTerminal,
        System::nanoTime,
        new SignalStop(),
        System::getenv);
  }
}
