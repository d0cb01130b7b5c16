package io.dstore.server.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.server.Storage;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged files of a RocksDB store, made by flipping or cutting bytes of the real files: damage in
 * the write-ahead log or MANIFEST refuses the open (unless the loss is accepted, which names the
 * keys lost), a torn tail is dropped, a damaged value answers INTEGRITY for its key alone, and the
 * check finds it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RocksDamageTest {
  static final int BIG = 2_900_000;

  @TempDir Path temp;

  private Path dir() {
    return temp.resolve("data");
  }

  @Test
  void damageInTheMiddleOfTheLogRefusesTheOpenUntilTheLossIsAccepted() throws Exception {
    byte[] big = random(BIG, 1);
    try (Storage storage = Storage.rocksdb(dir(), false)) {
      put(storage, "big", big);
      put(storage, "small", "hello".getBytes(UTF_8));
    }
    Path wal = newestLog(dir());
    flip(wal, Files.size(wal) / 2, 4);

    assertThatThrownBy(() -> Storage.rocksdb(dir(), false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("the write-ahead log is damaged: " + wal.getFileName())
        .hasMessageContaining("checksum mismatch")
        .hasMessageContaining("Global did not start")
        .hasMessageContaining("--accept-data-loss");
    // The refusal changed nothing: it refuses again.
    assertThatThrownBy(() -> Storage.rocksdb(dir(), false))
        .hasMessageContaining("write-ahead log is damaged");
    assertThat(check())
        .contains("damaged: write-ahead log " + wal.getFileName())
        .contains("damaged key 'big'")
        .contains("damaged key 'small': recorded after the damage")
        .contains("2 damaged key(s)");

    try (Storage storage = Storage.rocksdb(dir(), false, true)) {
      RocksRecovery.Loss loss = ((RocksDbStorage) storage).loss();
      assertThat(loss.lostKeys()).containsExactlyInAnyOrder("'big'", "'small'");
      assertThat(loss.discardedLogBytes()).isPositive();
      assertThat(storage.stat("small".getBytes(UTF_8))).isEmpty();
      put(storage, "after", "x".getBytes(UTF_8));
    }
    try (Stream<Path> files = Files.list(dir())) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .anyMatch(n -> n.startsWith("damaged-wal-"));
    }
    // Accepted once: it opens normally from then on.
    try (Storage storage = Storage.rocksdb(dir(), false)) {
      assertThat(storage.stat("after".getBytes(UTF_8))).isPresent();
    }
  }

  @Test
  void aTornTailIsDroppedAndTheRestKept() throws Exception {
    try (Storage storage = Storage.rocksdb(dir(), false)) {
      put(storage, "first-key", random(100, 2));
      put(storage, "last-key", random(100, 3));
    }
    Path wal = newestLog(dir());
    byte[] log = Files.readAllBytes(wal);
    int at = lastIndexOf(log, "last-key".getBytes(UTF_8));
    assertThat(at).isPositive();
    try (FileChannel ch = FileChannel.open(wal, StandardOpenOption.WRITE)) {
      ch.truncate(at + 4); // inside the last record, as a crash in the middle of appending it
    }
    WalScan.Result scan = WalScan.scan(dir());
    assertThat(scan.damage()).isEmpty();
    assertThat(scan.tornTails()).hasSize(1);
    assertThat(check()).contains("note: write-ahead log").contains("no damage found");

    try (Storage storage = Storage.rocksdb(dir(), false)) {
      assertThat(storage.stat("first-key".getBytes(UTF_8))).isPresent();
      assertThat(storage.stat("last-key".getBytes(UTF_8))).isEmpty();
    }
  }

  @Test
  void aFlippedByteInABlobFileIsIntegrityForThatKeyAlone() throws Exception {
    byte[] damaged = random(2 * RocksDbStorage.CHUNK_SIZE, 4);
    byte[] other = random(2 * RocksDbStorage.CHUNK_SIZE, 5);
    try (Storage storage = Storage.rocksdb(dir(), false)) {
      put(storage, "damaged", damaged);
      put(storage, "other", other);
      put(storage, "small", "hello".getBytes(UTF_8));
      ((RocksDbStorage) storage).chunkBytesOnDiskAfterCompaction(); // chunks into blob files
    }
    assertThat(check()).contains("no damage found");
    byte[] needle =
        java.util.Arrays.copyOfRange(
            damaged, RocksDbStorage.CHUNK_SIZE + 1000, RocksDbStorage.CHUNK_SIZE + 1064);
    Path blob = fileContaining(dir(), ".blob", needle);
    flip(blob, lastIndexOf(Files.readAllBytes(blob), needle) + 10, 1);

    try (Storage storage = Storage.rocksdb(dir(), false)) {
      assertThatThrownBy(() -> get(storage, "damaged"))
          .isInstanceOfSatisfying(
              DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INTEGRITY))
          .hasMessageContaining("stored value of key 'damaged' is damaged");
      assertThat(get(storage, "other")).isEqualTo(other);
      assertThat(get(storage, "small")).isEqualTo("hello".getBytes(UTF_8));
      assertThat(storage.integrityErrors()).isEqualTo(1);
    }
    String report = check();
    assertThat(report).contains("damaged key 'damaged'").doesNotContain("damaged key 'other'");
    assertThat(report).contains("1 damaged key(s)");
  }

  @Test
  void aTruncatedBlobFileIsIntegrityForTheKeysPastTheCut() throws Exception {
    byte[] value = random(3 * RocksDbStorage.CHUNK_SIZE, 6);
    try (Storage storage = Storage.rocksdb(dir(), false)) {
      put(storage, "cut", value);
      put(storage, "small", "hello".getBytes(UTF_8));
      ((RocksDbStorage) storage).chunkBytesOnDiskAfterCompaction();
    }
    Path blob = fileContaining(dir(), ".blob", java.util.Arrays.copyOf(value, 64));
    try (FileChannel ch = FileChannel.open(blob, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2);
    }
    try (Storage storage = Storage.rocksdb(dir(), false)) {
      assertThatThrownBy(() -> get(storage, "cut"))
          .isInstanceOfSatisfying(
              DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INTEGRITY));
      assertThat(get(storage, "small")).isEqualTo("hello".getBytes(UTF_8));
    }
    assertThat(check()).contains("damaged key 'cut'");
  }

  @Test
  void aDamagedManifestRefusesTheOpen() throws Exception {
    try (Storage storage = Storage.rocksdb(dir(), false)) {
      put(storage, "k", "v".getBytes(UTF_8));
      ((RocksDbStorage) storage).chunkBytesOnDiskAfterCompaction();
    }
    Path manifest;
    try (Stream<Path> files = Files.list(dir())) {
      manifest =
          files.filter(f -> f.getFileName().toString().startsWith("MANIFEST-")).findFirst().get();
    }
    flip(manifest, Files.size(manifest) / 2, 4);
    assertThatThrownBy(() -> Storage.rocksdb(dir(), false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Global did not start")
        .hasMessageContaining("MANIFEST");
  }

  @Test
  void aCleanStoreChecksClean() throws Exception {
    try (Storage storage = Storage.rocksdb(dir(), false)) {
      put(storage, "a", random(3 * RocksDbStorage.CHUNK_SIZE + 7, 7));
      put(storage, "b", "x".getBytes(UTF_8));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(Storage.checkRocksdb(dir(), new PrintStream(out, true, UTF_8))).isZero();
    assertThat(out.toString(UTF_8)).contains("checked 2 key(s)").contains("no damage found");
  }

  // ---- helpers ----

  private String check() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Storage.checkRocksdb(dir(), new PrintStream(out, true, UTF_8));
    return out.toString(UTF_8);
  }

  static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  static void put(Storage storage, String key, byte[] value) throws Exception {
    try (Storage.Upload upload = storage.create(key.getBytes(UTF_8), value.length)) {
      upload.write(ByteBuffer.wrap(value));
      upload.commit(io.dstore.wire.Sha256.hex(sha256(value)));
    }
  }

  static byte[] sha256(byte[] value) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(value);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] get(Storage storage, String key) throws IOException {
    try (Storage.Reader reader = storage.open(key.getBytes(UTF_8)).orElseThrow()) {
      ByteBuffer dst = ByteBuffer.allocate(Math.toIntExact(reader.info().size()));
      while (dst.hasRemaining()) {
        if (reader.read(dst.position(), dst) <= 0) {
          throw new IOException("ended early");
        }
      }
      return dst.array();
    }
  }

  static Path newestLog(Path dir) throws IOException {
    List<Path> logs = WalScan.logs(dir);
    assertThat(logs).isNotEmpty();
    return logs.get(logs.size() - 1);
  }

  static Path fileContaining(Path dir, String suffix, byte[] needle) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.toString().endsWith(suffix)).toList()) {
        if (lastIndexOf(Files.readAllBytes(f), needle) >= 0) {
          return f;
        }
      }
    }
    throw new AssertionError("no " + suffix + " file holds the bytes");
  }

  static void flip(Path file, long offset, int count) throws IOException {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(count);
      ch.read(b, offset);
      for (int i = 0; i < count; i++) {
        b.put(i, (byte) ~b.get(i));
      }
      b.clear();
      ch.write(b, offset);
    }
  }

  static int lastIndexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = haystack.length - needle.length; i >= 0; i--) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
