package io.dstore.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where Global keeps its key-value pairs. A backend stores write-once values of any size and makes
 * each one visible atomically: a value is either wholly readable or absent, never partial.
 *
 * <p><b>Contract</b> (checked for every backend by the shared conformance suite, {@code
 * StorageConformanceTest} in this module's test-jar):
 *
 * <ul>
 *   <li>A value is written through an {@link Upload}: bytes in order, then {@link Upload#commit}.
 *       Before the commit nothing of it is visible, and no key is reserved: concurrent uploads of
 *       one key all proceed, the first commit wins and the others fail with {@link
 *       KeyExistsException}. An aborted upload leaves nothing behind, including disk space.
 *   <li>Each commit assigns a generation greater than every generation assigned before by this
 *       store (for a durable store, across restarts too).
 *   <li>A {@link Reader} reads the value as it was when opened, even if the key is deleted (or
 *       deleted and created again) while it reads.
 *   <li>Keys are compared as byte arrays; key and value arrays passed in are not retained.
 * </ul>
 *
 * <p>Implementations are thread-safe. {@link IOException} means the backend itself failed (disk
 * full, corruption); callers report it as an internal error and the store stays usable where the
 * backend allows.
 */
public interface Storage extends AutoCloseable {

  /** A store in the heap of this process; for tests and demos. Holds values of any size. */
  static Storage memory() {
    return io.dstore.server.internal.MemoryStorage.create();
  }

  /**
   * A durable store in {@code dir} (created if missing), on RocksDB. With {@code sync}, every
   * commit and delete is fsynced before it returns, so it survives {@code kill -9} and power loss;
   * without, it survives a crash of the process but not of the machine.
   */
  static Storage rocksdb(Path dir, boolean sync) throws IOException {
    return io.dstore.server.internal.RocksDbStorage.open(dir, sync);
  }

  /** Metadata of the value of {@code key}, or empty if absent. */
  Optional<StoredInfo> stat(byte[] key) throws IOException;

  /**
   * Starts writing a new value for {@code key}. Does not check whether the key exists (the commit
   * does); callers check with {@link #stat} first to fail fast.
   *
   * @param declaredSize the size the value will have, or -1 if unknown; a hint for allocation
   */
  Upload create(byte[] key, long declaredSize) throws IOException;

  /** Opens the value of {@code key} for reading, or empty if absent. */
  Optional<Reader> open(byte[] key) throws IOException;

  /** Removes {@code key}; returns what it held, or empty if it was absent. */
  Optional<StoredInfo> delete(byte[] key) throws IOException;

  /** Number of keys stored now. */
  long keyCount();

  /** Bytes of values stored now (the sum of their sizes). */
  long valueBytes();

  /** Short name for logs: {@code memory}, {@code rocksdb:/path}. */
  String describe();

  /** Closes the store; idempotent. Uploads and readers still open fail afterwards. */
  @Override
  void close();

  /**
   * A value being written. Not thread-safe: one writer, bytes in order. Either {@link #commit} or
   * {@link #abort} ends it; {@link #close} aborts unless committed. Both ends are idempotent.
   */
  interface Upload extends AutoCloseable {
    /** Appends the remaining bytes of {@code bytes} (consuming them). */
    void write(ByteBuffer bytes) throws IOException;

    /** Bytes written so far. */
    long written();

    /**
     * Makes the value visible under its key, atomically, with {@code sha256} (64 hex digits) as its
     * digest, as computed and verified by the caller.
     *
     * @throws KeyExistsException if the key exists now; the upload is then aborted
     */
    StoredInfo commit(String sha256) throws KeyExistsException, IOException;

    /** Drops everything written; idempotent; a no-op after a commit. */
    void abort();

    @Override
    default void close() {
      abort();
    }
  }

  /** Random access to one value as it was when opened. Thread-safe. Close it when done. */
  interface Reader extends AutoCloseable {
    StoredInfo info();

    /**
     * Copies bytes from {@code position} into {@code dst}, up to {@code dst.remaining()} or the end
     * of the value, and returns how many it copied (0 at the end).
     */
    int read(long position, ByteBuffer dst) throws IOException;

    /** Idempotent. */
    @Override
    void close();
  }
}
