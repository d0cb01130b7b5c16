package io.dstore.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/** Runs {@link Main} in this JVM with captured streams; for tests. */
final class Cli {
  private Cli() {}

  /**
   * What a run printed and returned.
   *
   * @param exit the exit code
   * @param stdout the bytes on stdout
   * @param err stderr as text
   */
  @SuppressWarnings("ArrayRecordComponent") // a test helper; nobody compares Results
  record Result(int exit, byte[] stdout, String err) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out() + "\n--- stderr\n" + err;
    }
  }

  static Result run(String... args) {
    return run(new byte[0], args);
  }

  /** Runs through {@link Main#run(String[], PrintStream, PrintStream, InputStream)}. */
  static Result run(byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        Main.run(
            args,
            new PrintStream(out, false, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new ByteArrayInputStream(stdin));
    return new Result(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  /** Runs with these environment variables (and no others) and {@code stdin}. */
  static Result runWithEnvironment(Map<String, String> environment, byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Env env =
        new Env(
            new PrintStream(out, false, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new ByteArrayInputStream(stdin),
            () -> false,
            () -> false,
            System::nanoTime,
            onExit -> {
              throw new UnsupportedOperationException("not in this test");
            },
            environment::get);
    int exit = Main.run(args, env);
    return new Result(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  static Result run(
      InputStream stdin, BooleanSupplier stderrIsTerminal, LongSupplier clock, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream outStream = new PrintStream(out, false, StandardCharsets.UTF_8);
    PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
    Env env =
        new Env(
            outStream,
            errStream,
            stdin,
            () -> false,
            stderrIsTerminal,
            clock,
            onExit -> {
              throw new UnsupportedOperationException("not in this test");
            });
    int exit = Main.run(args, env);
    return new Result(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }
}
