package io.dstore.cli;

import io.dstore.wire.DstoreException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns failures into one line on stderr and an exit code: usage errors get a hint and exit 2;
 * expected failures ({@link Failure}, {@link DstoreException}) print their message and exit with
 * the code of {@link ExitCodes}; only a bug prints a stack trace.
 */
final class ErrorHandler implements IParameterExceptionHandler, IExecutionExceptionHandler {

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    String name = cmd.getCommandSpec().qualifiedName();
    String message = String.valueOf(ex.getMessage());
    if (ex instanceof UnmatchedArgumentException
        && cmd.getCommandSpec().parent() == null
        && args.length > 0
        && !args[0].startsWith("-")) {
      // the first word is no subcommand
      message = "Unknown command '" + args[0] + "'";
    }
    err.println(name + ": " + Text.oneLine(message));
    err.println("Try '" + name + " --help' for more information.");
    err.flush();
    return ExitCodes.USAGE;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    PrintWriter err = cmd.getErr();
    int code;
    if (ex instanceof Failure f) {
      err.println(f.getMessage());
      code = f.exitCode();
    } else if (ex instanceof DstoreException e) {
      err.println(ExitCodes.describe(e, null));
      code = ExitCodes.of(e.code());
    } else {
      err.println("dstore: unexpected error: " + ex);
      ex.printStackTrace(err);
      code = cmd.getCommandSpec().exitCodeOnExecutionException();
    }
    err.flush();
    return code;
  }
}
