package io.dstore.cli;

import java.io.Console;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Whether the standard streams of this process are terminals. */
final class Terminals {
  private Terminals() {}

  /**
   * Whether stdin and stdout are both a terminal (someone is typing and watching). Uses {@link
   * System#console()}, which on Java 22+ may exist without a terminal, hence {@code isTerminal()}
   * when the runtime has it.
   */
  @SuppressWarnings("SystemConsoleNull") // handled: isTerminal() is asked on Java 22+
  static boolean interactive() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      Method isTerminal = Console.class.getMethod("isTerminal"); // Java 22+
      return (Boolean) isTerminal.invoke(console);
    } catch (NoSuchMethodException e) {
      return true; // Java 21: a console exists only when stdin and stdout are a terminal
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  /**
   * Whether stderr is a terminal. On Linux this reads where {@code /proc/self/fd/2} points (a
   * {@code /dev/pts/N} or {@code /dev/ttyN}), so it is right even when stdout is redirected to a
   * file, the case where a progress bar matters most. Elsewhere it falls back to {@link
   * #interactive()}.
   */
  static boolean stderrIsTerminal() {
    try {
      Path fd = Path.of("/proc/self/fd/2");
      if (Files.isSymbolicLink(fd)) {
        String target = Files.readSymbolicLink(fd).toString();
        return target.startsWith("/dev/pts/")
            || target.startsWith("/dev/tty")
            || target.equals("/dev/console");
      }
    } catch (IOException | InvalidPathException | UnsupportedOperationException e) {
      // not Linux, or no procfs: fall back below
    }
    return interactive();
  }
}
