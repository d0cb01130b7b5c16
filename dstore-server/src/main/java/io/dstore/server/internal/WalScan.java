package io.dstore.server.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Reads RocksDB's write-ahead log files ({@code *.log} in the data directory) record by record,
 * checking every record's CRC32C, without opening the database. It tells the two ways a log can end
 * badly apart, which RocksDB's recovery modes alone do not report:
 *
 * <ul>
 *   <li>a <b>torn tail</b>: the newest log ends inside a record (its header or its payload is cut
 *       short by the end of the file, or a record split over blocks lacks its last fragment). That
 *       is a write a crash cut off while it was being appended; its caller was never answered, so
 *       dropping it loses nothing acknowledged.
 *   <li><b>damage</b>: a record whose checksum does not match, whose length runs past a full block,
 *       or whose type is unknown, or a cut-short end in a log that is not the newest. Whatever was
 *       recorded from there on may have been acknowledged.
 * </ul>
 *
 * <p>The format (RocksDB {@code db/log_format.h}): 32 KiB blocks of physical records, each a header
 * (masked CRC32C, u16 LE length, type; recyclable types add a u32 log number) and its payload; a
 * block's last 0 to 6 bytes are zero padding; a zero header marks preallocated space past the end.
 * The CRC covers the type byte, the log number of recyclable types, and the payload.
 */
final class WalScan {
  static final int BLOCK = 32 * 1024;
  private static final int HEADER = 7;
  private static final int RECYCLABLE_HEADER = 11;
  private static final int MASK_DELTA = 0xa282ead8;

  /** What is wrong with one log file. */
  enum Kind {
    TORN_TAIL,
    DAMAGED
  }

  /**
   * A problem in {@code file}, from byte {@code offset} (the start of the first record not read
   * whole): {@code bytesAfter} bytes of the file follow that offset.
   */
  record Problem(Path file, Kind kind, long offset, long bytesAfter, String reason) {
    String describe() {
      return file.getFileName()
          + " at byte "
          + offset
          + " of "
          + (offset + bytesAfter)
          + " ("
          + reason
          + ")";
    }
  }

  /** The logs scanned, oldest first, and the problems found (at most one per file). */
  record Result(List<Path> logs, List<Problem> problems) {
    /** The problems that may hide acknowledged writes: everything but a torn tail of the newest. */
    List<Problem> damage() {
      List<Problem> damage = new ArrayList<>();
      for (Problem p : problems) {
        boolean newest = !logs.isEmpty() && p.file().equals(logs.get(logs.size() - 1));
        if (p.kind() == Kind.DAMAGED || !newest) {
          damage.add(p);
        }
      }
      return damage;
    }

    List<Problem> tornTails() {
      List<Problem> torn = new ArrayList<>(problems);
      torn.removeAll(damage());
      return torn;
    }

    /** Log bytes from the first damage on: the rest of that file and every newer log. */
    long bytesFromFirstDamage() throws IOException {
      List<Problem> damage = damage();
      if (damage.isEmpty()) {
        return 0;
      }
      Problem first = damage.get(0);
      long bytes = first.bytesAfter();
      for (Path log : logs.subList(logs.indexOf(first.file()) + 1, logs.size())) {
        bytes += Files.size(log);
      }
      return bytes;
    }
  }

  private WalScan() {}

  /** Scans every {@code *.log} file of {@code dir}, oldest (lowest number) first. */
  static Result scan(Path dir) throws IOException {
    List<Path> logs = logs(dir);
    List<Problem> problems = new ArrayList<>();
    for (Path log : logs) {
      Problem p = scanFile(log);
      if (p != null) {
        problems.add(p);
      }
    }
    return new Result(logs, problems);
  }

  static List<Path> logs(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> f.getFileName().toString().matches("[0-9]+\\.log"))
          .sorted(
              (a, b) ->
                  Long.compare(
                      Long.parseLong(a.getFileName().toString().replace(".log", "")),
                      Long.parseLong(b.getFileName().toString().replace(".log", ""))))
          .toList();
    }
  }

  /** The first problem of one log file, or null when it reads cleanly to its end. */
  static Problem scanFile(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      ByteBuffer block = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
      long fragmentStart = -1; // offset of the first fragment of a record split over blocks
      for (long base = 0; base < size; base += BLOCK) {
        block.clear();
        while (block.hasRemaining() && channel.read(block, base + block.position()) > 0) {
          // read the whole block (or what the file has of it)
        }
        int length = block.position();
        boolean lastBlock = base + length >= size;
        int p = 0;
        while (p < length) {
          long at = base + p;
          if (length - p < HEADER) {
            if (lastBlock && length < BLOCK && !allZero(block, p, length)) {
              return problem(
                  file,
                  Kind.TORN_TAIL,
                  fragmentStart >= 0 ? fragmentStart : at,
                  size,
                  "the file ends inside a record header");
            }
            break; // block trailer padding
          }
          int crc = block.getInt(p);
          int len = Short.toUnsignedInt(block.getShort(p + 4));
          int type = Byte.toUnsignedInt(block.get(p + 6));
          if (type == 0 && len == 0 && crc == 0) {
            if (allZero(block, p, length)) {
              break; // preallocated space or padding: nothing more was written here
            }
            return problem(file, Kind.DAMAGED, at, size, "a zero header before more data");
          }
          int header = recyclable(type) ? RECYCLABLE_HEADER : HEADER;
          if (!known(type)) {
            return problem(file, Kind.DAMAGED, at, size, "unknown record type " + type);
          }
          if (p + header + len > length) {
            if (lastBlock && length < BLOCK) {
              return problem(
                  file,
                  Kind.TORN_TAIL,
                  fragmentStart >= 0 ? fragmentStart : at,
                  size,
                  "the file ends inside a record: "
                      + (length - p)
                      + " of its "
                      + (header + len)
                      + " bytes are there");
            }
            return problem(
                file,
                Kind.DAMAGED,
                at,
                size,
                "record length " + len + " runs past the end of its block");
          }
          CRC32C expected = new CRC32C();
          expected.update(block.array(), p + 6, 1);
          expected.update(block.array(), p + HEADER, header - HEADER + len);
          if (mask((int) expected.getValue()) != crc) {
            return problem(
                file,
                Kind.DAMAGED,
                fragmentStart >= 0 ? fragmentStart : at,
                size,
                "checksum mismatch");
          }
          int fragment = type > 4 && type <= 8 ? type - 4 : type;
          if (fragment == 2) { // first
            fragmentStart = at;
          } else if (fragment == 1 || fragment == 4) { // full or last
            fragmentStart = -1;
          }
          p += header + len;
        }
      }
      if (fragmentStart >= 0) {
        return problem(
            file,
            Kind.TORN_TAIL,
            fragmentStart,
            size,
            "the file ends before the last fragment of a record split over blocks");
      }
      return null;
    }
  }

  private static Problem problem(Path file, Kind kind, long offset, long size, String reason) {
    return new Problem(file, kind, offset, size - offset, reason);
  }

  private static boolean recyclable(int type) {
    return (type >= 5 && type <= 8) || type == 11 || type == 131;
  }

  private static boolean known(int type) {
    return (type >= 1 && type <= 11) || type == 130 || type == 131;
  }

  private static boolean allZero(ByteBuffer block, int from, int to) {
    for (int i = from; i < to; i++) {
      if (block.get(i) != 0) {
        return false;
      }
    }
    return true;
  }

  private static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }
}
