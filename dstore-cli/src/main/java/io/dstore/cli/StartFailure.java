package io.dstore.cli;

import io.dstore.serving.MetricsEndpointException;
import java.net.BindException;

/**
 * One line saying why a server ({@code dstore global}, a {@code dstore local --listen} daemon) did
 * not start: its address is taken, its metrics address is, or its TLS files cannot be used. Exit 2.
 * Which one is decided from the types in the cause chain ({@link MetricsEndpointException}, {@link
 * BindException}), never from message text.
 */
final class StartFailure {
  private StartFailure() {}

  /**
   * @param listen the gRPC address asked for
   * @param metrics the metrics address asked for, or null
   * @param tls the TLS options and files given ({@code --tls-cert A and --tls-key B}), or null
   */
  static Failure of(Exception e, HostPort listen, HostPort metrics, String tls) {
    String root = rootMessage(e);
    boolean bind = false;
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (metrics != null && c instanceof MetricsEndpointException) {
        return Failure.usage("Cannot serve metrics on " + metrics + ": " + root, e);
      }
      bind |= c instanceof BindException;
    }
    if (tls != null && !bind) {
      return Failure.usage("Cannot serve TLS with " + tls + ": " + root, e);
    }
    return Failure.usage("Cannot listen on " + listen + ": " + root, e);
  }

  /** The deepest cause's message, on one line. */
  static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String message = root.getMessage() != null ? root.getMessage() : root.toString();
    return Text.oneLine(message);
  }
}
