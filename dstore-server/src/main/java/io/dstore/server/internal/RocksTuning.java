package io.dstore.server.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.Env;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksObject;
import org.rocksdb.SstFileManager;
import org.rocksdb.UInt64AddOperator;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB options of {@link RocksDbStorage}, and the native objects behind them, which live as
 * long as the database and are closed after it. The choices:
 *
 * <ul>
 *   <li><b>chunks</b> holds the bytes, mostly 1 MiB chunks that are incompressible in the common
 *       case (media, archives, encrypted data). It uses <i>BlobDB</i>: chunks of {@value
 *       #MIN_BLOB_SIZE} bytes or more go to blob files, written once at flush and not rewritten by
 *       every compaction, so big values cost about two writes to disk (WAL, then blob file) rather
 *       than one per LSM level. Blob files are not compressed (it would burn CPU for nothing on
 *       incompressible data); the small SSTs (blob references and small chunks) use LZ4, which is
 *       cheap and gives up by itself on data that does not compress. Blob garbage collection
 *       relocates the live blobs of the oldest quarter of blob files when compaction meets them,
 *       and forces a compaction when half of those bytes are garbage, so the space of deleted
 *       values comes back even when they shared a blob file with live ones. Memtables of 64 MiB, up
 *       to 3: enough to absorb a burst of 1 MiB chunks while one flushes, bounded in native memory.
 *   <li><b>meta</b> holds one small record per key and is read on every stat, open and commit: a
 *       Bloom filter (10 bits per key) spares a disk read for absent keys, LZ4.
 *   <li><b>default</b> holds counters and in-progress upload markers; the key and byte counts use
 *       the built-in uint64add merge operator so they change atomically with the records they
 *       count.
 *   <li>One memory budget for RocksDB: a block cache shared by all families, holding index and
 *       filter blocks too, so memory stays bounded however many files there are, to which a write
 *       buffer manager charges the memtables of every family. Memtables may take up to {@value
 *       #MEMTABLE_BUDGET_BYTES} bytes (past that the largest is flushed), blocks get what is left
 *       of {@value #BLOCK_CACHE_BYTES} plus that, and at least {@value #BLOCK_CACHE_BYTES} bytes.
 *       Without the shared budget, memtables (up to 228 MiB over three families) and the cache grew
 *       independently, and a long run's resident memory kept creeping towards their sum. Blob reads
 *       bypass the cache (the OS page cache serves them).
 *   <li>WAL: at most {@value #MAX_TOTAL_WAL_BYTES} bytes in total; past that, RocksDB flushes the
 *       quiet families (default, meta) that pin old log files, so the log of a large upload does
 *       not stay on disk after its chunks reached blob files. Incremental syncing of data files and
 *       the WAL ({@value #BYTES_PER_SYNC} bytes) avoids long stalls when a large flush reaches the
 *       disk.
 *   <li>Two background jobs: the machines this runs on are small; RocksDB's own LOG is kept short.
 *   <li>On a small filesystem (under 1 GiB) every memtable is capped at 1/16 of it ({@link
 *       #writeBufferCap}). After a full disk (ENOSPC) RocksDB resumes writing by itself only once
 *       free space reaches its largest memtable (its reserved disk buffer), and a memtable must fit
 *       on the disk to be flushed: with 64 MiB memtables, a store on a 64 MiB disk that once filled
 *       up would never write again without a restart (FullDiskIT found it). Disks of 1 GiB and more
 *       keep the sizes above.
 * </ul>
 */
final class RocksTuning implements AutoCloseable {
  static final long BLOCK_CACHE_BYTES = 32L << 20;
  static final long MEMTABLE_BUDGET_BYTES = 128L << 20;
  static final long MIN_BLOB_SIZE = 16L << 10;
  static final long MAX_TOTAL_WAL_BYTES = 128L << 20;
  static final long BYTES_PER_SYNC = 1L << 20;
  static final double BLOB_GARBAGE_AGE_CUTOFF = 0.25;

  private final Deque<RocksObject> natives = new ArrayDeque<>();
  private final DBOptions dbOptions;
  private final List<ColumnFamilyDescriptor> families;
  private final WriteOptions durableWrites;
  private final WriteOptions chunkWrites;
  private final CompactRangeOptions reclaimCompactions;
  private final Cache blockCache;

  private static SstFileManager sstFileManager() {
    try {
      return new SstFileManager(Env.getDefault());
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot create RocksDB's SstFileManager: " + e, e);
    }
  }

  /**
   * Tuning for a disk of unknown size (the full memtable sizes): for checks and read-only opens.
   */
  RocksTuning(boolean sync) {
    this(sync, Long.MAX_VALUE);
  }

  /**
   * The largest memtable on a filesystem of {@code filesystemBytes}: 1/16 of it, at least 1 MiB (no
   * cap from 1 GiB up).
   */
  static long writeBufferCap(long filesystemBytes) {
    return filesystemBytes <= 0 ? Long.MAX_VALUE : Math.max(1L << 20, filesystemBytes / 16);
  }

  /**
   * @param sync whether commits and deletes are fsynced; chunk writes never are (the fsync of the
   *     commit that follows them covers them)
   * @param filesystemBytes the size of the filesystem holding the store (caps the memtables)
   */
  RocksTuning(boolean sync, long filesystemBytes) {
    long cap = writeBufferCap(filesystemBytes);
    durableWrites = own(new WriteOptions()).setSync(sync);
    chunkWrites = own(new WriteOptions());
    reclaimCompactions = own(new CompactRangeOptions()).setExclusiveManualCompaction(false);

    // Memtables are charged to the block cache: one budget bounds RocksDB's native memory whatever
    // the mix of large uploads (memtables) and small reads (blocks).
    Cache cache = own(new LRUCache(BLOCK_CACHE_BYTES + MEMTABLE_BUDGET_BYTES));
    blockCache = cache;
    BloomFilter bloom = own(new BloomFilter(10));

    dbOptions =
        own(new DBOptions())
            .setCreateIfMissing(true)
            .setCreateMissingColumnFamilies(true)
            .setMaxBackgroundJobs(2)
            .setMaxTotalWalSize(MAX_TOTAL_WAL_BYTES)
            .setBytesPerSync(BYTES_PER_SYNC)
            .setWalBytesPerSync(BYTES_PER_SYNC)
            .setInfoLogLevel(InfoLogLevel.INFO_LEVEL)
            .setKeepLogFileNum(3)
            .setMaxLogFileSize(8L << 20)
            .setWriteBufferManager(own(new WriteBufferManager(MEMTABLE_BUDGET_BYTES, cache)))
            // With an SstFileManager, RocksDB recovers by itself from a background error caused by
            // a full disk (ENOSPC) once space is back; without one the error is sticky until a
            // restart (the Java API has no resume()). Deletion rate: unlimited, as without it.
            .setSstFileManager(own(sstFileManager()));

    ColumnFamilyOptions system =
        own(new ColumnFamilyOptions())
            .setWriteBufferSize(Math.min(4L << 20, cap))
            .setMergeOperator(own(new UInt64AddOperator()))
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(table(cache, null));

    ColumnFamilyOptions meta =
        own(new ColumnFamilyOptions())
            .setWriteBufferSize(Math.min(16L << 20, cap))
            .setMaxWriteBufferNumber(2)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(table(cache, bloom));

    ColumnFamilyOptions chunks =
        own(new ColumnFamilyOptions())
            .setWriteBufferSize(Math.min(64L << 20, cap))
            .setMaxWriteBufferNumber(3)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(table(cache, null))
            .setEnableBlobFiles(true)
            .setMinBlobSize(MIN_BLOB_SIZE)
            .setBlobFileSize(256L << 20)
            .setBlobCompressionType(CompressionType.NO_COMPRESSION)
            .setEnableBlobGarbageCollection(true)
            .setBlobGarbageCollectionAgeCutoff(BLOB_GARBAGE_AGE_CUTOFF)
            .setBlobGarbageCollectionForceThreshold(0.5);

    families =
        List.of(
            new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, system),
            new ColumnFamilyDescriptor(RocksLayout.ascii(RocksLayout.META), meta),
            new ColumnFamilyDescriptor(RocksLayout.ascii(RocksLayout.CHUNKS), chunks));
  }

  private static BlockBasedTableConfig table(Cache cache, BloomFilter bloom) {
    BlockBasedTableConfig table =
        new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setCacheIndexAndFilterBlocks(true)
            .setPinL0FilterAndIndexBlocksInCache(true);
    if (bloom != null) {
      table.setFilterPolicy(bloom);
    }
    return table;
  }

  private <T extends RocksObject> T own(T object) {
    natives.push(object);
    return object;
  }

  /** For commits, deletes and counter reservations. */
  WriteOptions durableWrites() {
    return durableWrites;
  }

  /** For the chunks of uploads not yet committed, and their abort. */
  WriteOptions chunkWrites() {
    return chunkWrites;
  }

  /** For the background compactions that reclaim deleted values; does not block others. */
  CompactRangeOptions reclaimCompactions() {
    return reclaimCompactions;
  }

  /** The block cache shared by every family. */
  Cache blockCache() {
    return blockCache;
  }

  DBOptions dbOptions() {
    return dbOptions;
  }

  /** The default, meta and chunks families, in this order. */
  List<ColumnFamilyDescriptor> families() {
    return families;
  }

  /** Frees the native objects, newest first; call after the database is closed. */
  @Override
  public void close() {
    while (!natives.isEmpty()) {
      natives.pop().close();
    }
  }
}
