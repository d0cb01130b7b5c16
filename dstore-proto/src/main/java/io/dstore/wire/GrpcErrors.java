package io.dstore.wire;

import io.dstore.proto.ErrorDetail;
import io.dstore.proto.Failure;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * The one place where dstore errors and gRPC statuses are converted, both ways, on every side of
 * the wire: Global, the Local daemon, the client and the pipeline all use it.
 *
 * <p>The contract: a dstore error travels as the gRPC status that {@link #statusCodeOf} names for
 * its {@link ErrorCode}, with the typed trailer {@link #DETAIL_KEY} ({@code
 * dstore.v1.ErrorDetail-bin}, a serialized {@code ErrorDetail}). The two therefore never disagree.
 * A status without the trailer did not come from dstore: from the transport (a connection torn
 * down), a deadline, or gRPC's own refusal of an oversize message; {@link #toException} maps those
 * by status code, and counts an unnamed INTERNAL or UNKNOWN as the transport's (retryable). No
 * conversion ever parses a message text. Stateless.
 */
public final class GrpcErrors {
  /** The trailer that carries the typed {@code ErrorDetail}. */
  public static final Metadata.Key<ErrorDetail> DETAIL_KEY =
      ProtoUtils.keyForProto(ErrorDetail.getDefaultInstance());

  private GrpcErrors() {}

  /** The gRPC status a dstore error travels as. */
  public static Status.Code statusCodeOf(ErrorCode code) {
    return switch (code) {
      case NOT_FOUND -> Status.Code.NOT_FOUND;
      case ALREADY_EXISTS -> Status.Code.ALREADY_EXISTS;
      case INVALID_ARGUMENT, TOO_LARGE -> Status.Code.INVALID_ARGUMENT;
      case UNAVAILABLE -> Status.Code.UNAVAILABLE;
      case UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
      case PERMISSION_DENIED -> Status.Code.PERMISSION_DENIED;
      case INTEGRITY -> Status.Code.DATA_LOSS;
      case RESOURCE_EXHAUSTED, NO_SPACE -> Status.Code.RESOURCE_EXHAUSTED;
      case INTERNAL -> Status.Code.INTERNAL;
      case OUTCOME_UNKNOWN -> Status.Code.UNKNOWN;
    };
  }

  /** The status (with its typed trailer) that reports {@code code} with {@code message}. */
  public static StatusRuntimeException status(ErrorCode code, String message) {
    return status(code, message, null);
  }

  /** As {@link #status(ErrorCode, String)}, keeping {@code cause} for the server's log. */
  public static StatusRuntimeException status(
      ErrorCode code, String message, @Nullable Throwable cause) {
    Metadata trailers = new Metadata();
    trailers.put(DETAIL_KEY, detail(code, message));
    Status status = Status.fromCode(statusCodeOf(code)).withDescription(message);
    return (cause == null ? status : status.withCause(cause)).asRuntimeException(trailers);
  }

  /**
   * The status a server answers a failed call with: a {@link DstoreException} keeps its code, a
   * status passes through as it is, anything else is INTERNAL with its text (the stack trace stays
   * in the server's log).
   */
  public static StatusRuntimeException toStatus(Throwable t) {
    if (t instanceof StatusRuntimeException e) {
      return e;
    }
    if (t instanceof StatusException e) {
      return e.getStatus().asRuntimeException(e.getTrailers());
    }
    if (t instanceof DstoreException d) {
      String message = d.getMessage();
      return status(d.code(), message != null ? message : d.code().name(), d.getCause());
    }
    return status(ErrorCode.INTERNAL, "internal error: " + t, t);
  }

  /** The dstore code of a failed call, or null when it carried no typed trailer. */
  public static @Nullable ErrorCode codeOf(Throwable t) {
    if (t instanceof DstoreException d) {
      return d.code();
    }
    Metadata trailers = Status.trailersFromThrowable(t);
    ErrorDetail detail = trailers == null ? null : trailers.get(DETAIL_KEY);
    return detail == null ? null : fromProto(detail.getCode());
  }

