package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.ForAll;
import io.dstore.testing.Gen;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random and adversarial lines at the REPL: {@link ReplParser} never throws and answers every line
 * with one command or one one-line error; commands round-trip; keys are checked in UTF-8 bytes at
 * the 1,024-byte limit; {@link PipeLines} turns any bytes into exactly one line or one {@link
 * UnreadableLine} per input line. Pure code, no I/O.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplParserPropertyTest {
  private static final String BLANKS = " \t";

  // ---- generators -------------------------------------------------------------------------

  /** Any UTF-16 text (lone surrogates, NUL and controls included), short and very long. */
  static String anyText(Random r) {
    return Gen.chance(r, 0.8) ? Gen.anyText(r, 0, 200) : Gen.anyText(r, 1000, 20_000);
  }

  private static final String[] WORDS = {
    "SET",
    "set",
    "PuT",
    "i",
    "IN",
    "GET",
    "o",
    "out",
    "DEL",
    "d",
    "rm",
    ".exit",
    ".stats",
    ".help",
    ".version",
    ".EXIT",
    "",
    "k",
    "\u0000",
    "\n",
    "\r",
    "\u2028",
    "\u0085",
    "\u001b[2J",
    "\ud800",
    "\udc00",
    "\ud83d\ude00",
    "é",
    "鍵",
    "\uFFFD",
    "\uFEFF"
  };

  /** Lines made of command words, blanks and troublesome characters. */
  static String hostileLine(Random r) {
    return Gen.pick(r, WORDS)
        + Gen.textOf(r, BLANKS, 0, 3)
        + Gen.pick(r, WORDS)
        + Gen.textOf(r, BLANKS, 0, 3)
        + anyText(r)
        + Gen.pick(r, WORDS);
  }

  static String setVerb(Random r) {
    return caseMix(r, Gen.pick(r, "set", "put", "insert", "in", "i"));
  }

  static String getVerb(Random r) {
    return caseMix(r, Gen.pick(r, "get", "select", "output", "out", "o"));
  }

  static String delVerb(Random r) {
    return caseMix(r, Gen.pick(r, "del", "delete", "rem", "remove", "rm", "d"));
  }

  private static String caseMix(Random r, String word) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < word.length(); i++) {
      char c = word.charAt(i);
      b.append(r.nextBoolean() ? Character.toUpperCase(c) : c);
    }
    return b.toString();
  }

  /** Valid keys: well-formed text without blanks, 1 to 300 chars (at most 903 UTF-8 bytes). */
  static String key(Random r) {
    String k = Gen.wellFormedText(r, 1, 300).replace(' ', '_').replace('\t', '_');
    assertThat(utf8Length(k)).isLessThanOrEqualTo(ReplParser.MAX_KEY_BYTES);
    return k;
  }

  /** Values: any well-formed text, spaces, tabs and controls included. */
  static String value(Random r) {
    return Gen.chance(r, 0.5)
        ? Gen.wellFormedText(r, 0, 300)
        : Gen.textOf(r, " \tab\u0000\r\n", 0, 20);
  }

  static String leadingBlanks(Random r) {
    return Gen.textOf(r, BLANKS, 0, 4);
  }

  static String separator(Random r) {
    return Gen.textOf(r, BLANKS, 1, 4);
  }

  private static final byte[] TROUBLE_BYTES = {
    '\n',
    '\r',
    'a',
    ' ',
    0,
    (byte) 0xff,
    (byte) 0xc3,
    (byte) 0xa9,
    (byte) 0xed,
    (byte) 0xa0,
    (byte) 0x80,
    (byte) 0xf0,
    (byte) 0x9f
  };

  /** Bytes biased towards line ends, invalid UTF-8 and multi-byte sequences. */
  static byte[] hostileBytes(Random r) {
    byte[] bytes = new byte[Gen.size(r, 0, 400)];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] =
          r.nextBoolean() ? (byte) r.nextInt(256) : TROUBLE_BYTES[r.nextInt(TROUBLE_BYTES.length)];
    }
    return bytes;
  }

  /** Shows bytes readably in a failure message. */
  record Bytes(byte[] bytes) {
    @Override
    public String toString() {
      return Arrays.toString(bytes);
    }
  }

  // ---- the parser -------------------------------------------------------------------------

  @Test
  void anyLineGivesNothingOrOneCommandOrOneErrorLine() {
    ForAll.check(2000, ReplParserPropertyTest::hostileLine, ReplParserPropertyTest::checkOneAnswer);
  }

  @Test
  void anyTextGivesNothingOrOneCommandOrOneErrorLine() {
    ForAll.check(500, ReplParserPropertyTest::anyText, ReplParserPropertyTest::checkOneAnswer);
  }

  private static void checkOneAnswer(String line) {
    Optional<ReplCommand> parsed = ReplParser.parse(line);
    if (parsed.isEmpty()) {
      assertThat(line.chars().allMatch(c -> c == ' ' || c == '\t')).as("blank: %s", line).isTrue();
      return;
    }
    switch (parsed.get()) {
      case ReplCommand.Invalid invalid -> {
        assertThat(invalid.message()).isNotBlank();
        assertOneLine(invalid.message());
      }
      case ReplCommand.Set set -> {
        assertThat(ReplParser.checkKey(set.key())).isNull();
        assertThat(Text.unpairedSurrogate(set.value())).isNegative();
      }
      case ReplCommand.Get get -> assertThat(ReplParser.checkKey(get.key())).isNull();
      case ReplCommand.Del del -> assertThat(ReplParser.checkKey(del.key())).isNull();
      case ReplCommand.Exit e ->
          assertThat(line.replaceAll("^[ \t]+|[ \t]+$", "")).isEqualToIgnoringCase(".exit");
      default -> {
        // .stats, .help, .version: no arguments, nothing to check
      }
    }
  }

  record SetLine(String line, String key, String value) {}

  @Test
  void setRoundTripsWithTheValuesSpacesKept() {
    ForAll.check(
        1000,
        r -> {
          String key = key(r);
          String value = value(r);
          String line =
              leadingBlanks(r) + setVerb(r) + separator(r) + key + Gen.pick(r, ' ', '\t') + value;
          return new SetLine(line, key, value);
        },
        c ->
            assertThat(ReplParser.parse(c.line()))
                .contains(new ReplCommand.Set(c.key(), c.value())));
  }

  record KeyLines(String get, String del, String key) {}

  @Test
  void getAndDelRoundTrip() {
    ForAll.check(
        1000,
        r -> {
          String key = key(r);
          String separator = separator(r);
          String trailing = leadingBlanks(r);
          return new KeyLines(
              getVerb(r) + separator + key + trailing,
              delVerb(r) + separator + key + trailing,
              key);
        },
        c -> {
          assertThat(ReplParser.parse(c.get())).contains(new ReplCommand.Get(c.key()));
          assertThat(ReplParser.parse(c.del())).contains(new ReplCommand.Del(c.key()));
        });
  }

  /**
   * A key of 'a's with one character of 1 to 4 UTF-8 bytes somewhere: exactly 1,024 bytes passes,
   * 1,025 is refused naming its size, wherever the multi-byte character falls.
   */
  @Test
  void keysAreMeasuredInUtf8BytesAtTheLimit() {
    ForAll.check(
        1000,
        r -> new WidthAt(1 + r.nextInt(4), r.nextInt(1025)),
        c -> checkKeyAtTheLimit(c.width(), c.at()));
  }

  /** A character {@code width} UTF-8 bytes wide, placed {@code at} chars into the key. */
  record WidthAt(int width, int at) {}

  private static void checkKeyAtTheLimit(int width, int at) {
    String wide =
        switch (width) {
          case 1 -> "z";
          case 2 -> "é";
          case 3 -> "€";
          default -> "\ud83d\ude00"; // one code point, four bytes
        };
    String atLimit = key(wide, width, at, 1024);
    String over = key(wide, width, at, 1025);
    assertThat(utf8Length(atLimit)).isEqualTo(1024);
    assertThat(utf8Length(over)).isEqualTo(1025);
    assertThat(ReplParser.parse("SET " + atLimit + " v"))
        .contains(new ReplCommand.Set(atLimit, "v"));
    assertThat(ReplParser.parse("GET " + atLimit)).contains(new ReplCommand.Get(atLimit));
    ReplCommand.Invalid refused =
        new ReplCommand.Invalid("Invalid key: a key is 1 to 1024 bytes, this one is 1025");
    assertThat(ReplParser.parse("SET " + over + " v")).contains(refused);
    assertThat(ReplParser.parse("GET " + over)).contains(refused);
    assertThat(ReplParser.parse("DEL " + over)).contains(refused);
  }

  private static String key(String wide, int width, int at, int bytes) {
    int as = bytes - width;
    int before = Math.min(at, as);
    return "a".repeat(before) + wide + "a".repeat(as - before);
  }

  @Test
  void keysWithAnUnpairedSurrogateAreRefused() {
    ForAll.check(
        1000,
        r -> {
          String key = key(r);
          int i = r.nextInt(key.length() + 1);
          char surrogate = (char) (Character.MIN_SURROGATE + r.nextInt(0x800));
          return key.substring(0, i) + surrogate + key.substring(i);
        },
        bad -> {
          if (Text.unpairedSurrogate(bad) < 0) {
            return; // it completed a pair already in the key
          }
          Optional<ReplCommand> parsed = ReplParser.parse("GET " + bad);
          assertThat(parsed).get().isInstanceOf(ReplCommand.Invalid.class);
          assertThat(((ReplCommand.Invalid) parsed.get()).message()).contains("unpaired surrogate");
        });
  }

  @Test
  void oneLineNeverLeavesALineBreakOrAnUnpairedSurrogate() {
    ForAll.check(
        500,
        ReplParserPropertyTest::anyText,
        s -> {
          assertOneLine(Text.oneLine(s));
          assertOneLine(Text.shorten(s));
        });
  }

  private static void assertOneLine(String s) {
    assertThat(s).doesNotContain("\n", "\r", "\u2028", "\u2029", "\u0085", "\u001b");
    assertThat(Text.unpairedSurrogate(s)).as("unpaired surrogate in %s", s).isNegative();
  }

  // ---- the pipe reader --------------------------------------------------------------------

  /**
   * Whatever the bytes, each line (ended by \n, \r or \r\n, or by the end) gives exactly one
   * answer: its text when it is valid UTF-8, else {@link UnreadableLine}; nothing else is thrown.
   */
  @Test
  void pipeLinesGiveOneAnswerPerInputLine() {
    ForAll.check(2000, r -> new Bytes(hostileBytes(r)), b -> checkPipeLines(b.bytes()));
  }

  private static void checkPipeLines(byte[] input) throws IOException {
    List<byte[]> expected = splitLines(input);
    PipeLines lines = new PipeLines(new ByteArrayInputStream(input), 64);
    for (byte[] line : expected) {
      String valid = decodeStrictly(line);
      if (valid != null && line.length <= 64) {
        assertThat(lines.next()).isEqualTo(valid);
      } else {
        try {
          String got = lines.next();
          throw new AssertionError(
              "expected UnreadableLine for " + Arrays.toString(line) + ", got " + got);
        } catch (UnreadableLine e) {
          assertOneLine(e.getMessage());
        }
      }
    }
    assertThat(lines.next()).isNull();
    assertThat(lines.next()).isNull();
  }

  /** The lines of {@code input} as BufferedReader would split them, as bytes. */
  private static List<byte[]> splitLines(byte[] input) {
    String latin1 = new String(input, StandardCharsets.ISO_8859_1);
    List<byte[]> lines = new ArrayList<>();
    if (latin1.isEmpty()) {
      return lines;
    }
    String[] parts = latin1.split("\r\n|\r|\n", -1);
    int n = parts.length;
    if (parts[n - 1].isEmpty()) {
      n--; // the input ended with a line end: no further line
    }
    for (int i = 0; i < n; i++) {
      lines.add(parts[i].getBytes(StandardCharsets.ISO_8859_1));
    }
    return lines;
  }

  private static String decodeStrictly(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
