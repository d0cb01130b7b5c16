package io.dstore.server.internal;

import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.server.ValuePattern;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Runs storage work in a separate JVM for {@link RocksDbProcessIT}: what must hold with a small
 * heap, after a {@code kill -9}, or against a store another process holds. Reports on stdout, one
 * line per fact; exits 0 when all went as expected.
 *
 * <ul>
 *   <li>{@code large DIR MIB}: writes MIB MiB in 1 MiB pieces, reopens, reads it back and checks
 *       its SHA-256, deletes it.
 *   <li>{@code crash DIR}: commits {@value #COMMITTED_SIZE} bytes under {@code committed}, writes
 *       part of an upload of {@code cut}, prints {@code READY} and waits to be killed.
 *   <li>{@code open DIR}: opens the store; prints {@code OPENED}, or {@code ERROR: message} and
 *       exits 3.
 * </ul>
 */
public final class StorageChild {
  static final long COMMITTED_SIZE = 2L * (1 << 20) + 5;
  static final long PATTERN_SEED = 77;
  private static final int MIB = 1 << 20;

  private StorageChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    switch (args[0]) {
      case "large" -> large(dir, Long.parseLong(args[2]) * MIB);
      case "crash" -> crash(dir);
      case "open" -> open(dir);
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  private static void large(Path dir, long size) throws Exception {
    ValuePattern pattern = new ValuePattern(PATTERN_SEED);
    byte[] key = "large".getBytes(StandardCharsets.UTF_8);
    ByteBuffer piece = ByteBuffer.allocate(MIB);
    String written;
    long start = System.nanoTime();
    try (Storage storage = Storage.rocksdb(dir, false);
        Storage.Upload upload = storage.create(key, size)) {
      MessageDigest digest = ValuePattern.newSha256();
      for (long p = 0; p < size; p += MIB) {
        piece.clear().limit((int) Math.min(MIB, size - p));
        pattern.fill(p, piece);
        piece.flip();
        digest.update(piece.duplicate());
        upload.write(piece);
      }
      written = HexFormat.of().formatHex(digest.digest());
      upload.commit(written);
    }
    double writeSeconds = (System.nanoTime() - start) / 1e9;
    report("wrote", size, writeSeconds);

    start = System.nanoTime();
    try (Storage storage = Storage.rocksdb(dir, false)) {
      StoredInfo info;
      MessageDigest digest = ValuePattern.newSha256();
      try (Storage.Reader reader = storage.open(key).orElseThrow()) {
        info = reader.info();
        for (long p = 0; p < info.size(); ) {
          piece.clear();
          int n = reader.read(p, piece);
          if (n <= 0) {
            throw new IOException("value ended early at " + p);
          }
          piece.flip();
          digest.update(piece);
          p += n;
        }
      }
      double readSeconds = (System.nanoTime() - start) / 1e9;
      report("read", size, readSeconds);
      String read = HexFormat.of().formatHex(digest.digest());
      if (info.size() != size || !info.sha256().equals(written) || !read.equals(written)) {
        System.out.println(
            "MISMATCH size " + info.size() + " sha " + info.sha256() + " read " + read);
        System.exit(1);
      }
      storage.delete(key);
    }
    System.out.println(
        "VERIFIED sha256 " + written + " max heap " + Runtime.getRuntime().maxMemory());
  }

  private static void report(String what, long bytes, double seconds) {
    double mib = bytes / (double) MIB;
    System.out.printf("%s %.0f MiB in %.1f s: %.0f MiB/s%n", what, mib, seconds, mib / seconds);
  }

  private static void crash(Path dir) throws Exception {
    ValuePattern pattern = new ValuePattern(PATTERN_SEED);
    Storage storage = Storage.rocksdb(dir, false);
    try (Storage.Upload upload = storage.create(bytes("committed"), COMMITTED_SIZE)) {
      upload.write(ByteBuffer.wrap(pattern.bytes(0, (int) COMMITTED_SIZE)));
      upload.commit(pattern.sha256(COMMITTED_SIZE));
    }
    Storage.Upload cut = storage.create(bytes("cut"), -1);
    for (int i = 0; i < 10; i++) {
      cut.write(ByteBuffer.wrap(pattern.bytes((long) i * MIB, MIB)));
    }
    System.out.println("READY");
    System.out.flush();
    System.in.read(); // killed here; returns only if the parent closes our stdin
    System.exit(2);
  }

  private static void open(Path dir) {
    try (Storage storage = Storage.rocksdb(dir, false)) {
      System.out.println("OPENED " + storage.describe());
    } catch (IOException e) {
      System.out.println("ERROR: " + e.getMessage());
      System.exit(3);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
