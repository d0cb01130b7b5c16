package io.dstore.server;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * A durable store refused to open because its files are damaged in a way that would lose
 * acknowledged data if it opened normally (a damaged write-ahead log or MANIFEST). The message
 * names the file and what the operator can do.
 */
public class DamagedStoreException extends IOException {
  private static final long serialVersionUID = 1L;

  public DamagedStoreException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
