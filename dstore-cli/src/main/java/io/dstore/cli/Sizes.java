package io.dstore.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Byte sizes as people write them: {@code 4096}, {@code 64k}, {@code 64m}, {@code 256MiB}, {@code
 * 1g}, {@code 1GiB}. Every unit is a power of 1024 ({@code k}, {@code kb} and {@code KiB} all mean
 * 1,024 bytes); case does not matter. The one parser of sizes for every option of the CLI.
 */
final class Sizes {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([a-zA-Z]*)");
  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

  private Sizes() {}

  /**
   * Parses a size.
   *
   * @throws IllegalArgumentException naming the bad input and showing valid forms
   */
  static long parse(String text) {
    Matcher m = SIZE.matcher(text.strip());
    if (!m.matches()) {
      throw bad(text);
    }
    int shift =
        switch (m.group(2).toLowerCase(Locale.ROOT)) {
          case "", "b" -> 0;
          case "k", "kb", "kib" -> 10;
          case "m", "mb", "mib" -> 20;
          case "g", "gb", "gib" -> 30;
          case "t", "tb", "tib" -> 40;
          default -> throw bad(text);
        };
    try {
      long n = Long.parseLong(m.group(1));
      if (n > (Long.MAX_VALUE >> shift)) {
        throw new ArithmeticException();
      }
      return n << shift;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("size '" + text + "' is too large", e);
    }
  }

  /** Formats {@code bytes} for people: {@code 512 B}, {@code 1.5 KiB}, {@code 256.0 MiB}. */
  static String format(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    double v = bytes;
    int unit = 0;
    while (v >= 1024 && unit < UNITS.length - 1) {
      v /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, UNITS[unit]);
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "invalid size '"
            + text
            + "': use a whole number of bytes with an optional unit"
            + " (k, m, g, t or KiB, MiB, GiB, TiB), e.g. 4096, 64m, 256MiB, 1g");
  }

  /** picocli converter for size options ({@code long}). */
  static final class Converter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** picocli converter for size options that must fit an {@code int} (key and message sizes). */
  static final class IntConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      long n = new Converter().convert(value);
      if (n > Integer.MAX_VALUE) {
        throw new CommandLine.TypeConversionException(
            "size '" + value + "' is too large: at most " + format(Integer.MAX_VALUE));
      }
      return (int) n;
    }
  }
}
