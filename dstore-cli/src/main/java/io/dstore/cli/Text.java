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

  /** Escapes control characters (except tab) so {@code s} prints on one line. */
  static String oneLine(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c >= 0x20 && c != 0x7f) || c == '\t') {
        if (b != null) {
          b.append(c);
        }
        continue;
      }
      if (b == null) {
        b = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        default -> b.append(String.format("\\x%02x", (int) c));
      }
    }
    return b == null ? s : b.toString();
  }

  /** {@code key} for a message: one line, cut to 80 characters with an ellipsis. */
  static String shorten(String key) {
    String s = oneLine(key);
    return s.length() <= SHORT ? s : s.substring(0, SHORT - 3) + "...";
  }
}
