package io.dstore.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Durations as people write them: a whole number and a unit, {@code 500ms}, {@code 2s}, {@code 1m},
 * {@code 1h} (also {@code ns}, {@code us}, {@code min}). A bare number is refused: {@code 2} could
 * mean seconds or milliseconds.
 */
final class Durations {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*([a-zA-Zµ]*)");

  private Durations() {}

  /**
   * Parses a duration.
   *
   * @throws IllegalArgumentException naming the bad input and showing valid forms
   */
  static Duration parse(String text) {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw bad(text);
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("duration '" + text + "' is too large", e);
    }
    try {
      return switch (m.group(2).toLowerCase(Locale.ROOT)) {
        case "ns" -> Duration.ofNanos(n);
        case "us", "µs" -> Duration.ofNanos(Math.multiplyExact(n, 1000L));
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m", "min" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> throw bad(text);
      };
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("duration '" + text + "' is too large", e);
    }
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "invalid duration '"
            + text
            + "': use a whole number with a unit (ms, s, m, h), e.g. 500ms, 2s, 1m");
  }

  /** picocli converter for duration options. */
  static final class Converter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
