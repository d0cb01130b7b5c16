package io.dstore.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The REPL's lines from a pipe or a file: bytes up to {@code \n}, {@code \r} or {@code \r\n}, each
 * line decoded as UTF-8 on its own. Hostile input costs a line, never the session: a line that is
 * not valid UTF-8 (including encoded surrogates and overlong forms), or longer than the limit, is
 * consumed to its end and reported as {@link UnreadableLine}, so that it still gets exactly one
 * result. Memory is bounded by the limit, however long a line is. Not thread-safe.
 */
final class PipeLines implements ReplLines {
  /** Default longest line: 16 MiB. Larger values go through {@code dstore put --file}. */
  static final int DEFAULT_MAX_LINE_BYTES = 16 << 20;

  private final InputStream in;
  private final int maxLineBytes;
  private final byte[] buffer = new byte[8192];
  private int position;
  private int limit;
  private boolean skipLineFeed; // the last line ended with \r: a \n right after belongs to it
  private byte[] line = new byte[256];
  private int length;

  PipeLines(InputStream in, int maxLineBytes) {
    this.in = in;
    this.maxLineBytes = maxLineBytes;
  }

  @Override
  public String next() throws IOException {
    length = 0;
    boolean tooLong = false;
    boolean any = false;
    while (true) {
      if (position == limit && !fill()) {
        if (!any) {
          return null;
        }
        break; // a last line without a terminator
      }
      byte b = buffer[position++];
      if (skipLineFeed) {
        skipLineFeed = false;
        if (b == '\n') {
          continue;
        }
      }
      any = true;
      if (b == '\n') {
        break;
      }
      if (b == '\r') {
        skipLineFeed = true;
        break;
      }
      if (length < maxLineBytes) {
        append(b);
      } else {
        tooLong = true; // read on to the end of the line, keeping nothing
      }
    }
    if (tooLong) {
      throw new UnreadableLine(
          "Line too long: the REPL reads lines of up to "
              + Sizes.format(maxLineBytes)
              + "; for larger values use 'dstore put KEY --file PATH'");
    }
    return decode();
  }

  private boolean fill() throws IOException {
    int n = in.read(buffer);
    while (n == 0) {
      n = in.read(buffer);
    }
    if (n < 0) {
      return false;
    }
    position = 0;
    limit = n;
    return true;
  }

  private void append(byte b) {
    if (length == line.length) {
      line = Arrays.copyOf(line, (int) Math.min((long) line.length * 2, maxLineBytes));
    }
    line[length++] = b;
  }

  private String decode() throws UnreadableLine {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer bytes = ByteBuffer.wrap(line, 0, length);
    CharBuffer chars = CharBuffer.allocate(length); // UTF-8 never needs more chars than bytes
    CoderResult result = decoder.decode(bytes, chars, true);
    if (!result.isError()) {
      result = decoder.flush(chars);
    }
    if (result.isError()) {
      int at = bytes.position();
      throw new UnreadableLine(
          String.format(
              Locale.ROOT,
              "Invalid input: the line is not valid UTF-8 (byte 0x%02X at offset %d)",
              line[at] & 0xff,
              at));
    }
    return chars.flip().toString();
  }

  @Override
  public void close() {
    // the caller owns the stream
  }
}
