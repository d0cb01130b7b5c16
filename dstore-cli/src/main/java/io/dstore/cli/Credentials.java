package io.dstore.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the tokens and certificate files named on the command line, so that a missing, unreadable
 * or empty one is a one-line usage error (exit 2) naming the option, before anything connects or
 * listens. A token is never printed, not even in part.
 */
final class Credentials {
  /** The environment variable a client reads its token from when no --token-file is given. */
  static final String TOKEN_VARIABLE = "DSTORE_TOKEN";

  /** Longer files are no token (and are not read whole): 64 KiB. */
  private static final int MAX_TOKEN_FILE_BYTES = 64 << 10;

  private Credentials() {}

  /**
   * The token in {@code file}, without surrounding white space (a trailing newline, say).
   *
   * @param option the option that named the file, for messages ({@code --token-file})
   * @throws Failure (exit 2) if the file cannot be read, is empty, too large, or holds a character
   *     that cannot travel in an HTTP/2 header
   */
  static String tokenFile(Path file, String option) {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_TOKEN_FILE_BYTES + 1);
    } catch (IOException e) {
      throw Failure.file("read the " + option + " file", file, e);
    }
    String where = "The " + option + " file " + file;
    if (bytes.length > MAX_TOKEN_FILE_BYTES) {
      throw Failure.usage(
          where + " is too large to hold a token (over " + Sizes.format(MAX_TOKEN_FILE_BYTES) + ")",
          null);
    }
    return check(new String(bytes, StandardCharsets.UTF_8), where);
  }

  /**
   * The token in {@link #TOKEN_VARIABLE}, or null when it is unset or blank.
   *
   * @throws Failure (exit 2) if it holds a character that cannot travel in a header
   */
  static String tokenFromEnvironment(Env env) {
    String value = env.environment().apply(TOKEN_VARIABLE);
    if (value == null || value.isBlank()) {
      return null;
    }
    return check(value, "The " + TOKEN_VARIABLE + " environment variable");
  }

  /**
   * Checks that {@code file} can be read, so that a certificate or key that is missing is reported
   * with the option that named it rather than deep inside a TLS handshake.
   *
   * @throws Failure (exit 2) naming the option, the file and the reason
   */
  static Path readable(Path file, String option) {
    try (InputStream in = Files.newInputStream(file)) {
      if (in.read() < 0) {
        throw Failure.usage("The " + option + " file " + file + " is empty", null);
      }
    } catch (IOException e) {
      throw Failure.file("read the " + option + " file", file, e);
    }
    return file;
  }

  /** {@code text} stripped, if it is a token: printable ASCII without spaces. */
  private static String check(String text, String where) {
    String token = text.strip();
    if (token.isEmpty()) {
      throw Failure.usage(where + " is empty: it must hold the token", null);
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw Failure.usage(
            where
                + " holds character "
                + (i + 1)
                + " that a token cannot have: a token is printable ASCII without spaces",
            null);
      }
    }
    return token;
  }
}
