package io.dstore.internal;

import io.dstore.DstoreException;
import io.dstore.ErrorCode;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * A Local daemon's token check: a call without {@code authorization: Bearer <token>} is refused
 * with UNAUTHENTICATED before it reaches the service. Digests of the tokens are compared with
 * {@link MessageDigest#isEqual}, in time that reveals neither where they differ nor the real
 * token's length; no token is logged or echoed. (Global has its own copy of this check: the two
 * modules share no server code.) Thread-safe.
 */
public final class TokenCheck implements ServerInterceptor {
  private static final String SCHEME = "Bearer ";

  private final byte[] expected;

  public TokenCheck(String token) {
    this.expected = digest(token);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String header = headers.get(Channels.AUTHORIZATION);
    if (header != null
        && header.length() > SCHEME.length()
        && header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
        && MessageDigest.isEqual(expected, digest(header.substring(SCHEME.length()).strip()))) {
      return next.startCall(call, headers);
    }
    StatusRuntimeException refusal =
        Statuses.toStatus(
            new DstoreException(
                ErrorCode.UNAUTHENTICATED,
                "missing or wrong token: every call to this Local daemon needs its token"));
    call.close(refusal.getStatus(), refusal.getTrailers());
    return new ServerCall.Listener<>() {};
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
