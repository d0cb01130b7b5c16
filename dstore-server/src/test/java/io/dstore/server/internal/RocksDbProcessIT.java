package io.dstore.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.server.ValuePattern;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RocksDB backend across processes ({@link StorageChild} runs in a child JVM): a 2 GiB value
 * (by default) written and read back by a JVM with a 256 MiB heap, a process killed with SIGKILL
 * mid-upload, and a second process opening a directory in use.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class RocksDbProcessIT {
  private static final long MIB = 1 << 20;

  /** Size of the large value; {@code -Ddstore.it.largeValueMiB=8192} checks 8 GiB. */
  private static final long LARGE_MIB = Long.getLong("dstore.it.largeValueMiB", 2048);

  @TempDir Path temp;

  /** A child JVM with a 256 MiB heap, its stdout piped to us and its stderr to ours. */
  private static Process child(String... args) throws IOException {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElseThrow(() -> new IllegalStateException("cannot tell which java runs this test"));
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx256m",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                StorageChild.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static List<String> finish(Process process) throws Exception {
    List<String> lines = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        System.out.println("[child] " + line);
        lines.add(line);
      }
    }
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("child exited").isTrue();
    return lines;
  }

  @Test
  void largeValueThroughA256MibHeap() throws Exception {
    long free = Files.getFileStore(temp).getUsableSpace();
    assumeTrue(
        free > 3 * LARGE_MIB * MIB,
        "needs " + 3 * LARGE_MIB + " MiB free in " + temp + ", has " + free / MIB + " MiB");
    Path dir = temp.resolve("large");

    Process process = child("large", dir.toString(), Long.toString(LARGE_MIB));
    List<String> lines = finish(process);

    assertThat(process.exitValue()).as("child exit code").isZero();
    String expected = new ValuePattern(StorageChild.PATTERN_SEED).sha256(LARGE_MIB * MIB);
    assertThat(lines).anyMatch(l -> l.startsWith("VERIFIED sha256 " + expected + " "));
    try (Storage storage = Storage.rocksdb(dir, false)) {
      assertThat(storage.keyCount()).as("the child deleted its value").isZero();
      assertThat(((RocksDbStorage) storage).chunkBytesOnDiskAfterCompaction())
          .as("and its space is reclaimable")
          .isLessThan(MIB);
    }
  }

  @Test
  void killedMidUploadLeavesNoTraceButKeepsCommittedValues() throws Exception {
    Path dir = temp.resolve("crash");
    Process process = child("crash", dir.toString());
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      assertThat(out.readLine()).isEqualTo("READY");
      process.destroyForcibly(); // SIGKILL: no shutdown hooks, no RocksDB close
      assertThat(process.waitFor(1, TimeUnit.MINUTES)).isTrue();
    }

    try (Storage storage = Storage.rocksdb(dir, false)) {
      RocksDbStorage rocks = (RocksDbStorage) storage;
      assertThat(rocks.unfinishedUploadsRemoved()).isEqualTo(1);
      assertThat(rocks.uploadMarkers()).isZero();
      assertThat(rocks.chunkRecords()).as("only the committed value's chunks").isEqualTo(3);
      assertThat(rocks.chunkBytesOnDiskAfterCompaction())
          .isLessThan(StorageChild.COMMITTED_SIZE + MIB);
      assertThat(storage.stat("cut".getBytes(StandardCharsets.UTF_8))).isEmpty();
      ValuePattern pattern = new ValuePattern(StorageChild.PATTERN_SEED);
      StoredInfo committed =
          storage.stat("committed".getBytes(StandardCharsets.UTF_8)).orElseThrow();
      assertThat(committed.size()).isEqualTo(StorageChild.COMMITTED_SIZE);
      assertThat(committed.sha256()).isEqualTo(pattern.sha256(StorageChild.COMMITTED_SIZE));
      assertThat(storage.keyCount()).isEqualTo(1);
      assertThat(storage.valueBytes()).isEqualTo(StorageChild.COMMITTED_SIZE);
    }
  }

  @Test
  void secondProcessIsToldTheDirectoryIsInUse() throws Exception {
    Path dir = temp.resolve("busy");
    try (Storage held = Storage.rocksdb(dir, false)) {
      Process process = child("open", dir.toString());
      List<String> lines = finish(process);

      assertThat(process.exitValue()).isEqualTo(3);
      assertThat(lines)
          .containsExactly(
              "ERROR: data directory "
                  + dir.toAbsolutePath()
                  + " is in use by another process (or another store in this one)");
      assertThat(held.keyCount()).isZero();
    }
    Process after = child("open", dir.toString());
    assertThat(finish(after)).containsExactly("OPENED rocksdb:" + dir.toAbsolutePath());
    assertThat(after.exitValue()).isZero();
  }
}
