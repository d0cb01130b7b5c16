package io.dstore.server.internal;

import io.dstore.server.DamagedStoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WALRecoveryMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How {@link RocksDbStorage} opens a store whose write-ahead log or MANIFEST may be damaged. The
 * rule: damage never leads to a normal start that has quietly lost acknowledged writes.
 *
 * <ol>
 *   <li>The logs are scanned first ({@link WalScan}). A <b>torn tail</b> of the newest log (a write
 *       a crash cut off while it was appended, never acknowledged) is dropped: RocksDB opens in
 *       {@link WALRecoveryMode#TolerateCorruptedTailRecords} and a WARN says what was cut.
 *   <li><b>Damage</b> anywhere else in a log, or a MANIFEST (or any other file recovery reads) that
 *       RocksDB reports as corrupt, is refused with a {@link DamagedStoreException} naming the file
 *       and what the operator can do. RocksDB's default, point-in-time recovery, would stop at the
 *       damaged record and drop everything after it in silence.
 *   <li>With {@code acceptDataLoss}, damage in a log is accepted: the damaged logs are first copied
 *       to {@code damaged-wal-<time>/} in the data directory, then the store is opened with {@link
 *       WALRecoveryMode#PointInTimeRecovery}. Which keys that loses is found by listing the meta
 *       family twice: once through a read-only open in {@link
 *       WALRecoveryMode#SkipAnyCorruptedRecords} (every record that can still be read, before and
 *       after the damage), once after the point-in-time open; each key stored in the first and
 *       absent or older in the second is reported lost, each key absent in the first and present in
 *       the second came back because its delete was lost. A key whose only record is the damaged
 *       record itself cannot be named: the report says how many log bytes were discarded.
 * </ol>
 */
final class RocksRecovery {
  private static final Logger log = LoggerFactory.getLogger(RocksRecovery.class);

  /** What an open with {@code acceptDataLoss} lost, for logs and tests. */
  record Loss(List<String> lostKeys, List<String> resurrectedKeys, long discardedLogBytes) {}

  private RocksRecovery() {}

  /**
   * Opens the database, or refuses to; fills {@code handles}. Returns the loss accepted, if any.
   */
  static Opened open(
      Path dir, RocksTuning tuning, List<ColumnFamilyHandle> handles, boolean acceptDataLoss)
      throws IOException, RocksDBException {
    WalScan.Result scan = WalScan.scan(dir);
    List<WalScan.Problem> damage = scan.damage();
    if (damage.isEmpty()) {
      RocksDB db;
      try {
        db = attempt(dir, tuning, handles, WALRecoveryMode.TolerateCorruptedTailRecords);
      } catch (RocksDBException e) {
        if (!RocksDbStorage.isDamage(e)) {
          throw e; // in use, permissions, no space...: reported as such by RocksDbStorage
        }
        if (!acceptDataLoss || scan.logs().isEmpty()) {
          throw refusal(dir, scan, e);
        }
        // RocksDB found damage in a log that the scan did not: accept as below.
        return acceptLoss(dir, tuning, handles, scan, e);
      }
      for (WalScan.Problem torn : scan.tornTails()) {
        log.warn(
            "rocksdb:{}: torn tail of the write-ahead log, {}: a write that a crash cut off"
                + " before it was acknowledged; dropped its {} byte(s), everything before it is"
                + " kept",
            dir,
            torn.describe(),
            torn.bytesAfter());
      }
      return new Opened(db, null);
    }
    if (!acceptDataLoss) {
      throw refusal(dir, scan, null);
    }
    return acceptLoss(dir, tuning, handles, scan, null);
  }

  /** The database, and what was lost when the loss was accepted (else null). */
  record Opened(RocksDB db, Loss loss) {}

  private static RocksDB attempt(
      Path dir, RocksTuning tuning, List<ColumnFamilyHandle> handles, WALRecoveryMode mode)
      throws RocksDBException {
    handles.clear();
    tuning.dbOptions().setWalRecoveryMode(mode);
    return RocksDB.open(tuning.dbOptions(), dir.toString(), tuning.families(), handles);
  }

  private static DamagedStoreException refusal(
      Path dir, WalScan.Result scan, RocksDBException cause) {
    String what;
    if (!scan.damage().isEmpty()) {
      StringBuilder files = new StringBuilder();
      for (WalScan.Problem p : scan.damage()) {
        files.append(files.length() == 0 ? "" : ", ").append(p.describe());
      }
      what =
          "the write-ahead log is damaged: "
              + files
              + ". Writes recorded from there on may have been acknowledged; RocksDB's recovery"
              + " would drop them in silence, so Global did not start";
    } else {
      String message = cause == null ? "unknown damage" : cause.getMessage();
      what =
          "RocksDB found damage while recovering it ("
              + message
              + "); a damaged MANIFEST or CURRENT file lists the store's files, so Global did not"
              + " start";
    }
    String todo =
        scan.damage().isEmpty()
            ? " What you can do: restore "
                + dir
                + " from a backup; 'dstore global --check --data-dir "
                + dir
                + "' reports what is readable; --accept-data-loss tries point-in-time recovery,"
                + " which cannot repair a damaged MANIFEST."
            : " What you can do: copy "
                + dir
                + " aside, then either restore it from a backup, or start with --accept-data-loss"
                + " to keep everything before the damage and lose the rest (the damaged logs are"
                + " kept in a damaged-wal-* directory and every key lost is logged);"
                + " 'dstore global --check --data-dir "
                + dir
                + "' reports the damage without changing anything.";
    return new DamagedStoreException("data directory " + dir + ": " + what + "." + todo, cause);
  }

  private static Opened acceptLoss(
      Path dir,
      RocksTuning tuning,
      List<ColumnFamilyHandle> handles,
      WalScan.Result scan,
      RocksDBException found)
      throws IOException, RocksDBException {
    Path kept = keepDamagedLogs(dir, scan);
    Map<ByteBuffer, Long> readable = null;
    try {
      readable = metaKeysReadOnly(dir, WALRecoveryMode.SkipAnyCorruptedRecords);
    } catch (RocksDBException e) {
      log.warn(
          "rocksdb:{}: could not list the keys still readable in the damaged logs ({}); the keys"
              + " lost cannot be named",
          dir,
          e.getMessage());
    }
    RocksDB db;
    try {
      db = attempt(dir, tuning, handles, WALRecoveryMode.PointInTimeRecovery);
    } catch (RocksDBException e) {
      throw new DamagedStoreException(
          "data directory "
              + dir
              + ": even point-in-time recovery (--accept-data-loss) cannot open it: "
              + e.getMessage()
              + ". What you can do: restore it from a backup.",
          e);
    }
    Map<ByteBuffer, Long> recovered = metaKeys(db, handles.get(1));
    List<String> lost = new ArrayList<>();
    List<String> back = new ArrayList<>();
    if (readable != null) {
      for (Map.Entry<ByteBuffer, Long> e : readable.entrySet()) {
        Long now = recovered.get(e.getKey());
        if (now == null || now < e.getValue()) {
          lost.add(RocksCheck.describeKey(bytes(e.getKey())));
        }
      }
      for (ByteBuffer key : recovered.keySet()) {
        if (!readable.containsKey(key)) {
          back.add(RocksCheck.describeKey(bytes(key)));
        }
      }
    }
    long discarded = scan.bytesFromFirstDamage();
    String where =
        scan.damage().isEmpty()
            ? "RocksDB reported: " + (found == null ? "damage" : found.getMessage())
            : "the write-ahead log is damaged: " + scan.damage().get(0).describe();
    log.error(
        "rocksdb:{}: --accept-data-loss: {}; opened with point-in-time recovery, which discarded"
            + " {} byte(s) of log from the damage on (a copy is in {}). {}",
        dir,
        where,
        discarded,
        kept,
        readable == null
            ? "The keys lost could not be listed."
            : lost.size()
                + " key(s) lost, "
                + back.size()
                + " deleted key(s) came back; a key written only in the damaged record itself"
                + " cannot be named.");
    for (String key : lost) {
      log.error("rocksdb:{}: lost key {}", dir, key);
    }
    for (String key : back) {
      log.error("rocksdb:{}: key {} came back: its delete was lost", dir, key);
    }
    return new Opened(db, new Loss(lost, back, discarded));
  }

  private static Path keepDamagedLogs(Path dir, WalScan.Result scan) throws IOException {
    String stamp =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC)
            .format(Instant.now());
    Path kept = dir.resolve("damaged-wal-" + stamp);
    Files.createDirectories(kept);
    for (Path log : scan.logs()) {
      Files.copy(log, kept.resolve(log.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    }
    return kept;
  }

  /** Key to generation of every meta record, read through a read-only open in {@code mode}. */
  static Map<ByteBuffer, Long> metaKeysReadOnly(Path dir, WALRecoveryMode mode)
      throws RocksDBException, IOException {
    try (RocksTuning tuning = new RocksTuning(false)) {
      tuning.dbOptions().setWalRecoveryMode(mode);
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      try (RocksDB db =
          RocksDB.openReadOnly(tuning.dbOptions(), dir.toString(), tuning.families(), handles)) {
        try {
          return metaKeys(db, handles.get(1));
        } finally {
          handles.forEach(ColumnFamilyHandle::close);
        }
      }
    }
  }

  private static Map<ByteBuffer, Long> metaKeys(RocksDB db, ColumnFamilyHandle meta)
      throws RocksDBException, IOException {
    Map<ByteBuffer, Long> keys = new TreeMap<>();
    try (RocksIterator it = db.newIterator(meta)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        long generation;
        try {
          generation = RocksLayout.Meta.decode(it.value()).info().generation();
        } catch (IOException e) {
          generation = Long.MAX_VALUE;
        }
        keys.put(ByteBuffer.wrap(it.key()), generation);
      }
      it.status();
    }
    return keys;
  }

  private static byte[] bytes(ByteBuffer key) {
    byte[] b = new byte[key.remaining()];
    key.duplicate().get(b);
    return b;
  }
}
