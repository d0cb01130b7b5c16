package io.dstore.server.internal;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The one place where Global turns a failure into a gRPC status. Every deliberate error carries the
 * trailer {@code dstore-error-code} naming the client-side {@code io.dstore.ErrorCode}, so a client
 * can tell, say, TOO_LARGE from another INVALID_ARGUMENT.
 */
public final class Errors {
  /** The trailer that carries the dstore error code. */
  public static final Metadata.Key<String> CODE_KEY =
      Metadata.Key.of("dstore-error-code", Metadata.ASCII_STRING_MARSHALLER);

  private Errors() {}

  public static StatusRuntimeException notFound(String message) {
    return error(Status.NOT_FOUND, "NOT_FOUND", message);
  }

  public static StatusRuntimeException alreadyExists(String message) {
    return error(Status.ALREADY_EXISTS, "ALREADY_EXISTS", message);
  }

  public static StatusRuntimeException invalid(String message) {
    return error(Status.INVALID_ARGUMENT, "INVALID_ARGUMENT", message);
  }

  public static StatusRuntimeException tooLarge(String message) {
    return error(Status.INVALID_ARGUMENT, "TOO_LARGE", message);
  }

  public static StatusRuntimeException integrity(String message) {
    return error(Status.INVALID_ARGUMENT, "INTEGRITY", message);
  }

  public static StatusRuntimeException exhausted(String message) {
    return error(Status.RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED", message);
  }

  public static StatusRuntimeException unavailable(String message) {
    return error(Status.UNAVAILABLE, "UNAVAILABLE", message);
  }

  public static StatusRuntimeException unauthenticated(String message) {
    return error(Status.UNAUTHENTICATED, "UNAUTHENTICATED", message);
  }

  public static StatusRuntimeException permissionDenied(String message) {
    return error(Status.PERMISSION_DENIED, "PERMISSION_DENIED", message);
  }

  /**
   * A stream cut off by the server because the client sent nothing, or read nothing, for too long:
   * DEADLINE_EXCEEDED on the wire, {@code UNAVAILABLE} for the client (it may try again).
   */
  public static StatusRuntimeException idle(String message) {
    return error(Status.DEADLINE_EXCEEDED, "UNAVAILABLE", message);
  }

  public static StatusRuntimeException internal(String message, Throwable cause) {
    return error(Status.INTERNAL.withCause(cause), "INTERNAL", message);
  }

  /**
   * Converts anything thrown while serving a call: deliberate errors pass through, anything else
   * becomes INTERNAL with its message (the stack trace stays in the server log).
   */
  public static StatusRuntimeException toStatus(Throwable t) {
    if (t instanceof StatusRuntimeException e) {
      return e;
    }
    if (t instanceof io.grpc.StatusException e) {
      return e.getStatus().asRuntimeException(e.getTrailers());
    }
    return internal("internal error: " + t, t);
  }

  private static StatusRuntimeException error(Status status, String code, String message) {
    Metadata trailers = new Metadata();
    trailers.put(CODE_KEY, code);
    return status.withDescription(message).asRuntimeException(trailers);
  }
}
