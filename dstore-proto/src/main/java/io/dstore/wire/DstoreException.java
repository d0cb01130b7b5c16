package io.dstore.wire;

import static java.util.Objects.requireNonNull;

/**
 * The one exception type of the dstore API. It is unchecked: every operation may throw it, and
 * {@link #code()} says why. Messages are meant for people and name the limit or the key involved;
 * programs should branch on the code, never on the message.
 */
public final class DstoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  public DstoreException(ErrorCode code, String message) {
    super(message);
    this.code = requireNonNull(code, "code");
  }

  public DstoreException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = requireNonNull(code, "code");
  }

  /** Why the operation failed; never null. */
  public ErrorCode code() {
    return code;
  }
}
