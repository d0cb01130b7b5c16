package io.dstore.serving;

import io.dstore.wire.BearerToken;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses every call that does not carry the server's {@link BearerToken}: UNAUTHENTICATED, before
 * the call reaches the service, so nothing is read or written. Neither token is logged or echoed.
 * Installed on the dstore service only: the health and reflection services stay open, so that
 * orchestrators holding no token can probe them; they tell nothing about the data. Thread-safe.
 */
final class TokenInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(TokenInterceptor.class);

  private final BearerToken token;
  private final String refusal;

  /** {@code serverName} completes the refusal: "every call to {serverName} needs its token". */
  TokenInterceptor(BearerToken token, String serverName) {
    this.token = token;
    this.refusal = "missing or wrong token: every call to " + serverName + " needs its token";
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (token.acceptsHeader(headers.get(BearerToken.HEADER))) {
      return next.startCall(call, headers);
    }
    log.debug(
        "refused {} from {}: missing or wrong token",
        call.getMethodDescriptor().getBareMethodName(),
        call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
    StatusRuntimeException e = GrpcErrors.status(ErrorCode.UNAUTHENTICATED, refusal);
    call.close(e.getStatus(), e.getTrailers());
    return new ServerCall.Listener<>() {};
  }
}
