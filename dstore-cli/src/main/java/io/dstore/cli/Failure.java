package io.dstore.cli;

import io.dstore.wire.DstoreException;

/**
 * An expected failure of a command: its one-line message goes to stderr (no stack trace) and the
 * command exits with {@link #exitCode()}.
 */
final class Failure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  Failure(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  Failure(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** A failure of a call about {@code key} (null when the call is about no one key). */
  static Failure of(DstoreException e, String key) {
    return new Failure(ExitCodes.of(e.code()), ExitCodes.describe(e, key), e);
  }

  /** A usage error found while running (exit 2), such as a file that cannot be read. */
  static Failure usage(String message, Throwable cause) {
    return new Failure(ExitCodes.USAGE, message, cause);
  }

  /** A file that cannot be used (exit 2): {@code Cannot read PATH: no such file}. */
  static Failure file(String verb, java.nio.file.Path path, java.io.IOException e) {
    String reason;
    if (e instanceof java.nio.file.NoSuchFileException) {
      reason = "no such file or directory";
    } else if (e instanceof java.nio.file.AccessDeniedException) {
      reason = "permission denied";
    } else if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      reason = f.getReason();
    } else {
      reason = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
    return new Failure(ExitCodes.USAGE, "Cannot " + verb + " " + path + ": " + reason, e);
  }

  int exitCode() {
    return exitCode;
  }
}
