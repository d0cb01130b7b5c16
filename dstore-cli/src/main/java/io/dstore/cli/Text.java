package io.dstore.cli;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Turning keys, values and messages into text that fits on one line. */
final class Text {
  private static final int SHORT = 80;

  private Text() {}

  /**
   * Decodes {@code bytes} as UTF-8 (malformed input becomes U+FFFD) and escapes line breaks and
   * other control characters except tab as {@code \n}, {@code \r}, {@code \x07}..., so a value
   * always prints on one line.
   */
  static String printable(byte[] bytes) {
    String s;
    try {
      s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPLACE)
              .onUnmappableCharacter(CodingErrorAction.REPLACE)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new AssertionError("REPLACE never throws", e);
    }
    return oneLine(s);
  }

  /**
   * Escapes what could break the line or drive a terminal, so that {@code s} prints as one line: C0
   * and C1 control characters except tab ({@code \n}, {@code \r}, {@code \x07}, {@code \x9b}...),
   * DEL, the Unicode line and paragraph separators U+2028 and U+2029, and unpaired surrogates,
   * which no UTF-8 output can carry (these three as a backslash, {@code u} and four hex digits).
   */
  static String oneLine(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String escape = escape(s, i, c);
      if (escape == null) {
        if (b != null) {
          b.append(c);
        }
        continue;
      }
      if (b == null) {
        b = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      b.append(escape);
    }
    return b == null ? s : b.toString();
  }

  /** How the char at {@code i} prints, or null when as itself. */
  private static String escape(String s, int i, char c) {
    if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
      return null;
    }
    if (c == '\n') {
      return "\\n";
    }
    if (c == '\r') {
      return "\\r";
    }
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return String.format("\\x%02x", (int) c);
    }
    if (c == '\u2028' || c == '\u2029') {
      return String.format("\\u%04x", (int) c);
    }
    if (Character.isHighSurrogate(c)) {
      boolean paired = i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
      return paired ? null : String.format("\\u%04x", (int) c);
    }
    if (Character.isLowSurrogate(c)) {
      boolean paired = i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
      return paired ? null : String.format("\\u%04x", (int) c);
    }
    return null;
  }

  /** The index of the first unpaired surrogate in {@code s}, or -1 when it is well-formed. */
  static int unpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        return i;
      }
      if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /** {@code key} for a message: one line, cut to 80 characters with an ellipsis. */
  static String shorten(String key) {
    String s = oneLine(key);
    if (s.length() <= SHORT) {
      return s;
    }
    int cut = SHORT - 3;
    if (Character.isHighSurrogate(s.charAt(cut - 1))) {
      cut--; // never half a pair
    }
    return s.substring(0, cut) + "...";
  }
}
