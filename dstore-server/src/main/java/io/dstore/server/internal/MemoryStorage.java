package io.dstore.server.internal;

import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap backend, for tests, demos and a Global whose data may die with its process.
 *
 * <p>Design: a {@link ConcurrentHashMap} from key to an immutable {@code Value} (its info and its
 * bytes as a list of chunks of at most 1 MiB, so a value of any size needs no single huge array). A
 * commit is one {@code compute} on the key: it checks that the key is absent and takes the next
 * generation inside the map's lock for that key, so commits of one key are ordered and exactly one
 * of several concurrent ones wins. A {@link Reader} holds the {@code Value} it opened, which never
 * changes, so a delete or a re-creation does not disturb it; the garbage collector frees the bytes
 * once the last reader lets go. An upload grows its last chunk as bytes arrive and trims it on
 * commit, so a small value costs its size, not a whole chunk; an aborted upload drops its chunks.
 *
 * <p>Thread-safe. After {@link #close} every operation fails with an {@link IOException}; a commit
 * that raced with the close may still succeed, into a store that is then unreachable.
 */
public final class MemoryStorage implements Storage {
  /** The most bytes in one chunk. */
  static final int CHUNK_SIZE = 1 << 20;

  private static final int MIN_ALLOCATION = 4096;

  private final ConcurrentHashMap<Key, Value> values = new ConcurrentHashMap<>();
  private final AtomicLong generations = new AtomicLong();
  private final AtomicLong valueBytes = new AtomicLong();
  private final AtomicLong heldBytes = new AtomicLong();
  private volatile boolean closed;

  private MemoryStorage() {}

  /** A new empty store. */
  public static Storage create() {
    return new MemoryStorage();
  }

  /** Writes copy into the heap under a map update: nothing here waits. */
  @Override
  public boolean writesMayBlock() {
    return false;
  }

  @Override
  public Optional<StoredInfo> stat(byte[] key) throws IOException {
    checkOpen("stat");
    Value v = values.get(Key.copyOf(key));
    checkOpen("stat"); // absent because a close cleared the map?
    return v == null ? Optional.empty() : Optional.of(v.info);
  }

  @Override
  public Upload create(byte[] key, long declaredSize) throws IOException {
    checkOpen("create");
    return new MemoryUpload(Key.copyOf(key), declaredSize);
  }

  @Override
  public Optional<Reader> open(byte[] key) throws IOException {
    checkOpen("open");
    Value v = values.get(Key.copyOf(key));
    checkOpen("open");
    return v == null ? Optional.empty() : Optional.of(new MemoryReader(v));
  }

  @Override
  public Optional<StoredInfo> delete(byte[] key) throws IOException {
    checkOpen("delete");
    Value[] removed = new Value[1];
    values.computeIfPresent(
        Key.copyOf(key),
        (k, v) -> {
          removed[0] = v;
          valueBytes.addAndGet(-v.info.size());
          heldBytes.addAndGet(-v.info.size());
          return null;
        });
    checkOpen("delete");
    return removed[0] == null ? Optional.empty() : Optional.of(removed[0].info);
  }

  @Override
  public long keyCount() {
    return values.size();
  }

  @Override
  public long valueBytes() {
    return valueBytes.get();
  }

  /**
   * Heap bytes held for values: committed ones and uploads in progress (including the unused room
   * at the end of an upload's last chunk). Deleted values still open in a reader are not counted.
   */
  long heldBytes() {
    return heldBytes.get();
  }

  @Override
  public String describe() {
    return "memory";
  }

  @Override
  public void close() {
    closed = true;
    values.clear();
    valueBytes.set(0);
    heldBytes.set(0);
  }

  private void checkOpen(String operation) throws IOException {
    if (closed) {
      throw new IOException(StorageArgs.closedMessage(operation, describe()));
    }
  }

  /** A key compared by its bytes; owns its array. */
  private static final class Key {
    private final byte[] bytes;
    private final int hash;

    private Key(byte[] bytes) {
      this.bytes = bytes;
      this.hash = Arrays.hashCode(bytes);
    }

    static Key copyOf(byte[] key) {
      return new Key(key.clone());
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && hash == k.hash && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public String toString() {
      return "Key[" + bytes.length + " bytes]";
    }
  }

  /** A committed value: never changes. Every chunk but the last is exactly {@link #CHUNK_SIZE}. */
  private record Value(StoredInfo info, List<byte[]> chunks) {}

  /** Not thread-safe, per the {@link Upload} contract. */
  private final class MemoryUpload implements Upload {
    private Key key;
    private final long declaredSize;
    private final List<byte[]> full = new ArrayList<>();
    private byte[] last; // the chunk being filled, or null before the first byte
    private int lastLength;
    private long written;
    private long held; // bytes allocated for this upload, counted in heldBytes
    private boolean ended;

    MemoryUpload(Key key, long declaredSize) {
      this.key = key;
      this.declaredSize = declaredSize;
    }

    @Override
    public void write(ByteBuffer bytes) throws IOException {
      checkWritable("write");
      while (bytes.hasRemaining()) {
        if (last == null || lastLength == CHUNK_SIZE) {
          startChunk(bytes.remaining());
        } else if (lastLength == last.length) {
          grow(bytes.remaining());
        }
        int n = Math.min(bytes.remaining(), last.length - lastLength);
        bytes.get(last, lastLength, n);
        lastLength += n;
        written += n;
      }
    }

    private void startChunk(int incoming) {
      if (last != null) {
        full.add(last);
      }
      long expected = declaredSize > written ? declaredSize - written : incoming;
      last = allocate((int) Math.min(CHUNK_SIZE, Math.max(MIN_ALLOCATION, expected)));
      lastLength = 0;
    }

    private void grow(int incoming) {
      long wanted = Math.max(2L * last.length, (long) lastLength + incoming);
      byte[] bigger = allocate((int) Math.min(CHUNK_SIZE, wanted));
      System.arraycopy(last, 0, bigger, 0, lastLength);
      account(-last.length);
      last = bigger;
    }

    private byte[] allocate(int size) {
      account(size);
      return new byte[size];
    }

    private void account(long delta) {
      held += delta;
      heldBytes.addAndGet(delta);
    }

    @Override
    public long written() {
      return written;
    }

    @Override
    public StoredInfo commitAs(byte[] newKey, String sha256)
        throws KeyExistsException, IOException {
      key = Key.copyOf(newKey);
      return commit(sha256);
    }

    @Override
    public StoredInfo commit(String sha256) throws KeyExistsException, IOException {
      String hex = StorageArgs.sha256Hex(sha256);
      if (!ended && closed) {
        abort();
        throw new IOException(StorageArgs.closedMessage("upload commit", describe()));
      }
      checkWritable("commit");
      ended = true;
      if (last != null) {
        if (lastLength < last.length) {
          account(lastLength - last.length);
          last = Arrays.copyOf(last, lastLength);
        }
        full.add(last);
        last = null;
      }
      List<byte[]> chunks = List.copyOf(full);
      full.clear();
      StoredInfo[] result = new StoredInfo[1];
      boolean[] won = new boolean[1];
      values.compute(
          key,
          (k, prior) -> {
            if (prior != null) {
              result[0] = prior.info;
              return prior;
            }
            won[0] = true;
            result[0] = new StoredInfo(written, generations.incrementAndGet(), hex);
            valueBytes.addAndGet(written);
            return new Value(result[0], chunks);
          });
      if (!won[0]) {
        account(-held);
        throw new KeyExistsException(result[0]);
      }
      held = 0; // now counted as part of the committed value
      return result[0];
    }

    @Override
    public void abort() {
      if (ended) {
        return;
      }
      ended = true;
      full.clear();
      last = null;
      account(-held);
    }

    private void checkWritable(String operation) throws IOException {
      if (ended) {
        throw new IllegalStateException("upload already ended: cannot " + operation);
      }
      if (closed) {
        throw new IOException(StorageArgs.closedMessage("upload " + operation, describe()));
      }
    }
  }

  private final class MemoryReader implements Reader {
    private final Value value;
    private volatile boolean readerClosed;

    MemoryReader(Value value) {
      this.value = value;
    }

    @Override
    public StoredInfo info() {
      return value.info;
    }

    @Override
    public int read(long position, ByteBuffer dst) throws IOException {
      StorageArgs.checkPosition(position);
      if (readerClosed) {
        throw new IOException("read failed: reader is closed");
      }
      if (closed) {
        throw new IOException(StorageArgs.closedMessage("read", describe()));
      }
      long size = value.info.size();
      int copied = 0;
      long pos = position;
      while (dst.hasRemaining() && pos < size) {
        byte[] chunk = value.chunks.get((int) (pos / CHUNK_SIZE));
        int offset = (int) (pos % CHUNK_SIZE);
        int n = Math.min(dst.remaining(), chunk.length - offset);
        dst.put(chunk, offset, n);
        copied += n;
        pos += n;
      }
      return copied;
    }

    @Override
    public void close() {
      readerClosed = true;
    }
  }
}
