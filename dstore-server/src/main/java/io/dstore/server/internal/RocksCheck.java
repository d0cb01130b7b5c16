package io.dstore.server.internal;

import io.dstore.server.internal.RocksLayout.Meta;
import io.dstore.wire.Sha256;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WALRecoveryMode;

/**
 * {@code dstore global --check}: scans a RocksDB store without serving it and without changing it.
 *
 * <ol>
 *   <li>Scans the write-ahead logs ({@link WalScan}): damage is reported, a torn tail noted.
 *   <li>Opens the store read-only (RocksDB takes no lock then, and writes nothing), with
 *       point-in-time recovery when a log is damaged so the rest can still be checked.
 *   <li>{@link RocksDB#verifyChecksum()}: the checksum of every block of every SST and blob file.
 *   <li>Reads every key's value, chunk by chunk with checksums verified, and compares its SHA-256
 *       with the one stored at its commit.
 * </ol>
 *
 * Prints one line per problem, {@code damaged: ...}, then a summary line.
 */
public final class RocksCheck {
  private RocksCheck() {}

  /** Returns the number of problems found (0: clean). */
  public static long check(Path dir, PrintStream out) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    if (!Files.isRegularFile(absolute.resolve("CURRENT"))) {
      throw new IOException("no RocksDB store in " + absolute + " (it has no CURRENT file)");
    }
    RocksDB.loadLibrary();
    long problems = 0;
    WalScan.Result scan = WalScan.scan(absolute);
    for (WalScan.Problem p : scan.damage()) {
      out.println("damaged: write-ahead log " + p.describe());
      problems++;
    }
    for (WalScan.Problem p : scan.tornTails()) {
      out.println(
          "note: write-ahead log "
              + p.describe()
              + ": a write cut off by a crash, never acknowledged; the next start drops it");
    }
    java.util.Set<String> damagedKeys = new java.util.LinkedHashSet<>();
    if (!scan.damage().isEmpty()) {
      problems += reportKeysAtRisk(absolute, out, damagedKeys);
    }
    long keys = 0;
    long bytes = 0;
    try (RocksTuning tuning = new RocksTuning(false)) {
      tuning
          .dbOptions()
          .setWalRecoveryMode(
              scan.damage().isEmpty()
                  ? WALRecoveryMode.TolerateCorruptedTailRecords
                  : WALRecoveryMode.SkipAnyCorruptedRecords);
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      RocksDB db;
      try {
        db =
            RocksDB.openReadOnly(
                tuning.dbOptions(), absolute.toString(), tuning.families(), handles);
      } catch (RocksDBException e) {
        out.println("damaged: the store cannot be opened: " + e.getMessage());
        out.println(
            "checked " + absolute + ": could not be opened; " + (problems + 1) + " problem(s)");
        return problems + 1;
      }
      try (db;
          ReadOptions read = new ReadOptions().setVerifyChecksums(true).setFillCache(false)) {
        try {
          db.verifyChecksum();
        } catch (RocksDBException e) {
          out.println("damaged: a file of the store fails its checksum: " + e.getMessage());
          problems++;
        }
        ColumnFamilyHandle meta = handles.get(1);
        ColumnFamilyHandle chunks = handles.get(2);
        try (RocksIterator it = db.newIterator(meta, read)) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            byte[] key = it.key();
            keys++;
            String why;
            try {
              Meta value = Meta.decode(it.value());
              why = verify(db, chunks, read, value);
              bytes += value.info().size();
            } catch (IOException e) {
              why = e.getMessage();
            }
            if (why != null) {
              String name = describeKey(key);
              damagedKeys.add(name);
              out.println("damaged key " + name + ": " + why);
              problems++;
            }
          }
          try {
            it.status();
          } catch (RocksDBException e) {
            out.println("damaged: the list of keys cannot be read to its end: " + e.getMessage());
            problems++;
          }
        } finally {
          handles.forEach(ColumnFamilyHandle::close);
        }
      }
    }
    out.println(
        "checked "
            + keys
            + " key(s), "
            + bytes
            + " byte(s) of values in "
            + absolute
            + ": "
            + (problems == 0
                ? "no damage found"
                : problems + " problem(s), " + damagedKeys.size() + " damaged key(s)"));
    return problems;
  }

  /**
   * The keys that {@code --accept-data-loss} would lose: present (or newer) when every readable log
   * record is replayed, absent (or older) when replay stops at the damage. Returns their number.
   */
  private static long reportKeysAtRisk(Path dir, PrintStream out, java.util.Set<String> damagedKeys)
      throws IOException {
    java.util.Map<ByteBuffer, Long> readable;
    java.util.Map<ByteBuffer, Long> kept;
    try {
      readable = RocksRecovery.metaKeysReadOnly(dir, WALRecoveryMode.SkipAnyCorruptedRecords);
      kept = RocksRecovery.metaKeysReadOnly(dir, WALRecoveryMode.PointInTimeRecovery);
    } catch (RocksDBException e) {
      out.println("note: the keys recorded after the damage cannot be listed: " + e.getMessage());
      return 0;
    }
    long n = 0;
    for (java.util.Map.Entry<ByteBuffer, Long> e : readable.entrySet()) {
      Long now = kept.get(e.getKey());
      if (now == null || now < e.getValue()) {
        byte[] key = new byte[e.getKey().remaining()];
        e.getKey().duplicate().get(key);
        damagedKeys.add(describeKey(key));
        out.println(
            "damaged key "
                + describeKey(key)
                + ": recorded after the damage in the write-ahead log; --accept-data-loss would"
                + " lose it");
        n++;
      }
    }
    return n;
  }

  /** Null when the value reads whole and matches its SHA-256, else what is wrong. */
  private static String verify(
      RocksDB db, ColumnFamilyHandle chunks, ReadOptions read, Meta value) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long count = value.chunkCount();
    for (long i = 0; i < count; i++) {
      byte[] chunk;
      try {
        chunk = db.get(chunks, read, RocksLayout.chunkKey(value.valueId(), i));
      } catch (RocksDBException e) {
        return "chunk " + i + " cannot be read: " + e.getMessage();
      }
      long expected = Math.min(value.chunkSize(), value.info().size() - i * value.chunkSize());
      if (chunk == null || chunk.length != expected) {
        return "chunk "
            + i
            + " is "
            + (chunk == null ? "missing" : chunk.length + " bytes, expected " + expected);
      }
      digest.update(chunk);
    }
    String actual = Sha256.hex(digest.digest());
    if (!actual.equals(value.info().sha256())) {
      return "its bytes have SHA-256 " + actual + ", stored with " + value.info().sha256();
    }
    return null;
  }

  /** A key for messages: 'text' when it is printable UTF-8, else 0x and its hex. */
  public static String describeKey(byte[] key) {
    try {
      String text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(key))
              .toString();
      if (text.codePoints().noneMatch(c -> Character.isISOControl(c) || c == '\'')) {
        return "'" + text + "'";
      }
    } catch (CharacterCodingException e) {
      // not text
    }
    return "0x" + HexFormat.of().formatHex(key);
  }
}
