package io.dstore.server.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.server.internal.RocksLayout.Meta;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.Snapshot;

/**
 * A reader of one value of {@link RocksDbStorage}, through the snapshot taken when it was opened.
 * Reads fetch only the chunks they cover. When a read stops inside a chunk, that chunk is kept for
 * the next read, so sequential reads that are not aligned to chunks fetch each chunk once; a reader
 * therefore holds at most one chunk between reads. Thread-safe: reads of one reader run one at a
 * time.
 */
final class RocksReader implements Storage.Reader {
  private final RocksDbStorage store;
  private final byte[] key;
  private final Meta value;
  private final Snapshot snapshot;
  private final ReadOptions options;

  @GuardedBy("this")
  private boolean closed;

  @GuardedBy("this")
  private long cachedIndex = -1;

  @GuardedBy("this")
  private byte[] cached;

  RocksReader(
      RocksDbStorage store, byte[] key, Meta value, Snapshot snapshot, ReadOptions options) {
    this.store = store;
    this.key = key;
    this.value = value;
    this.snapshot = snapshot;
    this.options = options;
  }

  @Override
  public StoredInfo info() {
    return value.info();
  }

  @Override
  public int read(long position, ByteBuffer dst) throws IOException {
    StorageArgs.checkPosition(position);
    store.enter("read");
    try {
      synchronized (this) {
        if (closed) {
          throw new IOException("read failed: reader is closed");
        }
        return copy(position, dst);
      }
    } catch (RocksDBException e) {
      throw store.failure("read", key, e); // damaged bytes: INTEGRITY, naming the key
    } catch (RocksDbStorage.StoredDamage e) {
      throw store.damaged(key, e.getMessage());
    } finally {
      store.exit();
    }
  }

  @GuardedBy("this")
  private int copy(long position, ByteBuffer dst) throws RocksDBException, IOException {
    long size = value.info().size();
    int chunkSize = value.chunkSize();
    int copied = 0;
    long pos = position;
    while (dst.hasRemaining() && pos < size) {
      long index = pos / chunkSize;
      int offset = (int) (pos % chunkSize);
      byte[] chunk = index == cachedIndex ? cached : store.chunk(options, value, index);
      int n = Math.min(dst.remaining(), chunk.length - offset);
      dst.put(chunk, offset, n);
      copied += n;
      pos += n;
      if (offset + n < chunk.length) {
        cachedIndex = index;
        cached = chunk;
      } else {
        cachedIndex = -1;
        cached = null;
      }
    }
    return copied;
  }

  @Override
  public void close() {
    if (!store.enterIfOpen()) {
      synchronized (this) {
        closed = true; // the store released the snapshot when it closed
        cached = null;
      }
      return;
    }
    try {
      release();
      store.forget(this);
    } finally {
      store.exit();
    }
  }

  /**
   * Frees the snapshot once. The caller holds the store's lifecycle lock, or the store is closed
   * and has already called this.
   */
  synchronized void release() {
    if (closed) {
      return;
    }
    closed = true;
    cached = null;
    store.releaseSnapshot(snapshot, options);
  }
}
