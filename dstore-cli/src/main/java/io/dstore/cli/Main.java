package io.dstore.cli;

import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;
import picocli.CommandLine;

/**
 * The {@code dstore} command: {@code global}, {@code local}, {@code demo} and the one-shot {@code
 * put}, {@code get}, {@code del} and {@code stat}. Run {@code dstore --help} for the usage.
 *
 * <p>Exit codes: 0 success, 1 not found or already exists, 2 usage error or invalid argument, 3
 * Global unreachable, 4 authentication or permission refused.
 */
public final class Main {
  private Main() {}

  /** Runs the command line and exits the JVM with its exit code. */
  public static void main(String[] args) {
    int code = run(args, Env.system());
    System.exit(code);
  }

  /**
   * Runs the command line with these streams, as a process whose stdin and stderr are no terminal
   * and that is never signalled; returns the exit code. For tests.
   */
  static int run(String[] args, PrintStream out, PrintStream err, InputStream in) {
    LongSupplier clock = System::nanoTime;
    StopSignal never =
        onAbruptExit -> {
          throw new UnsupportedOperationException("no stop signal in this environment");
        };
    return run(args, new Env(out, err, in, () -> false, () -> false, clock, never));
  }

  /** Runs the command line in {@code env}; returns the exit code. */
  static int run(String[] args, Env env) {
    try {
      return commandLine(env).execute(args);
    } finally {
      env.out().flush();
      env.err().flush();
    }
  }

  /** The command tree. Every subcommand is registered here, and only here. */
  static CommandLine commandLine(Env env) {
    CommandLine cli =
        new CommandLine(new DstoreCommand())
            .addSubcommand(new GlobalCommand(env))
            .addSubcommand(new LocalCommand(env))
            .addSubcommand(new DemoCommand(env))
            .addSubcommand(new PutCommand(env))
            .addSubcommand(new GetCommand(env))
            .addSubcommand(new DelCommand(env))
            .addSubcommand(new StatCommand(env));
    ErrorHandler errors = new ErrorHandler();
    cli.setOut(new PrintWriter(new OutputStreamWriter(env.out(), StandardCharsets.UTF_8), true))
        .setErr(new PrintWriter(new OutputStreamWriter(env.err(), StandardCharsets.UTF_8), true))
        .setParameterExceptionHandler(errors)
        .setExecutionExceptionHandler(errors)
        .setCaseInsensitiveEnumValuesAllowed(true);
    return cli;
  }
}
