package io.dstore.server.internal;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses every call that does not carry {@code authorization: Bearer <token>} with the configured
 * token: UNAUTHENTICATED, before the call reaches the service, so nothing is read or written.
 *
 * <p>The presented token is hashed and the digests are compared with {@link MessageDigest#isEqual},
 * so the time taken depends neither on where the first difference is nor on the length of the real
 * token. Neither token is ever logged or echoed. Install it on the dstore service only: the gRPC
 * health service stays open so that orchestrators (Kubernetes probes, load balancers), which hold
 * no token, can probe it; health tells nothing about the data. Thread-safe.
 */
public final class TokenAuthenticator implements ServerInterceptor {
  /** The header that carries the token. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final Logger log = LoggerFactory.getLogger(TokenAuthenticator.class);
  private static final String SCHEME = "Bearer ";

  private final byte[] expectedDigest;

  public TokenAuthenticator(String token) {
    this.expectedDigest = digest(token);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (accepts(headers.get(AUTHORIZATION))) {
      return next.startCall(call, headers);
    }
    log.debug(
        "refused {} from {}: missing or wrong token",
        call.getMethodDescriptor().getBareMethodName(),
        call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
    StatusRuntimeException refusal =
        Errors.unauthenticated("missing or wrong token: every call to Global needs its token");
    call.close(refusal.getStatus(), refusal.getTrailers());
    return new ServerCall.Listener<>() {};
  }

  private boolean accepts(String header) {
    if (header == null
        || header.length() <= SCHEME.length()
        || !header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return false;
    }
    return MessageDigest.isEqual(expectedDigest, digest(header.substring(SCHEME.length()).strip()));
  }

  private static byte[] digest(String token) {
    return Sha256.newDigest().digest(token.getBytes(StandardCharsets.UTF_8));
  }
}
