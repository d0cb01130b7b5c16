package io.dstore.server.internal;

import java.io.IOException;

/**
 * A storage write failed because the disk is full (ENOSPC), or the storage stopped writing after
 * that. Answered to the caller as {@code NO_SPACE}, not as an internal error.
 */
public final class NoSpaceException extends IOException {
  private static final long serialVersionUID = 1L;

  public NoSpaceException(String message, Throwable cause) {
    super(message, cause);
  }
}
