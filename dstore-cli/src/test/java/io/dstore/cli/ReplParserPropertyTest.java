package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

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
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Random and adversarial lines at the REPL: {@link ReplParser} never throws and answers every line
 * with one command or one one-line error; commands round-trip; keys are checked in UTF-8 bytes at
 * the 1,024-byte limit; {@link PipeLines} turns any bytes into exactly one line or one {@link
 * UnreadableLine} per input line. Pure code, no I/O: jqwik has no class timeout, and none is
 * needed.
 */
class ReplParserPropertyTest {
  private static final String BLANKS = " \t";

  // ---- arbitraries ------------------------------------------------------------------------

  /** Any BMP text (lone surrogates, NUL and controls included), short and very long. */
  @Provide
  Arbitrary<String> anyText() {
    return Arbitraries.oneOf(
        Arbitraries.strings().all().ofMaxLength(200),
        Arbitraries.strings().all().ofMinLength(1000).ofMaxLength(20_000));
  }

  /** Lines made of command words, blanks and troublesome characters. */
  @Provide
  Arbitrary<String> hostileLines() {
    Arbitrary<String> word =
        Arbitraries.of(
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
            "\uFEFF");
    Arbitrary<String> blanks = Arbitraries.strings().withChars(BLANKS).ofMaxLength(3);
    return Combinators.combine(word, blanks, word, blanks, anyText(), word)
        .as((a, s1, b, s2, c, d) -> a + s1 + b + s2 + c + d);
  }

  @Provide
  Arbitrary<String> setVerbs() {
    return caseMix(Arbitraries.of("set", "put", "insert", "in", "i"));
  }

  @Provide
  Arbitrary<String> getVerbs() {
    return caseMix(Arbitraries.of("get", "select", "output", "out", "o"));
  }

  @Provide
  Arbitrary<String> delVerbs() {
    return caseMix(Arbitraries.of("del", "delete", "rem", "remove", "rm", "d"));
  }

  private static Arbitrary<String> caseMix(Arbitrary<String> words) {
    return Combinators.combine(words, Arbitraries.longs())
        .as(
            (w, bits) -> {
              StringBuilder b = new StringBuilder();
              for (int i = 0; i < w.length(); i++) {
                char c = w.charAt(i);
                b.append(((bits >> i) & 1) == 1 ? Character.toUpperCase(c) : c);
              }
              return b.toString();
            });
  }

  /** Valid keys: well-formed text without blanks, 1 to 1,024 bytes in UTF-8. */
  @Provide
  Arbitrary<String> keys() {
    return Arbitraries.strings()
        .all()
        .excludeChars(' ', '\t')
        .ofMinLength(1)
        .ofMaxLength(300)
        .filter(k -> Text.unpairedSurrogate(k) < 0)
        .filter(k -> utf8Length(k) <= ReplParser.MAX_KEY_BYTES);
  }

  /** Values: any well-formed text, spaces, tabs and controls included. */
  @Provide
  Arbitrary<String> values() {
    return Arbitraries.oneOf(
            Arbitraries.strings().all().ofMaxLength(300),
            Arbitraries.strings().withChars(" \tab\u0000\r\n").ofMaxLength(20))
        .filter(v -> Text.unpairedSurrogate(v) < 0);
  }

  @Provide
  Arbitrary<String> leadingBlanks() {
    return Arbitraries.strings().withChars(BLANKS).ofMaxLength(4);
  }

  @Provide
  Arbitrary<String> separators() {
    return Arbitraries.strings().withChars(BLANKS).ofMinLength(1).ofMaxLength(4);
  }

  @Provide
  Arbitrary<Character> blank() {
    return Arbitraries.of(' ', '\t');
  }

