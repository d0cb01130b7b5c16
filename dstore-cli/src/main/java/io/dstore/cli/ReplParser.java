package io.dstore.cli;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * Parses a line of the REPL into a {@link ReplCommand}. Pure: no I/O, no state, so every case is
 * unit-tested.
 *
 * <p>Grammar: the command word is case-insensitive; words are separated by spaces or tabs. For
 * {@code SET KEY VALUE} the value is the rest of the line after the single separator that follows
 * the key, with its spaces kept ({@code SET k hello world} stores {@code hello world}, {@code SET k
 * } stores the empty value). Keys are UTF-8 text of 1 to {@value #MAX_KEY_BYTES} bytes.
 *
 * <p>Any string parses: a line that is no command gives {@link ReplCommand.Invalid} with a one-line
 * message, never an exception. Keys and values must be well-formed Unicode (no unpaired surrogate),
 * since they are stored as UTF-8; every other character, NUL and controls included, is kept as
 * given.
 */
final class ReplParser {
  static final int MAX_KEY_BYTES = 1024;

  private ReplParser() {}

  /** The command on {@code line}, or empty for a blank line (which prints nothing). */
  static Optional<ReplCommand> parse(String line) {
    int start = skipBlanks(line, 0);
    if (start == line.length()) {
      return Optional.empty();
    }
    int end = wordEnd(line, start);
    String word = line.substring(start, end);
    String rest = line.substring(end);
    return Optional.of(
        switch (word.toLowerCase(Locale.ROOT)) {
          case "set", "put", "insert", "in", "i" -> set(word, rest);
          case "get", "select", "output", "out", "o" -> keyOnly(word, rest, ReplCommand.Get::new);
          case "del", "delete", "rem", "remove", "rm", "d" ->
              keyOnly(word, rest, ReplCommand.Del::new);
          case ".exit" -> noArguments(word, rest, new ReplCommand.Exit());
          case ".version" -> noArguments(word, rest, new ReplCommand.ShowVersion());
          case ".help" -> noArguments(word, rest, new ReplCommand.Help());
          case ".stats" -> noArguments(word, rest, new ReplCommand.Stats());
          default ->
              new ReplCommand.Invalid(
                  "Unknown command '" + Text.shorten(word) + "': type .help for the list");
        });
  }

  private static ReplCommand set(String word, String rest) {
    String usage = "Usage: " + word.toUpperCase(Locale.ROOT) + " KEY VALUE";
    int keyStart = skipBlanks(rest, 0);
    if (keyStart == rest.length()) {
      return new ReplCommand.Invalid(usage);
    }
    int keyEnd = wordEnd(rest, keyStart);
    if (keyEnd == rest.length()) {
      return new ReplCommand.Invalid(usage); // no separator after the key: no value
    }
    String key = rest.substring(keyStart, keyEnd);
    String invalid = checkKey(key);
    if (invalid != null) {
      return new ReplCommand.Invalid(invalid);
    }
    String value = rest.substring(keyEnd + 1);
    if (Text.unpairedSurrogate(value) >= 0) {
      return new ReplCommand.Invalid(
          "Invalid value: not valid Unicode text (an unpaired surrogate at character "
              + (Text.unpairedSurrogate(value) + 1)
              + ")");
    }
    return new ReplCommand.Set(key, value);
  }

  private static ReplCommand keyOnly(
      String word, String rest, java.util.function.Function<String, ReplCommand> command) {
    String usage = "Usage: " + word.toUpperCase(Locale.ROOT) + " KEY";
    int keyStart = skipBlanks(rest, 0);
    if (keyStart == rest.length()) {
      return new ReplCommand.Invalid(usage);
    }
    int keyEnd = wordEnd(rest, keyStart);
    if (skipBlanks(rest, keyEnd) != rest.length()) {
      return new ReplCommand.Invalid(usage);
    }
    String key = rest.substring(keyStart, keyEnd);
    String invalid = checkKey(key);
    return invalid != null ? new ReplCommand.Invalid(invalid) : command.apply(key);
  }

  private static ReplCommand noArguments(String word, String rest, ReplCommand command) {
    if (skipBlanks(rest, 0) != rest.length()) {
      return new ReplCommand.Invalid(
          "Usage: " + word.toLowerCase(Locale.ROOT) + " (takes no arguments)");
    }
    return command;
  }

  /** Null if {@code key} is a valid key, else the one-line error. */
  static String checkKey(String key) {
    int unpaired = Text.unpairedSurrogate(key);
    if (unpaired >= 0) {
      return "Invalid key: not valid Unicode text (an unpaired surrogate at character "
          + (unpaired + 1)
          + ")";
    }
    int bytes = key.getBytes(StandardCharsets.UTF_8).length;
    if (bytes == 0) {
      return "Invalid key: a key is 1 to " + MAX_KEY_BYTES + " bytes, this one is empty";
    }
    if (bytes > MAX_KEY_BYTES) {
      return "Invalid key: a key is 1 to " + MAX_KEY_BYTES + " bytes, this one is " + bytes;
    }
    return null;
  }

  private static int skipBlanks(String s, int from) {
    int i = from;
    while (i < s.length() && isBlank(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static int wordEnd(String s, int from) {
    int i = from;
    while (i < s.length() && !isBlank(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }
}
