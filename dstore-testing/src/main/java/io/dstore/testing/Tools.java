package io.dstore.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;

/** Finding the outside programs a fixture runs, and the one policy for when one is missing. */
final class Tools {
  private Tools() {}

  /** The first executable {@code name} on PATH. */
  static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String d : path.split(File.pathSeparator)) {
      if (d.isEmpty()) {
        continue;
      }
      Path p = Path.of(d, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Whether this runs under CI: the environment variable {@code CI} is set and not "false". */
  static boolean underCi() {
    String ci = System.getenv("CI");
    return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false");
  }

  /**
   * A program a test needs is missing: under CI (which runs the install scripts first) this fails
   * the test; elsewhere it skips the test, with {@code reason} as what JUnit reports.
   */
  static void missing(String reason) {
    if (underCi()) {
      throw new AssertionError(reason + " [CI is set: failing instead of skipping]");
    }
    System.out.println("skipped: " + reason);
    Assumptions.abort(reason);
  }

  /** The last lines of a log file, for failure messages. */
  static String tail(Path log) {
    try {
      List<String> lines = List.of(Files.readString(log, StandardCharsets.ISO_8859_1).split("\n"));
      return IntStream.range(Math.max(0, lines.size() - 30), lines.size())
          .mapToObj(lines::get)
          .collect(Collectors.joining("\n"));
    } catch (IOException e) {
      return "[cannot read " + log + ": " + e + "]";
    }
  }
}
