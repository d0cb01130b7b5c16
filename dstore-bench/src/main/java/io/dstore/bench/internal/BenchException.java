package io.dstore.bench.internal;

/**
 * A benchmark could not run or finish: a system would not start, an operation failed, a required
 * peer is missing. The message says which and why; it is shown to the user without a stack trace.
 */
public final class BenchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BenchException(String message) {
    super(message);
  }

  public BenchException(String message, Throwable cause) {
    super(message, cause);
  }
}
