package io.dstore.wire;

import io.grpc.Metadata;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The token rule of the protocol: a shared secret sent on every call as {@code authorization:
 * Bearer <token>}. A token is printable ASCII without spaces (it travels in an HTTP/2 header);
 * surrounding white space, as a token file ends with, is not part of it.
 *
 * <p>An instance holds one expected token, as a digest, and checks presented headers against it in
 * time that reveals neither where they differ nor the real token's length. It never logs or echoes
 * either token. Immutable and thread-safe.
 */
public final class BearerToken {
  /** The header that carries the token. */
  public static final Metadata.Key<String> HEADER =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String SCHEME = "Bearer ";

  private final String token;
  private final byte[] digest;

  private BearerToken(String token) {
    this.token = token;
    this.digest = digest(token);
  }

  /**
   * The token {@code text} stands for, stripped of surrounding white space.
   *
   * @throws IllegalArgumentException if it is blank or holds a character that is not printable
   *     ASCII (the message says which character, never the token)
   */
  public static BearerToken of(String text) {
    String t = text.strip();
    if (t.isEmpty()) {
      throw new IllegalArgumentException("token is blank");
    }
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException(
            "token must be printable ASCII without spaces (character " + (i + 1) + " is not)");
      }
    }
    return new BearerToken(t);
  }

  /** The value of the {@link #HEADER} a client sends. */
  public String headerValue() {
    return SCHEME + token;
  }

  /** Whether {@code header} (the presented {@link #HEADER}, or null) carries this token. */
  public boolean acceptsHeader(String header) {
    if (header == null
        || header.length() <= SCHEME.length()
        || !header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return false;
    }
    return MessageDigest.isEqual(digest, digest(header.substring(SCHEME.length()).strip()));
  }

  private static byte[] digest(String token) {
    return Sha256.newDigest().digest(token.getBytes(StandardCharsets.UTF_8));
  }

  /** Never the token itself. */
  @Override
  public String toString() {
    return "BearerToken[hidden]";
  }
}
