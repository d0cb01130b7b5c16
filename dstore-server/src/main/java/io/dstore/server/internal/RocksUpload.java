package io.dstore.server.internal;

import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An upload to {@link RocksDbStorage}: buffers at most one chunk and hands each full chunk to the
 * store as soon as it is complete; the commit carries the last, partial chunk. The buffer starts at
 * the declared size (or small) and grows, so a small value costs its size, not a whole chunk. Not
 * thread-safe, per the {@link Storage.Upload} contract.
 */
final class RocksUpload implements Storage.Upload {
  private static final Logger log = LoggerFactory.getLogger(RocksUpload.class);
  private static final int MIN_BUFFER = 4096;

  private final RocksDbStorage store;
  private byte[] key;
  private final long valueId;
  private final int chunkSize;
  private final long declaredSize;
  private byte[] buffer; // null before the first byte and after the end
  private int buffered;
  private long chunksWritten;
  private long written;
  private boolean ended;

  RocksUpload(RocksDbStorage store, byte[] key, long valueId, int chunkSize, long declaredSize) {
    this.store = store;
    this.key = key;
    this.valueId = valueId;
    this.chunkSize = chunkSize;
    this.declaredSize = declaredSize;
  }

  @Override
  public void write(ByteBuffer bytes) throws IOException {
    checkWritable("write");
    store.checkOpen("upload write");
    while (bytes.hasRemaining()) {
      makeRoom(bytes.remaining());
      int n = Math.min(bytes.remaining(), buffer.length - buffered);
      bytes.get(buffer, buffered, n);
      buffered += n;
      written += n;
      if (buffered == chunkSize) {
        store.writeChunk(key, valueId, chunksWritten, buffer);
        chunksWritten++;
        buffered = 0;
      }
    }
  }

  /** Makes the buffer have room for at least one more byte, sized for what is expected. */
  private void makeRoom(int incoming) {
    if (buffer == null) {
      long expected = declaredSize > written ? declaredSize - written : incoming;
      buffer = new byte[(int) Math.min(chunkSize, Math.max(MIN_BUFFER, expected))];
    } else if (buffered == buffer.length) {
      long wanted = Math.max(2L * buffer.length, (long) buffered + incoming);
      buffer = Arrays.copyOf(buffer, (int) Math.min(chunkSize, wanted));
    }
  }

  @Override
  public long written() {
    return written;
  }

  @Override
  public StoredInfo commitAs(byte[] newKey, String sha256) throws KeyExistsException, IOException {
    key = newKey.clone();
    return commit(sha256);
  }

  @Override
  public StoredInfo commit(String sha256) throws KeyExistsException, IOException {
    String hex = StorageArgs.sha256Hex(sha256);
    checkWritable("commit");
    ended = true;
    byte[] tail = null;
    if (buffered > 0) {
      tail = buffered == buffer.length ? buffer : Arrays.copyOf(buffer, buffered);
    }
    buffer = null;
    try {
      return store.publish(key, valueId, chunksWritten, tail, written, hex);
    } catch (KeyExistsException | IOException | RuntimeException e) {
      discard();
      throw e;
    }
  }

  @Override
  public void abort() {
    if (ended) {
      return;
    }
    ended = true;
    buffer = null;
    discard();
  }

  private void discard() {
    try {
      store.discard(valueId, chunksWritten);
    } catch (IOException e) {
      log.warn(
          "could not remove the {} chunk(s) of an ended upload now; the next open of the store will: {}",
          chunksWritten,
          e.getMessage());
    }
  }

  private void checkWritable(String operation) {
    if (ended) {
      throw new IllegalStateException("upload already ended: cannot " + operation);
    }
  }
}
