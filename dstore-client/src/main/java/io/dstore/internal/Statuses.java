package io.dstore.internal;

import io.dstore.DstoreException;
import io.dstore.ErrorCode;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The one place where the client side turns gRPC statuses into {@link DstoreException}s, and (for a
 * Local daemon answering other processes) {@link DstoreException}s back into statuses carrying the
 * {@code dstore-error-code} trailer.
 */
final class Statuses {
  static final Metadata.Key<String> CODE_KEY =
      Metadata.Key.of("dstore-error-code", Metadata.ASCII_STRING_MARSHALLER);

  private Statuses() {}

  /** Converts a failed call to Global at {@code target}. */
  static DstoreException toException(Throwable t, String target) {
    if (t instanceof DstoreException e) {
      return e;
    }
    Status status = Status.fromThrowable(t);
    Metadata trailers = Status.trailersFromThrowable(t);
    String named = trailers == null ? null : trailers.get(CODE_KEY);
    ErrorCode code = named != null ? parse(named) : null;
    if (code == null) {
      // Global names every error it raises; an INTERNAL or UNKNOWN it did not name came from the
      // transport (a connection torn down mid-call), so the call may be retried.
      boolean transport =
          named == null
              && (status.getCode() == Status.Code.INTERNAL
                  || status.getCode() == Status.Code.UNKNOWN);
      code = transport ? ErrorCode.UNAVAILABLE : codeOf(status.getCode());
    }
    String description = status.getDescription();
    if (named == null
        && status.getCode() == Status.Code.RESOURCE_EXHAUSTED
        && description != null
        && description.contains("message exceeds maximum size")) {
      // gRPC's own refusal of an oversize message, from the server's transport: no trailer.
      return new DstoreException(
          ErrorCode.TOO_LARGE,
          "request is larger than the server at "
              + target
              + " accepts in one message ("
              + description
              + "; the limit is set with --max-message-size); send large values as streams",
          t);
    }
    String message;
    if (code == ErrorCode.UNAVAILABLE) {
      String cause =
          description != null
              ? description
              : status.getCause() != null
                  ? status.getCause().getMessage()
                  : status.getCode().name();
      message = "cannot reach Global at " + target + ": " + cause + transportDetail(t);
    } else {
      message = description != null ? description : status.getCode().name();
    }
    return new DstoreException(code, message, t);
  }

  /**
   * The status a daemon answers with for {@code t}: a {@link DstoreException}'s code travels in the
   * trailer; anything else is INTERNAL.
   */
  static io.grpc.StatusRuntimeException toStatus(Throwable t) {
    if (t instanceof io.grpc.StatusRuntimeException e) {
      return e;
    }
    ErrorCode code = t instanceof DstoreException d ? d.code() : ErrorCode.INTERNAL;
    String message = t instanceof DstoreException ? t.getMessage() : "internal error: " + t;
    Status status =
        switch (code) {
          case NOT_FOUND -> Status.NOT_FOUND;
          case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
          case INVALID_ARGUMENT, TOO_LARGE, INTEGRITY -> Status.INVALID_ARGUMENT;
          case UNAVAILABLE -> Status.UNAVAILABLE;
          case UNAUTHENTICATED -> Status.UNAUTHENTICATED;
          case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
          case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
          case INTERNAL -> Status.INTERNAL;
        };
    Metadata trailers = new Metadata();
    trailers.put(CODE_KEY, code.name());
    return status.withDescription(message).asRuntimeException(trailers);
  }

  /**
   * What the transport said underneath gRPC's terse "io exception" or "ssl exception": the deepest
   * cause's message, and a hint when TLS failed.
   */
  private static String transportDetail(Throwable t) {
    Throwable root = t;
    boolean tls = false;
    for (Throwable c = t; c != null && c.getCause() != c; c = c.getCause()) {
      root = c;
      tls |= c instanceof javax.net.ssl.SSLException;
    }
    String detail = root == t || root.getMessage() == null ? "" : " (" + root.getMessage() + ")";
    if (tls) {
      return detail
          + "; the TLS handshake failed: check that the CA (--tls-ca) signed the server's"
          + " certificate and, if the server requires one, the client certificate";
    }
    return detail;
  }

  static DstoreException invalidArgument(String message) {
    return new DstoreException(ErrorCode.INVALID_ARGUMENT, message);
  }

  static DstoreException closed() {
    return new DstoreException(ErrorCode.UNAVAILABLE, "this Local is closed");
  }

  static boolean isUnavailable(Throwable t) {
    return t instanceof StatusRuntimeException e
        && (e.getStatus().getCode() == Status.Code.UNAVAILABLE
            || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED);
  }

  private static ErrorCode parse(String name) {
    try {
      return ErrorCode.valueOf(name);
    } catch (IllegalArgumentException e) {
      return null; // a newer Global's code: fall back to the status code
    }
  }

  private static ErrorCode codeOf(Status.Code code) {
    return switch (code) {
      case NOT_FOUND -> ErrorCode.NOT_FOUND;
      case ALREADY_EXISTS -> ErrorCode.ALREADY_EXISTS;
      case INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION -> ErrorCode.INVALID_ARGUMENT;
      case UNAUTHENTICATED -> ErrorCode.UNAUTHENTICATED;
      case PERMISSION_DENIED -> ErrorCode.PERMISSION_DENIED;
      case RESOURCE_EXHAUSTED -> ErrorCode.RESOURCE_EXHAUSTED;
      case DATA_LOSS -> ErrorCode.INTEGRITY;
      case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, ABORTED -> ErrorCode.UNAVAILABLE;
      default -> ErrorCode.INTERNAL;
    };
  }
}
