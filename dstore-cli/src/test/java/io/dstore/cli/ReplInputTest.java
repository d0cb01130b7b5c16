package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile bytes on the REPL's stdin (a pipe): invalid UTF-8, NUL, control characters, CR line ends
 * and an over-long line each cost one result line, never the session.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReplInputTest {
  private static TestGlobal global;

  @BeforeAll
  static void startGlobal() {
    global = TestGlobal.start();
  }

  @AfterAll
  static void stopGlobal() {
    global.close();
  }

  private static byte[] bytes(Object... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      } else if (p instanceof int[] raw) {
        for (int x : raw) {
          b.write(x);
        }
      }
    }
    return b.toByteArray();
  }

  @Test
  void invalidUtf8GetsOneLineEachAndTheSessionGoesOn() {
    byte[] stdin =
        bytes(
            "SET input-ok fine\n",
            "SET bad-",
            new int[] {0xff, 0xfe},
            " v\n", // invalid bytes
            "GET input-ok\n",
            new int[] {0xc3, 0x28},
            "\n", // a truncated two-byte sequence
            "GET ",
            new int[] {0xed, 0xa0, 0x80},
            "\n", // an encoded surrogate
            "GET ",
            new int[] {0xc0, 0xaf},
            "\n", // an overlong '/'
            "SET nul\0key v\0al\u0007ue\n",
            "GET nul\0key\n",
            "GET input-ok\r\n", // CRLF
            "GET input-ok\r", // a lone CR ends a line too
            "GET input-ok", // the last line has no terminator
            "");
    Cli.Result r = Cli.run(stdin, "local", "--global", global.address());
    assertThat(r.exit()).as("%s", r).isZero();
    List<String> lines = Arrays.asList(r.out().split("\n", -1));
    assertThat(lines)
        .as("%s", r)
        .containsExactly(
            "Database updated",
            "Invalid input: the line is not valid UTF-8 (byte 0xFF at offset 8)",
            "db: input-ok -> fine",
            "Invalid input: the line is not valid UTF-8 (byte 0xC3 at offset 0)",
            "Invalid input: the line is not valid UTF-8 (byte 0xED at offset 4)",
            "Invalid input: the line is not valid UTF-8 (byte 0xC0 at offset 4)",
            "Database updated",
            "db: nul\\x00key -> v\\x00al\\x07ue",
            "db: input-ok -> fine",
            "db: input-ok -> fine",
            "db: input-ok -> fine",
            "");
    assertThat(r.err()).doesNotContain("Exception");
  }

  @Test
  void aLineOverTheLimitIsOneLineAndTheNextLineIsRead() throws IOException {
    // The limit is 16 MiB in the REPL; a small one here, through the same reader.
    byte[] input = bytes("x".repeat(100), "\nGET k\n", "y".repeat(10), "\n");
    PipeLines lines = new PipeLines(new ByteArrayInputStream(input), 10);
    assertThatThrownBy(lines::next)
        .isInstanceOf(UnreadableLine.class)
        .hasMessageStartingWith("Line too long: the REPL reads lines of up to 10 B");
    assertThat(lines.next()).isEqualTo("GET k");
    assertThat(lines.next()).isEqualTo("y".repeat(10));
    assertThat(lines.next()).isNull();
  }

  @Test
  void anOverLongLineInTheReplIsOneResultLine() {
    byte[] stdin = bytes("SET huge ", "v".repeat(PipeLines.DEFAULT_MAX_LINE_BYTES), "\n.version\n");
    Cli.Result r = Cli.run(stdin, "local", "--global", global.address());
    assertThat(r.exit()).isZero();
    assertThat(r.out().split("\n"))
        .containsExactly(
            "Line too long: the REPL reads lines of up to 16.0 MiB; for larger values use"
                + " 'dstore put KEY --file PATH'",
            "dstore v" + Version.number());
    assertThat(Cli.run("get", "huge", "--global", global.address()).exit()).isEqualTo(1);
  }

  @Test
  void lineEndsAreThoseOfBufferedReader() throws IOException {
    byte[] input = bytes("a\nb\r\nc\rd\r\r\ne\n\nf");
    PipeLines lines = new PipeLines(new ByteArrayInputStream(input), 100);
    List<String> read = new ArrayList<>();
    for (String line = lines.next(); line != null; line = lines.next()) {
      read.add(line);
    }
    assertThat(read).containsExactly("a", "b", "c", "d", "", "e", "", "f");
  }

  @Test
  void emptyInputHasNoLines() throws IOException {
    assertThat(new PipeLines(new ByteArrayInputStream(new byte[0]), 10).next()).isNull();
  }
}
