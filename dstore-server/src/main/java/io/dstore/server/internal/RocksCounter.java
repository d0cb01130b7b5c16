package io.dstore.server.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;

/**
 * A persisted counter that hands out strictly increasing numbers, also across restarts, without a
 * write per number: it reserves them in blocks, writing the block's upper end before handing out
 * the first number of the block. A restart resumes above the last reserved number, so the rest of
 * that block is skipped, never reused. Because the reservation is written (in WAL order) before any
 * record that uses one of its numbers, no record that survives a crash can hold a number above the
 * persisted limit. Thread-safe.
 */
final class RocksCounter {
  private final RocksDB db;
  private final ColumnFamilyHandle family;
  private final byte[] key;
  private final WriteOptions writes;
  private final long block;

  @GuardedBy("this")
  private long next;

  @GuardedBy("this")
  private long limit;

  /** Reads the persisted limit; the first number handed out is above it (1 in a new store). */
  RocksCounter(RocksDB db, ColumnFamilyHandle family, byte[] key, WriteOptions writes, long block)
      throws RocksDBException, java.io.IOException {
    this.db = db;
    this.family = family;
    this.key = key.clone();
    this.writes = writes;
    this.block = block;
    byte[] stored = db.get(family, key);
    this.limit = stored == null ? 0 : RocksLayout.bigEndian(stored);
    this.next = limit + 1;
  }

  synchronized long next() throws RocksDBException {
    if (next > limit) {
      long newLimit = next + block - 1;
      db.put(family, writes, key, RocksLayout.bigEndian(newLimit));
      limit = newLimit;
    }
    return next++;
  }
}
