package io.dstore.server.internal;

import io.dstore.server.Storage;

/** Placeholder until the memory backend lands. */
public final class MemoryStorage {
  private MemoryStorage() {}

  public static Storage create() {
    throw new UnsupportedOperationException("memory storage not built yet");
  }
}
