package io.dstore.server.internal;

import java.io.IOException;

/**
 * A storage backend could not be reached or did not answer in time (the cluster store's etcd or
 * S3). Answered to the caller as {@code UNAVAILABLE}, which a Local retries on another gateway, not
 * as an internal error.
 */
public final class BackendUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;

  public BackendUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