  /** Bytes biased towards line ends, invalid UTF-8 and multi-byte sequences. */
  @Provide
  Arbitrary<byte[]> hostileBytes() {
    Arbitrary<Byte> b =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(5, Arbitraries.bytes()),
            net.jqwik.api.Tuple.of(
                5,
                Arbitraries.of(
                    (byte) '\n',
                    (byte) '\r',
                    (byte) 'a',
                    (byte) ' ',
                    (byte) 0,
                    (byte) 0xff,
                    (byte) 0xc3,
                    (byte) 0xa9,
                    (byte) 0xed,
                    (byte) 0xa0,
                    (byte) 0x80,
                    (byte) 0xf0,
                    (byte) 0x9f)));
    return b.list()
        .ofMaxSize(400)
        .map(
            list -> {
              byte[] bytes = new byte[list.size()];
              for (int i = 0; i < bytes.length; i++) {
                bytes[i] = list.get(i);
              }
              return bytes;
            });
  }

  // ---- the parser -------------------------------------------------------------------------

  @Property(tries = 2000)
  void anyLineGivesNothingOrOneCommandOrOneErrorLine(@ForAll("hostileLines") String line) {
    checkOneAnswer(line);
  }

  @Property(tries = 500)
  void anyTextGivesNothingOrOneCommandOrOneErrorLine(@ForAll("anyText") String line) {
    checkOneAnswer(line);
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

  @Property
  void setRoundTripsWithTheValuesSpacesKept(
      @ForAll("leadingBlanks") String lead,
      @ForAll("setVerbs") String verb,
      @ForAll("separators") String separator,
      @ForAll("keys") String key,
      @ForAll("blank") char beforeValue,
      @ForAll("values") String value) {
    String line = lead + verb + separator + key + beforeValue + value;
    assertThat(ReplParser.parse(line)).contains(new ReplCommand.Set(key, value));
  }

  @Property
  void getAndDelRoundTrip(
      @ForAll("getVerbs") String get,
      @ForAll("delVerbs") String del,
      @ForAll("separators") String separator,
      @ForAll("keys") String key,
      @ForAll("leadingBlanks") String trailing) {
    assertThat(ReplParser.parse(get + separator + key + trailing))
        .contains(new ReplCommand.Get(key));
    assertThat(ReplParser.parse(del + separator + key + trailing))
        .contains(new ReplCommand.Del(key));
  }

  /**
   * A key of 'a's with one character of 1 to 4 UTF-8 bytes somewhere: exactly 1,024 bytes passes,
   * 1,025 is refused naming its size, wherever the multi-byte character falls.
   */
  @Property
  void keysAreMeasuredInUtf8BytesAtTheLimit(
      @ForAll @IntRange(min = 1, max = 4) int width,
      @ForAll @IntRange(min = 0, max = 1024) int at) {
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

  @Property
  void keysWithAnUnpairedSurrogateAreRefused(
      @ForAll("keys") String key,
      @ForAll @IntRange(min = 0, max = 300) int at,
      @ForAll("surrogates") char surrogate) {
    int i = Math.min(at, key.length());
    String bad = key.substring(0, i) + surrogate + key.substring(i);
    if (Text.unpairedSurrogate(bad) < 0) {
      return; // it completed a pair already in the key
    }
    Optional<ReplCommand> parsed = ReplParser.parse("GET " + bad);
    assertThat(parsed).get().isInstanceOf(ReplCommand.Invalid.class);
    assertThat(((ReplCommand.Invalid) parsed.get()).message()).contains("unpaired surrogate");
  }

  @Provide
  Arbitrary<Character> surrogates() {
    return Arbitraries.chars().range('\ud800', '\udfff');
  }

  @Property(tries = 500)
  void oneLineNeverLeavesALineBreakOrAnUnpairedSurrogate(@ForAll("anyText") String s) {
    assertOneLine(Text.oneLine(s));
    assertOneLine(Text.shorten(s));
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
  @Property(tries = 2000)
  void pipeLinesGiveOneAnswerPerInputLine(@ForAll("hostileBytes") byte[] input) throws IOException {
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
