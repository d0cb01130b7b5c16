package io.dstore.server.internal;

import static io.dstore.server.internal.RocksLayout.KEY_COUNT;
import static io.dstore.server.internal.RocksLayout.VALUE_BYTES;
import static io.dstore.server.internal.RocksLayout.chunkKey;
import static io.dstore.server.internal.RocksLayout.uploadKey;
import static io.dstore.server.internal.RocksLayout.valueStart;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.server.internal.RocksLayout.Meta;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.MemoryUsageType;
import org.rocksdb.MemoryUtil;
import org.rocksdb.MutableColumnFamilyOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.Status;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable backend: RocksDB in one directory.
 *
 * <p><b>Layout</b> (see {@link RocksLayout}). A value's bytes are cut into chunks of {@value
 * #CHUNK_SIZE} bytes, stored in the {@code chunks} column family under (value id, chunk index); the
 * {@code meta} family maps each key to its value id, size, generation and SHA-256. So a value of
 * any size is never held whole in memory: an upload buffers at most one chunk and writes it as soon
 * as it is full, and a read fetches only the chunks it covers (fixed-size chunks make the chunk of
 * any position a division). Every upload gets a fresh value id, so its chunks are invisible (no
 * meta record names them) until the commit, and concurrent uploads of one key never collide.
 *
 * <p><b>Commit</b>. RocksDB has no put-if-absent, so a commit holds a lock striped by key while it
 * checks that the key is absent, takes the next generation and writes one atomic {@link
 * WriteBatch}: the last chunk, the meta record, the key and byte counters and the removal of the
 * upload's marker. After a crash either all of it is there or none.
 *
 * <p><b>Unfinished uploads</b>. The first chunk write of an upload also writes an upload marker in
 * the same batch; commit and abort remove it. {@link #open} range-deletes the chunks of every
 * marker it finds: uploads that a crash, or a close, cut off. An upload that fits in one chunk
 * writes nothing before its commit and needs no marker.
 *
 * <p><b>Delete and readers</b>. A delete removes the meta record and the chunks (point tombstones
 * for a small value, one range tombstone for a large one) in one batch. A {@link Reader} reads
 * through a RocksDB snapshot taken when it is opened, released when it is closed, so it keeps
 * seeing the record and the chunks it started with, whatever is deleted, created or compacted
 * meanwhile. Chosen over deferring chunk deletion until the last reader closes: no reference
 * counts, no second kind of marker to recover after a crash, and RocksDB guarantees the isolation.
 * The cost: while a snapshot is held, compaction keeps everything deleted after it was taken, not
 * just this value. Readers are meant to be short-lived (one get), and {@link #close} releases them.
 *
 * <p><b>Space</b>. Deleted and aborted chunks leave the disk when compaction processes their
 * tombstones. For a value of {@value #RECLAIM_MIN_CHUNKS} chunks or more, a compaction of just its
 * key range is scheduled on a background thread, so its space comes back soon after the delete
 * rather than whenever later writes trigger compactions: blob files that held only its chunks are
 * deleted then; a blob file it shared with live values (the last memtable of an upload is flushed
 * with whatever else was written meanwhile) is emptied later by blob garbage collection (see {@link
 * RocksTuning}).
 *
 * <p><b>Durability</b>. Chunk writes are never synced. Commits, deletes and counter reservations
 * are synced when {@code sync} is set ({@link WriteOptions#setSync}): a synced write fsyncs the WAL
 * up to itself, which holds every chunk the upload wrote before, so an acknowledged value is whole
 * after a power loss. Without {@code sync} the WAL is still written before each write returns, so a
 * crash of the process loses nothing. Generations and value ids come from {@link RocksCounter}s,
 * strictly increasing across restarts; the key and byte counts are kept in records updated in the
 * same batches as the values they count.
 *
 * <p><b>Concurrency</b>. Thread-safe. Every operation holds the read side of a lifecycle lock while
 * it uses RocksDB; {@link #close} takes the write side, so no native call is in flight or can start
 * once the native handles are freed (a freed handle would crash the JVM). Afterwards operations,
 * and uploads and readers still open, fail with an {@link IOException}. Lock order: lifecycle, then
 * a key stripe or a reader's monitor.
 */
public final class RocksDbStorage implements Storage, SpaceAware, NativeMemory {
  private static final Logger log = LoggerFactory.getLogger(RocksDbStorage.class);

  /** The size of every chunk of a value but the last. */
  static final int CHUNK_SIZE = 1 << 20;

  /** Values of at most this many chunks are deleted with point tombstones, larger with a range. */
  private static final long POINT_DELETE_MAX_CHUNKS = 8;

  /** Deleting or aborting at least this many chunks schedules a compaction of their range. */
  static final long RECLAIM_MIN_CHUNKS = 16;

  private static final long COUNTER_BLOCK = 1024;

  /** Never stored: {@link #resumeWrites} writes its tombstone to see whether writes work again. */
  private static final byte[] WRITE_PROBE_KEY = "write-probe".getBytes(StandardCharsets.US_ASCII);

  private static final int STRIPES = 64;

  private final Path dir;
  private final String description;
  private final RocksTuning tuning;
  private final RocksDB db;
  private final List<ColumnFamilyHandle> handles;
  private final ColumnFamilyHandle system;
  private final ColumnFamilyHandle meta;
  private final ColumnFamilyHandle chunks;
  private final WriteOptions durableWrites;
  private final WriteOptions chunkWrites;
  private final RocksCounter generations;
  private final RocksCounter valueIds;
  private final AtomicLong keyCount = new AtomicLong();
  private final AtomicLong valueBytes = new AtomicLong();
  private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile boolean closed;
  private volatile String writesBlockedBy; // null unless a write ran out of space; see resumeWrites
  private final Set<RocksReader> readers = ConcurrentHashMap.newKeySet();
  // Aborted uploads whose chunks could not be deleted for want of space: {value id, chunk count}.
  // resumeWrites deletes them once RocksDB writes again (the next open would, too: their markers).
  private final Queue<long[]> discardsAfterResume = new ConcurrentLinkedQueue<>();
  private int unfinishedUploadsRemoved; // set once by open
  private RocksRecovery.Loss loss; // set once by open, when a damaged log's loss was accepted
  private final AtomicLong integrityErrors = new AtomicLong();

  private final CompactRangeOptions reclaimOptions;
  private final Object reclaimLock = new Object();

  @GuardedBy("reclaimLock")
  private ExecutorService reclaimer; // created on first use

  @GuardedBy("reclaimLock")
  private byte[] reclaimBegin; // null when no compaction is pending

  @GuardedBy("reclaimLock")
  private byte[] reclaimEnd;

  private RocksDbStorage(Path dir, RocksTuning tuning, RocksDB db, List<ColumnFamilyHandle> handles)
      throws RocksDBException, IOException {
    this.dir = dir;
    this.description = "rocksdb:" + dir;
    this.tuning = tuning;
    this.db = db;
    this.handles = handles;
    this.system = handles.get(0);
    this.meta = handles.get(1);
    this.chunks = handles.get(2);
    this.durableWrites = tuning.durableWrites();
    this.chunkWrites = tuning.chunkWrites();
    this.reclaimOptions = tuning.reclaimCompactions();
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
    checkFormat();
    this.generations =
        new RocksCounter(db, system, RocksLayout.GENERATION_LIMIT, durableWrites, COUNTER_BLOCK);
    this.valueIds =
        new RocksCounter(db, system, RocksLayout.VALUE_ID_LIMIT, durableWrites, COUNTER_BLOCK);
    keyCount.set(readCount(KEY_COUNT));
    valueBytes.set(readCount(VALUE_BYTES));
  }

  /**
   * Opens (or creates) the store in {@code dir}. With {@code sync}, commits and deletes are fsynced
   * before they return. Removes what uploads left unfinished by an earlier run.
   *
   * @throws IOException if the directory cannot be created, is in use by another process or holds
   *     data this version cannot read
   */
  public static Storage open(Path dir, boolean sync) throws IOException {
    return open(dir, sync, false);
  }

  /**
   * Opens (or creates) the store in {@code dir}, refusing to start on a damaged write-ahead log or
   * MANIFEST unless {@code acceptDataLoss} (see {@link RocksRecovery}): then it opens with
   * point-in-time recovery and logs every key lost.
   *
   * @throws IOException if the directory cannot be created, is in use by another process, holds
   *     data this version cannot read, or is damaged (the message says which file and what the
   *     operator can do)
   */
  public static Storage open(Path dir, boolean sync, boolean acceptDataLoss) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    try {
      Files.createDirectories(absolute);
    } catch (IOException e) {
      throw new IOException("cannot create data directory " + absolute + ": " + e, e);
    }
    RocksDB.loadLibrary();
    RocksTuning tuning = new RocksTuning(sync, filesystemBytes(absolute));
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    RocksDB db;
    RocksRecovery.Opened opened;
    try {
      opened = RocksRecovery.open(absolute, tuning, handles, acceptDataLoss);
      db = opened.db();
    } catch (RocksDBException e) {
      tuning.close();
      throw openFailure(absolute, e);
    } catch (IOException | RuntimeException e) {
      tuning.close();
      throw e;
    }
    RocksDbStorage storage = null;
    try {
      storage = new RocksDbStorage(absolute, tuning, db, handles);
      storage.loss = opened.loss();
      storage.removeUnfinishedUploads();
      return storage;
    } catch (RocksDBException e) {
      closeAfterFailedOpen(storage, db, handles, tuning);
      throw openFailure(absolute, e);
    } catch (IOException | RuntimeException e) {
      closeAfterFailedOpen(storage, db, handles, tuning);
      throw e;
    }
  }

  /** The size of the filesystem holding {@code dir}, or 0 when it cannot be read. */
  private static long filesystemBytes(Path dir) {
    try {
      return Files.getFileStore(dir).getTotalSpace();
    } catch (IOException e) {
      return 0;
    }
  }

  private static void closeAfterFailedOpen(
      RocksDbStorage storage, RocksDB db, List<ColumnFamilyHandle> handles, RocksTuning tuning) {
    if (storage != null) {
      storage.close();
    } else {
      handles.forEach(ColumnFamilyHandle::close);
      db.close();
      tuning.close();
    }
  }

  private static IOException openFailure(Path dir, RocksDBException e) {
    String message = message(e);
    if (message.contains(File.separator + "LOCK")) {
      return new IOException(
          "data directory " + dir + " is in use by another process (or another store in this one)",
          e);
    }
    return new IOException("cannot open RocksDB store in " + dir + ": " + message, e);
  }

  private void checkFormat() throws RocksDBException, IOException {
    byte[] format = db.get(system, RocksLayout.FORMAT_KEY);
    String expected = Integer.toString(RocksLayout.FORMAT);
    if (format == null) {
      db.put(system, durableWrites, RocksLayout.FORMAT_KEY, RocksLayout.ascii(expected));
    } else if (!new String(format, StandardCharsets.US_ASCII).equals(expected)) {
      throw new IOException(
          "data directory "
              + dir
              + " holds dstore storage format "
              + new String(format, StandardCharsets.US_ASCII)
              + "; this version reads format "
              + expected);
    }
  }

  private long readCount(byte[] key) throws RocksDBException, IOException {
    byte[] count = db.get(system, key);
    return count == null ? 0 : RocksLayout.littleEndian(count);
  }

  /** Range-deletes the chunks of every upload that an earlier run left without commit or abort. */
  private void removeUnfinishedUploads() throws RocksDBException {
    List<Long> ids = new ArrayList<>();
    try (RocksIterator it = db.newIterator(system)) {
      for (it.seek(RocksLayout.UPLOAD_PREFIX);
          it.isValid() && startsWith(it.key(), RocksLayout.UPLOAD_PREFIX);
          it.next()) {
        if (RocksLayout.isUploadKey(it.key())) {
          ids.add(RocksLayout.uploadId(it.key()));
        }
      }
    }
    unfinishedUploadsRemoved = ids.size();
    if (ids.isEmpty()) {
      return;
    }
    try (WriteBatch batch = new WriteBatch()) {
      for (long id : ids) {
        batch.deleteRange(chunks, valueStart(id), valueStart(id + 1));
        batch.delete(system, uploadKey(id));
      }
      db.write(durableWrites, batch);
    }
    for (long id : ids) {
      reclaimLater(id, Long.MAX_VALUE);
    }
    log.info("{}: removed {} unfinished upload(s) left by an earlier run", description, ids.size());
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length
        && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  @Override
  public Optional<StoredInfo> stat(byte[] key) throws IOException {
    enter("stat");
    try {
      byte[] record = db.get(meta, key);
      return record == null ? Optional.empty() : Optional.of(decodeMeta(key, record).info());
    } catch (RocksDBException e) {
      throw failure("stat", key, e);
    } finally {
      exit();
    }
  }

  @Override
  public Upload create(byte[] key, long declaredSize) throws IOException {
    enter("create");
    try {
      return new RocksUpload(this, key.clone(), valueIds.next(), CHUNK_SIZE, declaredSize);
    } catch (RocksDBException e) {
      throw failure("create", e);
    } finally {
      exit();
    }
  }

  @Override
  public Optional<Reader> open(byte[] key) throws IOException {
    enter("open");
    Snapshot snapshot = db.getSnapshot();
    // Checksums of every block and blob read are verified (RocksDB's default, made explicit): a
    // damaged value is refused with INTEGRITY, never served.
    ReadOptions options = new ReadOptions().setSnapshot(snapshot).setVerifyChecksums(true);
    boolean handedOut = false;
    try {
      byte[] record = db.get(meta, options, key);
      if (record == null) {
        return Optional.empty();
      }
      RocksReader reader =
          new RocksReader(this, key.clone(), decodeMeta(key, record), snapshot, options);
      readers.add(reader);
      handedOut = true;
      return Optional.of(reader);
    } catch (RocksDBException e) {
      throw failure("open", key, e);
    } finally {
      if (!handedOut) {
        releaseSnapshot(snapshot, options);
      }
      exit();
    }
  }

  @Override
  public Optional<StoredInfo> delete(byte[] key) throws IOException {
    enter("delete");
    ReentrantLock stripe = stripe(key);
    stripe.lock();
    try (WriteBatch batch = new WriteBatch()) {
      byte[] record = db.get(meta, key);
      if (record == null) {
        return Optional.empty();
      }
      Meta gone = Meta.decode(record);
      batch.delete(meta, key);
      deleteChunks(batch, gone.valueId(), gone.chunkCount());
      countChange(batch, -1, -gone.info().size());
      db.write(durableWrites, batch); // attempted whatever the free space: deletes free it
      keyCount.decrementAndGet();
      valueBytes.addAndGet(-gone.info().size());
      reclaimLater(gone.valueId(), gone.chunkCount());
      return Optional.of(gone.info());
    } catch (RocksDBException e) {
      throw failure("delete", e);
    } finally {
      stripe.unlock();
      exit();
    }
  }

  @Override
  public long keyCount() {
    return keyCount.get();
  }

  @Override
  public long valueBytes() {
    return valueBytes.get();
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public Map<String, Long> nativeMemoryBytes() {
    if (!enterIfOpen()) {
      return Map.of();
    }
    try {
      Map<MemoryUsageType, Long> usage =
          MemoryUtil.getApproximateMemoryUsageByType(List.of(db), Set.of(tuning.blockCache()));
      Map<String, Long> out = new LinkedHashMap<>();
      long memtables = usage.getOrDefault(MemoryUsageType.kMemTableTotal, 0L);
      out.put("memtables", memtables);
      out.put("table_readers", usage.getOrDefault(MemoryUsageType.kTableReadersTotal, 0L));
      // The cache's usage includes the memtables charged to it (RocksTuning): count them once
      long cache = usage.getOrDefault(MemoryUsageType.kCacheTotal, 0L);
      out.put("block_cache", Math.max(0, cache - memtables));
      return out;
    } finally {
      exit();
    }
  }

  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    reclaimOptions.setCanceled(true); // a running reclaim compaction returns early
    lifecycle.writeLock().lock();
    try {
      closed = true;
      List<RocksReader> open = new ArrayList<>(readers);
      readers.clear();
      for (RocksReader reader : open) {
        reader.release();
      }
      try {
        db.flushWal(true);
      } catch (RocksDBException e) {
        log.warn("{}: could not sync the write-ahead log on close: {}", description, message(e));
      }
      handles.forEach(ColumnFamilyHandle::close);
      try {
        db.closeE();
      } catch (RocksDBException e) {
        log.warn("{}: close reported: {}", description, message(e));
      }
      tuning.close();
    } finally {
      lifecycle.writeLock().unlock();
      synchronized (reclaimLock) {
        if (reclaimer != null) {
          reclaimer.shutdown();
        }
      }
    }
  }

  // ---- used by RocksUpload and RocksReader ----

  /** Writes one full chunk of an upload; the first one also writes the upload's marker. */
  void writeChunk(byte[] key, long valueId, long index, byte[] bytes) throws IOException {
    enter("upload write");
    try {
      if (index == 0) {
        try (WriteBatch batch = new WriteBatch()) {
          batch.put(system, uploadKey(valueId), key);
          batch.put(chunks, chunkKey(valueId, index), bytes);
          db.write(chunkWrites, batch);
        }
      } else {
        db.put(chunks, chunkWrites, chunkKey(valueId, index), bytes);
      }
    } catch (RocksDBException e) {
      throw failure("upload write", e);
    } finally {
      exit();
    }
  }

  /**
   * Publishes an upload: its {@code tail} (the last, partial chunk, or null) at index {@code
   * chunksWritten}, and its meta record, unless the key exists.
   */
  StoredInfo publish(
      byte[] key, long valueId, long chunksWritten, byte[] tail, long size, String sha256)
      throws KeyExistsException, IOException {
    enter("commit");
    ReentrantLock stripe = stripe(key);
    stripe.lock();
    try (WriteBatch batch = new WriteBatch()) {
      byte[] existing = db.get(meta, key);
      if (existing != null) {
        throw new KeyExistsException(Meta.decode(existing).info());
      }
      StoredInfo info = new StoredInfo(size, generations.next(), sha256);
      if (tail != null) {
        batch.put(chunks, chunkKey(valueId, chunksWritten), tail);
      }
      batch.put(meta, key, new Meta(valueId, CHUNK_SIZE, info).encode());
      if (chunksWritten > 0) {
        batch.delete(system, uploadKey(valueId));
      }
      countChange(batch, 1, size);
      db.write(durableWrites, batch);
      keyCount.incrementAndGet();
      valueBytes.addAndGet(size);
      return info;
    } catch (RocksDBException e) {
      throw failure("commit", e);
    } finally {
      stripe.unlock();
      exit();
    }
  }

  /**
   * Deletes the chunks an upload wrote, and its marker. Does nothing once the store is closed: the
   * marker stays, and the next {@link #open} removes the chunks.
   */
  void discard(long valueId, long chunksWritten) throws IOException {
    if (chunksWritten == 0 || !enterIfOpen()) {
      return;
    }
    try {
      deleteUpload(valueId, chunksWritten);
    } catch (RocksDBException e) {
      IOException failure = failure("abort", e);
      if (failure instanceof NoSpaceException) {
        discardsAfterResume.add(new long[] {valueId, chunksWritten});
      }
      throw failure;
    } finally {
      exit();
    }
  }

  /** Deletes an upload's chunks and marker. The caller holds the lifecycle lock. */
  private void deleteUpload(long valueId, long chunksWritten) throws RocksDBException {
    try (WriteBatch batch = new WriteBatch()) {
      deleteChunks(batch, valueId, chunksWritten);
      batch.delete(system, uploadKey(valueId));
      db.write(chunkWrites, batch);
    }
    reclaimLater(valueId, chunksWritten);
  }

  /**
   * One chunk of a value, read through {@code options} (which carry the reader's snapshot). The
   * caller holds the lifecycle lock ({@link #enter}).
   */
  byte[] chunk(ReadOptions options, Meta value, long index) throws RocksDBException, IOException {
    byte[] bytes = db.get(chunks, options, chunkKey(value.valueId(), index));
    long expected = Math.min(value.chunkSize(), value.info().size() - index * value.chunkSize());
    if (bytes == null || bytes.length != expected) {
      throw new StoredDamage(
          "chunk "
              + index
              + " of value "
              + value.valueId()
              + " is "
              + (bytes == null ? "missing" : bytes.length + " bytes, expected " + expected));
    }
    return bytes;
  }

  /**
   * What a read found damaged in the stored data of one key: a chunk missing or of the wrong size.
   * RocksDB's own checksum failures arrive as a {@link RocksDBException} with status Corruption.
   */
  static final class StoredDamage extends IOException {
    private static final long serialVersionUID = 1L;

    StoredDamage(String message) {
      super(message);
    }
  }

  /** Whether RocksDB failed because stored bytes failed a checksum or are cut short. */
  static boolean isDamage(RocksDBException e) {
    Status status = e.getStatus();
    if (status != null && status.getCode() == Status.Code.Corruption) {
      return true;
    }
    String message = e.getMessage() == null ? "" : e.getMessage();
    return message.startsWith("Corruption") || message.contains("truncated");
  }

  /**
   * The failure of a read of {@code key}: INTEGRITY, counted and logged with the key, when the
   * stored bytes are damaged; otherwise a plain backend failure.
   */
  IOException failure(String operation, byte[] key, RocksDBException e) {
    if (isDamage(e)) {
      throw damaged(key, message(e));
    }
    return failure(operation, e);
  }

  /** Counts, logs and returns the refusal of a read of {@code key} whose stored data is damaged. */
  DstoreException damaged(byte[] key, String why) {
    integrityErrors.incrementAndGet();
    String name = RocksCheck.describeKey(key);
    log.error(
        "{}: stored value of key {} is damaged: {}; it is refused with INTEGRITY until it is"
            + " deleted and put again (dstore global --check lists every damaged key)",
        description,
        name,
        why);
    return new DstoreException(
        ErrorCode.INTEGRITY, "stored value of key " + name + " is damaged: " + why);
  }

  private Meta decodeMeta(byte[] key, byte[] record) {
    try {
      return Meta.decode(record);
    } catch (IOException e) {
      throw damaged(key, e.getMessage() == null ? "unreadable record" : e.getMessage());
    }
  }

  /** Frees a reader's snapshot. The caller holds the lifecycle lock (either side). */
  void releaseSnapshot(Snapshot snapshot, ReadOptions options) {
    options.close();
    db.releaseSnapshot(snapshot);
  }

  void forget(RocksReader reader) {
    readers.remove(reader);
  }

  /** Takes the read side of the lifecycle lock, or fails if the store is closed. */
  void enter(String operation) throws IOException {
    if (!enterIfOpen()) {
      throw new IOException(StorageArgs.closedMessage(operation, description));
    }
  }

  boolean enterIfOpen() {
    lifecycle.readLock().lock();
    if (closed) {
      lifecycle.readLock().unlock();
      return false;
    }
    return true;
  }

  void exit() {
    lifecycle.readLock().unlock();
  }

  void checkOpen(String operation) throws IOException {
    if (closed) {
      throw new IOException(StorageArgs.closedMessage(operation, description));
    }
  }

  IOException failure(String operation, RocksDBException e) {
    String message = operation + " failed in " + description + ": " + message(e);
    if (isNoSpace(e)) {
      // RocksDB keeps refusing writes after this (a sticky background error) until resume()
      writesBlockedBy = operation + " failed: " + message(e);
      return new NoSpaceException(message, e);
    }
    return new IOException(message, e);
  }

  /** Whether RocksDB failed for want of disk space (ENOSPC), now or in a background flush. */
  private static boolean isNoSpace(RocksDBException e) {
    Status status = e.getStatus();
    if (status != null && status.getSubCode() == Status.SubCode.NoSpace) {
      return true;
    }
    // Some paths report ENOSPC only as an IOError whose text is the OS's
    String text = e.getMessage();
    return text != null && text.contains("No space left on device");
  }

  @Override
  public Path directory() {
    return dir;
  }

  @Override
  public String writesBlockedBy() {
    return writesBlockedBy;
  }

  /**
   * RocksDB's Java API has no {@code resume()}: the store recovers from a full disk by itself, the
   * {@link org.rocksdb.SstFileManager} {@link RocksTuning} installs turning on RocksDB's automatic
   * recovery from ENOSPC once space is back. This probes whether it has: a tiny durable write (the
   * tombstone of a key that never exists). If RocksDB takes it, writes are unblocked, and the
   * chunks of uploads whose abort failed for want of space are deleted now. RocksDB retries every 5
   * s, and only once free space reaches its largest memtable (see {@link RocksTuning}).
   */
  @Override
  public void resumeWrites() throws IOException {
    String before = writesBlockedBy;
    if (before == null) {
      return;
    }
    enter("resume");
    try {
      try {
        db.delete(system, durableWrites, WRITE_PROBE_KEY);
      } catch (RocksDBException e) {
        throw new IOException(
            "writes still fail in " + description + " (blocked by: " + before + "): " + message(e),
            e);
      }
      writesBlockedBy = null;
      log.info("RocksDB resumed writes after running out of disk space ({})", before);
      for (long[] upload = discardsAfterResume.poll();
          upload != null;
          upload = discardsAfterResume.poll()) {
        try {
          deleteUpload(upload[0], upload[1]);
        } catch (RocksDBException e) {
          discardsAfterResume.add(upload);
          throw failure("abort", e);
        }
        log.info(
            "{}: removed the {} chunk(s) of an upload that failed for want of space",
            description,
            upload[1]);
      }
    } finally {
      exit();
    }
  }

  private static String message(RocksDBException e) {
    if (e.getMessage() != null) {
      return e.getMessage();
    }
    return e.getStatus() == null ? "unknown RocksDB error" : e.getStatus().getCodeString();
  }

  // ---- internals ----

  private ReentrantLock stripe(byte[] key) {
    return stripes[Math.floorMod(Arrays.hashCode(key), STRIPES)];
  }

  private void deleteChunks(WriteBatch batch, long valueId, long count) throws RocksDBException {
    if (count <= POINT_DELETE_MAX_CHUNKS) {
      for (long i = 0; i < count; i++) {
        batch.delete(chunks, chunkKey(valueId, i));
      }
    } else {
      batch.deleteRange(chunks, valueStart(valueId), valueStart(valueId + 1));
    }
  }

  private void countChange(WriteBatch batch, long keys, long bytes) throws RocksDBException {
    batch.merge(system, KEY_COUNT, RocksLayout.littleEndian(keys));
    batch.merge(system, VALUE_BYTES, RocksLayout.littleEndian(bytes));
  }

  /**
   * Schedules a compaction of the chunks of {@code valueId} if there were many, coalescing with one
   * already pending. The caller holds the lifecycle lock.
   */
  private void reclaimLater(long valueId, long chunkCount) {
    if (chunkCount < RECLAIM_MIN_CHUNKS) {
      return;
    }
    byte[] begin = valueStart(valueId);
    byte[] end = valueStart(valueId + 1);
    synchronized (reclaimLock) {
      boolean submit = reclaimBegin == null;
      if (submit || Arrays.compareUnsigned(begin, reclaimBegin) < 0) {
        reclaimBegin = begin;
      }
      if (submit || Arrays.compareUnsigned(end, reclaimEnd) > 0) {
        reclaimEnd = end;
      }
      if (submit) {
        if (reclaimer == null) {
          reclaimer =
              Executors.newSingleThreadExecutor(
                  r -> {
                    Thread t = new Thread(r, "dstore-rocksdb-reclaim");
                    t.setDaemon(true);
                    return t;
                  });
        }
        reclaimer.execute(this::reclaim);
      }
    }
  }

  private void reclaim() {
    byte[] begin;
    byte[] end;
    synchronized (reclaimLock) {
      begin = reclaimBegin;
      end = reclaimEnd;
      reclaimBegin = null;
      reclaimEnd = null;
    }
    if (begin == null || !enterIfOpen()) {
      return;
    }
    try {
      db.compactRange(chunks, begin, end, reclaimOptions);
    } catch (RocksDBException e) {
      if (!closing.get()) {
        log.warn("{}: compaction to reclaim deleted values failed: {}", description, message(e));
      }
    } finally {
      exit();
    }
  }

  // ---- diagnostics for tests ----

  @Override
  public long integrityErrors() {
    return integrityErrors.get();
  }

  /** What opening with {@code acceptDataLoss} lost, or null when nothing was. */
  RocksRecovery.Loss loss() {
    return loss;
  }

  /** How many unfinished uploads of an earlier run {@link #open} removed. */
  int unfinishedUploadsRemoved() {
    return unfinishedUploadsRemoved;
  }

  /** Whether commits and deletes are fsynced before they return. */
  boolean syncs() {
    return durableWrites.sync();
  }

  /** Number of chunk records (committed or not); reads them all. */
  long chunkRecords() throws IOException {
    return countRecords(chunks, null);
  }

  /** Number of uploads with chunks written but neither committed nor aborted. */
  long uploadMarkers() throws IOException {
    return countRecords(system, RocksLayout.UPLOAD_PREFIX);
  }

  private long countRecords(ColumnFamilyHandle family, byte[] prefix) throws IOException {
    enter("count");
    try (RocksIterator it = db.newIterator(family)) {
      long n = 0;
      for (it.seekToFirst(); it.isValid(); it.next()) {
        if (prefix == null || startsWith(it.key(), prefix)) {
          n++;
        }
      }
      it.status();
      return n;
    } catch (RocksDBException e) {
      throw failure("count", e);
    } finally {
      exit();
    }
  }

  /**
   * Flushes and fully compacts the chunks family, with blob garbage collection over every blob file
   * (normally only the oldest quarter), then returns the bytes of its live files (SSTs and blob
   * files): the disk the chunks take once everything reclaimable is reclaimed. Rewrites all live
   * data: for tests.
   */
  long chunkBytesOnDiskAfterCompaction() throws IOException {
    enter("compact");
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true);
        CompactRangeOptions full =
            new CompactRangeOptions()
                .setBottommostLevelCompaction(
                    CompactRangeOptions.BottommostLevelCompaction.kForce)) {
      db.flush(flush, chunks);
      db.setOptions(chunks, blobGarbageCutoff(1.0));
      try {
        db.compactRange(chunks, null, null, full);
      } finally {
        db.setOptions(chunks, blobGarbageCutoff(RocksTuning.BLOB_GARBAGE_AGE_CUTOFF));
      }
      return db.getLongProperty(chunks, "rocksdb.live-sst-files-size")
          + db.getLongProperty(chunks, "rocksdb.live-blob-file-size");
    } catch (RocksDBException e) {
      throw failure("compact", e);
    } finally {
      exit();
    }
  }

  private static MutableColumnFamilyOptions blobGarbageCutoff(double cutoff) {
    return MutableColumnFamilyOptions.builder().setBlobGarbageCollectionAgeCutoff(cutoff).build();
  }
}
