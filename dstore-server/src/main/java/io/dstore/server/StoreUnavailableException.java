package io.dstore.server;

import java.io.IOException;

/**
 * {@link GlobalServer#start} could not reach or open its storage: for the cluster store, etcd did
 * not answer or refused this gateway. The message says which and where.
 */
public final class StoreUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;

  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
