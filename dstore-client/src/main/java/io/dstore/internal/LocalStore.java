package io.dstore.internal;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;

/** Placeholder until the Local lands. */
public final class LocalStore {
  private LocalStore() {}

  public static Dstore connect(String target, DstoreOptions options) {
    throw new UnsupportedOperationException("Local not built yet: " + target + options);
  }
}
