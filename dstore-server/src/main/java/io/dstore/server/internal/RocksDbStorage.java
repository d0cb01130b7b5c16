package io.dstore.server.internal;

import io.dstore.server.Storage;
import java.nio.file.Path;

/** Placeholder until the RocksDB backend lands. */
public final class RocksDbStorage {
  private RocksDbStorage() {}

  public static Storage open(Path dir, boolean sync) {
    throw new UnsupportedOperationException("rocksdb storage not built yet: " + dir + sync);
  }
}