  /**
   * Converts a call to {@code target} that failed with {@code t} into the exception the dstore API
   * throws. A typed trailer decides the code; without one the status code does (see the class
   * note), and an unreachable server's message says where and why, with a hint when TLS failed.
   */
  public static DstoreException toException(Throwable t, String target) {
    if (t instanceof DstoreException e) {
      return e;
    }
    Status status = Status.fromThrowable(t);
    String description = status.getDescription();
    ErrorCode code = codeOf(t);
    if (code == null) {
      if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED
          && description != null
          && description.contains("message exceeds maximum size")) {
        // gRPC's own refusal of an oversize message (no dstore trailer): the one status text that
        // is read, because gRPC sends it without any other mark.
        return new DstoreException(
            ErrorCode.TOO_LARGE,
            "request is larger than the server at "
                + target
                + " accepts in one message ("
                + description
                + "; the limit is set with --max-message-size); send large values as streams",
            t);
      }
      code = fromUntypedStatus(status.getCode());
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
   * A pipeline's answer for a call that failed with {@code t}: what a unary call would end with.
   */
  public static Failure toFailure(Throwable t) {
    StatusRuntimeException e = toStatus(t);
    Failure.Builder failure = Failure.newBuilder().setCode(e.getStatus().getCode().value());
    if (e.getStatus().getDescription() != null) {
      failure.setMessage(e.getStatus().getDescription());
    }
    Metadata trailers = e.getTrailers();
    ErrorDetail detail = trailers == null ? null : trailers.get(DETAIL_KEY);
    if (detail != null) {
      failure.setDetail(detail);
    }
    return failure.build();
  }

  /** The status a pipeline {@link Failure} stands for, as a unary call would have failed. */
  public static StatusRuntimeException fromFailure(Failure failure) {
    Metadata trailers = new Metadata();
    if (failure.hasDetail()) {
      trailers.put(DETAIL_KEY, failure.getDetail());
    }
    return Status.fromCodeValue(failure.getCode())
        .withDescription(failure.getMessage().isEmpty() ? null : failure.getMessage())
        .asRuntimeException(trailers);
  }

  /** The wire form of a code. */
  public static io.dstore.proto.ErrorCode toProto(ErrorCode code) {
    return switch (code) {
      case NOT_FOUND -> io.dstore.proto.ErrorCode.ERROR_CODE_NOT_FOUND;
      case ALREADY_EXISTS -> io.dstore.proto.ErrorCode.ERROR_CODE_ALREADY_EXISTS;
      case INVALID_ARGUMENT -> io.dstore.proto.ErrorCode.ERROR_CODE_INVALID_ARGUMENT;
      case TOO_LARGE -> io.dstore.proto.ErrorCode.ERROR_CODE_TOO_LARGE;
      case UNAVAILABLE -> io.dstore.proto.ErrorCode.ERROR_CODE_UNAVAILABLE;
      case UNAUTHENTICATED -> io.dstore.proto.ErrorCode.ERROR_CODE_UNAUTHENTICATED;
      case PERMISSION_DENIED -> io.dstore.proto.ErrorCode.ERROR_CODE_PERMISSION_DENIED;
      case INTEGRITY -> io.dstore.proto.ErrorCode.ERROR_CODE_INTEGRITY;
      case RESOURCE_EXHAUSTED -> io.dstore.proto.ErrorCode.ERROR_CODE_RESOURCE_EXHAUSTED;
      case INTERNAL -> io.dstore.proto.ErrorCode.ERROR_CODE_INTERNAL;
      case NO_SPACE -> io.dstore.proto.ErrorCode.ERROR_CODE_NO_SPACE;
      case OUTCOME_UNKNOWN -> io.dstore.proto.ErrorCode.ERROR_CODE_OUTCOME_UNKNOWN;
    };
  }

  /** The code a wire code stands for; null for one this side does not know (a newer server's). */
  public static @Nullable ErrorCode fromProto(io.dstore.proto.ErrorCode code) {
    return switch (code) {
      case ERROR_CODE_NOT_FOUND -> ErrorCode.NOT_FOUND;
      case ERROR_CODE_ALREADY_EXISTS -> ErrorCode.ALREADY_EXISTS;
      case ERROR_CODE_INVALID_ARGUMENT -> ErrorCode.INVALID_ARGUMENT;
      case ERROR_CODE_TOO_LARGE -> ErrorCode.TOO_LARGE;
      case ERROR_CODE_UNAVAILABLE -> ErrorCode.UNAVAILABLE;
      case ERROR_CODE_UNAUTHENTICATED -> ErrorCode.UNAUTHENTICATED;
      case ERROR_CODE_PERMISSION_DENIED -> ErrorCode.PERMISSION_DENIED;
      case ERROR_CODE_INTEGRITY -> ErrorCode.INTEGRITY;
      case ERROR_CODE_RESOURCE_EXHAUSTED -> ErrorCode.RESOURCE_EXHAUSTED;
      case ERROR_CODE_INTERNAL -> ErrorCode.INTERNAL;
      case ERROR_CODE_NO_SPACE -> ErrorCode.NO_SPACE;
      case ERROR_CODE_OUTCOME_UNKNOWN -> ErrorCode.OUTCOME_UNKNOWN;
      case ERROR_CODE_UNSPECIFIED, UNRECOGNIZED -> null;
    };
  }

  private static ErrorDetail detail(ErrorCode code, String message) {
    return ErrorDetail.newBuilder()
        .setCode(toProto(code))
        .setMessage(message == null ? "" : message)
        .build();
  }

  /** A status without dstore's trailer: the transport's, a deadline's, or gRPC's own. */
  private static ErrorCode fromUntypedStatus(Status.Code code) {
    return switch (code) {
      case NOT_FOUND -> ErrorCode.NOT_FOUND;
      case ALREADY_EXISTS -> ErrorCode.ALREADY_EXISTS;
      case INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION -> ErrorCode.INVALID_ARGUMENT;
      case UNAUTHENTICATED -> ErrorCode.UNAUTHENTICATED;
      case PERMISSION_DENIED -> ErrorCode.PERMISSION_DENIED;
      case RESOURCE_EXHAUSTED -> ErrorCode.RESOURCE_EXHAUSTED;
      case DATA_LOSS -> ErrorCode.INTEGRITY;
      // Unnamed INTERNAL and UNKNOWN come from a connection torn down mid-call: retryable.
      case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, ABORTED, INTERNAL, UNKNOWN ->
          ErrorCode.UNAVAILABLE;
      default -> ErrorCode.INTERNAL;
    };
  }

  /**
   * What the transport said underneath gRPC's terse "io exception" or "ssl exception": the deepest
   * cause's message, and a hint when TLS failed (found by the exception's type, not its text).
   */
  private static String transportDetail(Throwable t) {
    Throwable root = t;
    boolean tls = false;
    for (Throwable c = t; c != null && c.getCause() != c; c = c.getCause()) {
      root = c;
      tls |= c instanceof SSLException;
    }
    String detail = root == t || root.getMessage() == null ? "" : " (" + root.getMessage() + ")";
    if (tls) {
      return detail
          + "; the TLS handshake failed: check that the CA (--tls-ca) signed the server's"
          + " certificate and, if the server requires one, the client certificate";
    }
    return detail;
  }
}
