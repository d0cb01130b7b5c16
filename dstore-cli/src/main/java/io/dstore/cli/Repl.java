package io.dstore.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read-eval-print loop of {@code dstore local} and {@code dstore demo}: reads lines, parses
 * them with {@link ReplParser}, runs them and prints their result on stdout. Blank lines print
 * nothing; every other line prints its result (one line when not interactive), errors included, and
 * so does a line that cannot be read as text ({@link UnreadableLine}). The loop ends at {@code
 * .exit} or end of input.
 */
final class Repl {
  static final String PROMPT = "db > ";
  private static final Logger log = LoggerFactory.getLogger(Repl.class);

  private final ReplSession session;
  private final ReplLines lines;
  private final PrintStream out;

  Repl(ReplSession session, ReplLines lines, PrintStream out) {
    this.session = session;
    this.lines = lines;
    this.out = out;
  }

  /** Runs until {@code .exit} or end of input. */
  void run() throws IOException {
    while (true) {
      String line;
      try {
        line = lines.next();
      } catch (UnreadableLine e) {
        out.println(e.getMessage()); // the line's one result
        out.flush();
        continue;
      }
      if (line == null) {
        return;
      }
      Optional<ReplCommand> parsed = ReplParser.parse(line);
      if (parsed.isEmpty()) {
        continue;
      }
      ReplCommand command = parsed.get();
      String result;
      try {
        result = command.run(session);
      } catch (RuntimeException e) {
        // A bug, not a user error: say so on one line, keep the session alive.
        log.debug("command failed: {}", line, e);
        result = "Internal error: " + Text.oneLine(String.valueOf(e));
      }
      if (result != null) {
        out.println(result);
        out.flush();
      }
      if (command instanceof ReplCommand.Exit) {
        return;
      }
    }
  }
}
