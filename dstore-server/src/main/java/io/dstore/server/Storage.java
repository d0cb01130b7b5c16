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
 *       KeyExistsException}. An aborted upload leaves nothing behind: no key, no change to {@link
 *       #keyCount} or {@link #valueBytes}, and its memory or disk space is given back (a disk
 *       backend may give disk space back when it next compacts, but never leaks it).
 *   <li>Each commit assigns a generation greater than every generation assigned before by this
 *       store, to any key (for a durable store, across restarts too; generations may skip numbers).
 *   <li>A {@link Reader} reads the value as it was when opened, even if the key is deleted (or
 *       deleted and created again) while it reads.
 *   <li>Keys are compared as byte arrays (any bytes, including NUL; Global limits their length);
 *       key and value arrays and buffers passed in are not retained.
 *   <li>A value is never held whole in memory by a disk backend: uploads and readers move it in
 *       pieces, so values far larger than the heap can be stored and read.
 * </ul>
 *
 * <p>Implementations are thread-safe. {@link IOException} means the backend itself failed (disk
 * full, corruption) or the store is closed; callers report it as an internal error and the store
 * stays usable where the backend allows. Arguments that break the contract (a malformed digest, a
 * negative position, using an upload after it ended) throw unchecked exceptions.
 */
public interface Storage extends AutoCloseable {

  /**
   * A store in the heap of this process; for tests and demos. Holds values of any size, in chunks
   * of at most 1 MiB; its data is lost when it is closed or the process ends.
   */
  static Storage memory() {
    return io.dstore.server.internal.MemoryStorage.create();
  }

  /**
   * A durable store in {@code dir} (created if missing), on RocksDB. With {@code sync}, every
   * commit and delete is fsynced before it returns, so it survives {@code kill -9} and power loss;
   * without, it survives a crash of the process but not of the machine. Uploads that a crash cut
   * off are removed when the store is next opened.
   *
   * @throws IOException if the directory cannot be created or opened, for instance because another
   *     process (or another store in this one) has it open
   */
  static Storage rocksdb(Path dir, boolean sync) throws IOException {
    return io.dstore.server.internal.RocksDbStorage.open(dir, sync);
  }

  /**
   * Like {@link #rocksdb(Path, boolean)}, which refuses to open a store whose write-ahead log or
   * MANIFEST is damaged (the message names the file and what to do). With {@code acceptDataLoss},
   * damage in the write-ahead log is accepted instead: the store opens with what precedes the
   * damage, and every key lost is logged.
   */
  static Storage rocksdb(Path dir, boolean sync, boolean acceptDataLoss) throws IOException {
    return io.dstore.server.internal.RocksDbStorage.open(dir, sync, acceptDataLoss);
  }

  /**
   * Checks the RocksDB store in {@code dir} without changing it: the write-ahead logs, the
   * checksums of every file, and every value against its SHA-256. Prints each damaged key or file
   * on one line to {@code out}, then a summary.
   *
   * @return the number of problems found; 0 when the store is clean
   * @throws IOException if {@code dir} holds no store
   */
  static long checkRocksdb(Path dir, java.io.PrintStream out) throws IOException {
    return io.dstore.server.internal.RocksCheck.check(dir, out);
  }

  /** Metadata of the value of {@code key}, or empty if absent. */
  Optional<StoredInfo> stat(byte[] key) throws IOException;

  /**
   * Whether a write may wait on something slow (a disk, an fsync). When it may not, Global writes
   * small values on the connection's own thread instead of handing them to a worker thread, which
   * saves a thread switch per write. The default, {@code true}, is always safe.
   */
  default boolean writesMayBlock() {
    return true;
  }

  /**
   * Starts writing a new value for {@code key}. Does not check whether the key exists (the commit
   * does); callers check with {@link #stat} first to fail fast. The upload must be ended ({@link
   * Upload#commit}, {@link Upload#abort} or {@link Upload#close}); until then it holds memory (at
   * most about one chunk) and, in a disk backend, the chunks written so far.
   *
   * @param declaredSize the size the value will have, or -1 if unknown; a hint for allocation, not
   *     checked
   */
  Upload create(byte[] key, long declaredSize) throws IOException;

  /**
   * As {@link #create(byte[], long)}, tagging the value with the request id of the put that writes
   * it, so that a retry of that put (through another gateway, say) can find out with {@link
   * #createdBy} that its first attempt committed. Backends that keep no request ids ignore it; the
   * default does.
   *
   * @param requestId the put's request id; empty if it has none
   */
  default Upload create(byte[] key, long declaredSize, byte[] requestId) throws IOException {
    return create(key, declaredSize);
  }

