package io.dstore.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/** Where the REPL's lines come from: a terminal with line editing, or a plain stream. */
interface ReplLines extends AutoCloseable {

  /**
   * The next line without its terminator, or null at end of input.
   *
   * @throws UnreadableLine for a line that was read but cannot be used; the next call goes on with
   *     the next line
   * @throws IOException if the input cannot be read
   */
  String next() throws IOException;

  @Override
  void close() throws IOException;

  /**
   * Plain lines of UTF-8 from {@code in}, a pipe or a file: no prompt, no echo. A line that is not
   * valid UTF-8 or is too long comes as {@link UnreadableLine}; see {@link PipeLines}.
   */
  static ReplLines plain(InputStream in) {
    return new PipeLines(in, PipeLines.DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * Lines typed at the terminal, edited with JLine, with the {@code db > } prompt and a history
   * kept in {@code ~/.dstore_history}. Ctrl-C drops the line being typed; Ctrl-D ends the input.
   */
  static ReplLines terminal(String prompt) throws IOException {
    Terminal terminal = TerminalBuilder.builder().system(true).name("dstore").build();
    LineReader reader =
        LineReaderBuilder.builder()
            .terminal(terminal)
            .appName("dstore")
            .variable(
                LineReader.HISTORY_FILE,
                Path.of(System.getProperty("user.home"), ".dstore_history"))
            .build();
    return new ReplLines() {
      @Override
      public String next() {
        while (true) {
          try {
            return reader.readLine(prompt);
          } catch (UserInterruptException e) {
            // Ctrl-C: forget this line, prompt again
          } catch (EndOfFileException e) {
            return null;
          }
        }
      }

      @Override
      public void close() throws IOException {
        try {
          reader.getHistory().save();
        } finally {
          terminal.close();
        }
      }
    };
  }
}
