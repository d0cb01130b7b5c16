package io.dstore.cli;

import java.io.IOException;

/**
 * A line of the REPL's input that was read to its end but cannot be used: not valid UTF-8, or too
 * long. The REPL prints the message as the line's one result and reads on; the next {@link
 * ReplLines#next()} returns the next line.
 */
final class UnreadableLine extends IOException {
  private static final long serialVersionUID = 1L;

  UnreadableLine(String message) {
    super(message);
  }
}