  /**
   * The request id given to {@link #create(byte[], long, byte[])} for the value of {@code key} at
   * {@code generation}; empty if the backend keeps none, the key is absent, holds another
   * generation, or was written without an id. The default is always empty.
   */
  default Optional<byte[]> createdBy(byte[] key, long generation) throws IOException {
    return Optional.empty();
  }

  /**
   * Settles the put with {@code requestId} (of {@code key}) as refused, unless it was applied
   * already: returns what it created if an attempt of it committed, else empty, and then no attempt
   * of it still in flight (a first attempt whose answer was lost, say) can ever commit. Called
   * before answering ALREADY_EXISTS to a put that carries a request id, so that a retry and its
   * first attempt never both count. Backends that keep no request records return empty.
   */
  default Optional<StoredInfo> settleRefused(byte[] key, byte[] requestId) throws IOException {
    return Optional.empty();
  }

  /**
   * Opens the value of {@code key} for reading, or empty if absent. Close the reader promptly: an
   * open reader may keep the bytes of a value deleted meanwhile (and, in RocksDB, of everything
   * deleted since it was opened) from being reclaimed.
   */
  Optional<Reader> open(byte[] key) throws IOException;

  /**
   * Removes {@code key}; returns what it held, or empty if it was absent. Readers already open
   * still read the old value; the key can be created again at once, with a new generation.
   */
  Optional<StoredInfo> delete(byte[] key) throws IOException;

  /** Number of keys stored now; correct after a restart of a durable store too. */
  long keyCount();

  /**
   * Bytes of values stored now (the sum of their sizes, not counting uploads in progress or
   * overheads).
   */
  long valueBytes();

  /**
   * Reads refused so far because the stored data of a key failed its integrity check (a checksum
   * mismatch, a missing or cut-short chunk); such reads fail with {@code ErrorCode.INTEGRITY}.
   */
  default long integrityErrors() {
    return 0;
  }

  /** Short name for logs: {@code memory}, {@code rocksdb:/path}. */
  String describe();

  /**
   * Closes the store; idempotent. Afterwards every operation, and every upload and reader still
   * open, fails with an {@link IOException} (ending them, with {@code abort} or {@code close},
   * still works and does nothing). A durable store removes uploads left open at the next open.
   */
  @Override
  void close();

  /**
   * A value being written. Not thread-safe: one writer, bytes in order. Either {@link #commit} or
   * {@link #abort} ends it; {@link #close} aborts unless committed. {@code abort} and {@code close}
   * are idempotent; {@code write} or {@code commit} after the end throw {@link
   * IllegalStateException}.
   */
  interface Upload extends AutoCloseable {
    /**
     * Appends the remaining bytes of {@code bytes} (consuming them: its position moves to its
     * limit). Any sizes, in any number of calls; heap or direct buffers.
     */
    void write(ByteBuffer bytes) throws IOException;

    /** Bytes written so far. */
    long written();

    /**
     * Makes the value visible under its key, atomically, with {@code sha256} (64 hex digits, either
     * case; stored in lower case) as its digest, as computed and verified by the caller. Ends the
     * upload whatever the outcome, except for a malformed digest.
     *
     * @throws KeyExistsException if the key exists now; the upload is then aborted, and the
     *     exception carries the value that holds the key
     * @throws IOException if the backend failed or is closed; the upload is then aborted
     * @throws IllegalArgumentException if {@code sha256} is not 64 hex digits; the upload stays
     *     open
     */
    StoredInfo commit(String sha256) throws KeyExistsException, IOException;

    /**
     * As {@link #commit}, but under {@code key} instead of the key given to {@link Storage#create}:
     * for content-addressed uploads, whose key ({@code sha256:<hex>}) is known only once every byte
     * has been hashed.
     *
     * @throws KeyExistsException if {@code key} exists now; the upload is then aborted
     */
    StoredInfo commitAs(byte[] key, String sha256) throws KeyExistsException, IOException;

    /** Drops everything written; idempotent; a no-op after a commit. */
    void abort();

    @Override
    default void close() {
      abort();
    }
  }

  /**
   * Random access to one value as it was when opened. Thread-safe. Close it when done; reads after
   * it or its store is closed fail with an {@link IOException}.
   */
  interface Reader extends AutoCloseable {
    StoredInfo info();

    /**
     * Copies bytes from {@code position} into {@code dst} (advancing its position) until {@code
     * dst} is full or the value ends, and returns how many it copied: {@code min(dst.remaining(),
     * size - position)}, so 0 at or past the end of the value.
     *
     * @throws IllegalArgumentException if {@code position} is negative
     */
    int read(long position, ByteBuffer dst) throws IOException;

    /** Idempotent. */
    @Override
    void close();
  }
}
