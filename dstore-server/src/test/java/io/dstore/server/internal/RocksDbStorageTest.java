package io.dstore.server.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.server.Storage;
import io.dstore.server.StorageConformanceTest;
import io.dstore.server.StoredInfo;
import io.dstore.server.ValuePattern;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RocksDB backend against the shared contract, plus what only a durable store promises: all
 * survives a reopen, generations keep increasing across restarts, unfinished uploads are cleaned
 * up, space comes back, and the directory cannot be opened twice.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RocksDbStorageTest extends StorageConformanceTest {
  @TempDir Path temp;

  private Path dir() {
    return temp.resolve("data");
  }

  @Override
  protected Storage newStorage() throws IOException {
    return Storage.rocksdb(dir(), false);
  }

  @Override
  protected long spaceInUse(Storage storage) throws IOException {
    return rocks(storage).chunkBytesOnDiskAfterCompaction();
  }

  private static RocksDbStorage rocks(Storage storage) {
    return (RocksDbStorage) storage;
  }

  private Storage reopen(boolean sync) throws IOException {
    storage.close();
    storage = Storage.rocksdb(dir(), sync);
    return storage;
  }

  @Test
  void describesItsAbsoluteDirectoryAndCreatesIt() throws Exception {
    Path nested = temp.resolve("a/b/c");
    try (Storage other = Storage.rocksdb(nested, false)) {
      assertThat(Files.isDirectory(nested)).isTrue();
      assertThat(other.describe()).isEqualTo("rocksdb:" + nested.toAbsolutePath().normalize());
    }
  }

  @Test
  void reopenKeepsEveryValueGenerationAndCount() throws Exception {
    ValuePattern pattern = new ValuePattern(20);
    List<byte[]> keys = new ArrayList<>();
    List<StoredInfo> infos = new ArrayList<>();
    long[] sizes = {0, 1, 1000, MIB, 3L * MIB + 7, 20L * MIB + 1};
    for (int i = 0; i < sizes.length; i++) {
      keys.add(new byte[] {0, (byte) i, (byte) 0xFF});
      infos.add(putPattern(keys.get(i), pattern, sizes[i]));
    }
    put(key("deleted"), new byte[5]);
    storage.delete(key("deleted"));
    long count = storage.keyCount();
    long bytes = storage.valueBytes();

    reopen(false);

    assertThat(storage.keyCount()).isEqualTo(count).isEqualTo(sizes.length);
    assertThat(storage.valueBytes()).isEqualTo(bytes);
    assertThat(storage.stat(key("deleted"))).isEmpty();
    for (int i = 0; i < sizes.length; i++) {
      assertThat(storage.stat(keys.get(i))).contains(infos.get(i));
      try (Storage.Reader reader = storage.open(keys.get(i)).orElseThrow()) {
        assertThat(checkPattern(reader, pattern, new Random(i))).isEqualTo(infos.get(i).sha256());
      }
    }
    long newest = infos.stream().mapToLong(StoredInfo::generation).max().orElseThrow();
    assertThat(put(key("after"), new byte[1]).generation()).isGreaterThan(newest);
  }

  @Test
  void generationsIncreaseAcrossRestartsEvenWithNoKeysLeft() throws Exception {
    long last = 0;
    for (int restart = 0; restart < 5; restart++) {
      StoredInfo info = put(key("k"), new byte[] {(byte) restart});
      assertThat(info.generation()).isGreaterThan(last);
      last = info.generation();
      storage.delete(key("k"));
      reopen(false);
    }
    assertThat(storage.keyCount()).isZero();
    assertThat(storage.valueBytes()).isZero();
  }

  @Test
  void syncModeSyncsAndKeepsEverything() throws Exception {
    assertThat(rocks(storage).syncs()).isFalse();
    reopen(true);
    assertThat(rocks(storage).syncs()).isTrue();
    StoredInfo kept = put(key("kept"), "durable".getBytes(UTF_8));
    put(key("gone"), "x".getBytes(UTF_8));
    storage.delete(key("gone"));

    reopen(false);

    assertThat(storage.stat(key("kept"))).contains(kept);
    assertThat(storage.stat(key("gone"))).isEmpty();
    assertThat(read(key("kept"))).isEqualTo("durable".getBytes(UTF_8));
  }

  @Test
  void uploadsLeftUnfinishedAreRemovedOnReopen() throws Exception {
    StoredInfo kept = putPattern(key("kept"), new ValuePattern(30), 2L * MIB + 3);
    long keptChunks = rocks(storage).chunkRecords();
    long before = spaceInUse(storage);
    Storage.Upload small = storage.create(key("small"), -1);
    writePattern(small, new ValuePattern(31), 5L * MIB + 1, new Random(31));
    Storage.Upload large = storage.create(key("large"), -1);
    writePattern(large, new ValuePattern(32), 30L * MIB, new Random(32));
    assertThat(rocks(storage).uploadMarkers()).isEqualTo(2);
    assertThat(rocks(storage).chunkRecords()).isEqualTo(keptChunks + 5 + 30);

    reopen(false); // neither committed nor aborted: as after a crash

    assertThat(rocks(storage).unfinishedUploadsRemoved()).isEqualTo(2);
    assertThat(rocks(storage).uploadMarkers()).isZero();
    assertThat(rocks(storage).chunkRecords()).isEqualTo(keptChunks);
    assertThat(spaceInUse(storage)).isLessThanOrEqualTo(before + MIB);
    assertThat(storage.stat(key("kept"))).contains(kept);
    assertThat(storage.stat(key("small"))).isEmpty();
    assertThat(storage.keyCount()).isEqualTo(1);
    small.abort(); // on the closed store: nothing happens, nothing breaks
    large.close();
  }

  @Test
  void deletedValueStaysReadableThroughCompactionUntilItsReaderCloses() throws Exception {
    ValuePattern pattern = new ValuePattern(40);
    long before = spaceInUse(storage);
    StoredInfo info = putPattern(key("k"), pattern, 24L * MIB);
    Storage.Reader reader = storage.open(key("k")).orElseThrow();
    storage.delete(key("k"));

    long whileOpen = spaceInUse(storage); // compacts, but the reader's snapshot protects the value
    assertThat(checkPattern(reader, pattern, new Random(41))).isEqualTo(info.sha256());
    reader.close();
    long afterClose = spaceInUse(storage);

    assertThat(whileOpen).isGreaterThanOrEqualTo(before + 24L * MIB);
    assertThat(afterClose).isLessThanOrEqualTo(before + MIB);
  }

  @Test
  void smallValuesAreDeletedWithoutLeavingChunks() throws Exception {
    for (int i = 0; i < 50; i++) {
      put(key("k" + i), new byte[100 + i]);
    }
    putPattern(key("multi"), new ValuePattern(50), 3L * MIB); // point-deleted, 3 chunks
    assertThat(rocks(storage).chunkRecords()).isEqualTo(53);
    for (int i = 0; i < 50; i++) {
      storage.delete(key("k" + i));
    }
    storage.delete(key("multi"));
    assertThat(rocks(storage).chunkRecords()).isZero();
  }

  @Test
  void nativeMemoryShowsUnflushedWritesInTheMemtablesWithinTheBudgetAndNothingOnceClosed()
      throws Exception {
    NativeMemory memory = (NativeMemory) storage;
    long before = memory.nativeMemoryBytes().get("memtables");
    putPattern(key("big"), new ValuePattern(7), 8L * MIB); // chunks stay in memtables until flush

    Map<String, Long> after = memory.nativeMemoryBytes();
    assertThat(after).containsOnlyKeys("memtables", "table_readers", "block_cache");
    assertThat(after.get("memtables"))
        .isGreaterThanOrEqualTo(before + 8L * MIB)
        .isLessThanOrEqualTo(RocksTuning.MEMTABLE_BUDGET_BYTES + 8L * MIB);
    assertThat(after.get("block_cache")).isNotNegative();

    storage.close();
    assertThat(memory.nativeMemoryBytes()).isEmpty();
  }

  @Test
  void secondOpenOfTheSameDirectoryFailsClearly() {
    assertThatThrownBy(() -> Storage.rocksdb(dir(), false))
        .isInstanceOf(IOException.class)
        .hasMessage(
            "data directory "
                + dir().toAbsolutePath()
                + " is in use by another process (or another store in this one)");
  }

  @Test
  void directoryThatIsAFileFailsClearly() throws Exception {
    Path file = Files.writeString(temp.resolve("file"), "not a directory");
    assertThatThrownBy(() -> Storage.rocksdb(file, false))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("cannot create data directory " + file.toAbsolutePath());
  }

  @Test
  void readerOpenWhenTheStoreClosesFailsInsteadOfCrashing() throws Exception {
    putPattern(key("k"), new ValuePattern(60), 3L * MIB);
    Storage.Reader reader = storage.open(key("k")).orElseThrow();
    reader.read(0, ByteBuffer.allocate(10));
    storage.close();
    assertThatThrownBy(() -> reader.read(MIB, ByteBuffer.allocate(10)))
        .isInstanceOf(IOException.class)
        .hasMessage("read failed: storage rocksdb:" + dir().toAbsolutePath() + " is closed");
    reader.close();
    reader.close();
  }
}
