package io.dstore.server.internal;

import java.util.Map;

/**
 * A storage backend that holds memory outside the Java heap, which the JVM's own meters do not see.
 * {@link RocksDbStorage} implements it (memtables, table readers, block cache), so that an operator
 * and the soak benchmark can tell RocksDB's share of Global's resident memory from the rest.
 */
public interface NativeMemory {
  /**
   * Native bytes in use, by part (such as {@code memtables}); approximate, read when called. Empty
   * once the storage is closed. Thread-safe.
   */
  Map<String, Long> nativeMemoryBytes();
}
