package io.dstore.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/** Where the REPL's lines come from: a terminal with line editing, or a plain stream. */
interface ReplLines extends AutoCloseable {

  /** The next line without its terminator, or null at end of input. */
  String next() throws IOException;

  @Override
  void close() throws IOException;

  /** Plain lines of UTF-8 from {@code in}: a pipe or a file. No prompt, no echo. */
  static ReplLines plain(InputStream in) {
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    return new ReplLines() {
      @Override
      public String next() throws IOException {
        return reader.readLine();
      }

      @Override
      public void close() {
        // the caller owns the stream
      }
    };
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
