package io.dstore.serving;

import java.io.IOException;

/**
 * The {@code /metrics} endpoint could not be served on the address asked for (taken, not local, not
 * resolvable); the cause says why. Its own type so that a caller can tell it, by type, from a
 * failure of the gRPC address: both are usually a {@link java.net.BindException}.
 */
public final class MetricsEndpointException extends IOException {
  private static final long serialVersionUID = 1L;

  MetricsEndpointException(String message, IOException cause) {
    super(message, cause);
  }
}
