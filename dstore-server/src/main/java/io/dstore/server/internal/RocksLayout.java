package io.dstore.server.internal;

import io.dstore.server.StoredInfo;
import io.dstore.wire.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * How {@link RocksDbStorage} lays its data out in RocksDB: the column families, and the encoding of
 * every key and record. Format {@value #FORMAT}:
 *
 * <pre>
 * default  "format"                 -> "1"
 *          "generation-limit"       -> u64 BE: every generation handed out is at most this
 *          "value-id-limit"         -> u64 BE: every value id handed out is at most this
 *          "key-count"              -> u64 LE, kept by the uint64add merge operator
 *          "value-bytes"            -> u64 LE, kept by the uint64add merge operator
 *          "upload:" + id (u64 BE)  -> user key: value id with chunks written but not committed
 * meta     user key                 -> 1 byte version, value id, size, generation (u64 BE each),
 *                                      chunk size (u32 BE), SHA-256 (32 bytes)
 * chunks   value id + index (u64 BE each) -> the bytes [index * chunk size, ...) of that value
 * </pre>
 *
 * Big-endian ids sort numerically, so all chunks of one value form the contiguous key range [{@link
 * #valueStart}(id), {@link #valueStart}(id + 1)), which one range tombstone deletes.
 */
final class RocksLayout {
  static final int FORMAT = 1;
  static final String META = "meta";
  static final String CHUNKS = "chunks";

  static final byte[] FORMAT_KEY = ascii("format");
  static final byte[] GENERATION_LIMIT = ascii("generation-limit");
  static final byte[] VALUE_ID_LIMIT = ascii("value-id-limit");
  static final byte[] KEY_COUNT = ascii("key-count");
  static final byte[] VALUE_BYTES = ascii("value-bytes");
  static final byte[] UPLOAD_PREFIX = ascii("upload:");

  private static final byte META_VERSION = 1;
  private static final int META_LENGTH = 1 + 8 + 8 + 8 + 4 + 32;

  private RocksLayout() {}

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** The first key of the chunks of value {@code id}, and the end of those of {@code id - 1}. */
  static byte[] valueStart(long id) {
    return ByteBuffer.allocate(8).putLong(id).array();
  }

  static byte[] chunkKey(long id, long index) {
    return ByteBuffer.allocate(16).putLong(id).putLong(index).array();
  }

  static byte[] uploadKey(long id) {
    return ByteBuffer.allocate(UPLOAD_PREFIX.length + 8).put(UPLOAD_PREFIX).putLong(id).array();
  }

  /** Whether {@code key} (of the default family) names an upload in progress. */
  static boolean isUploadKey(byte[] key) {
    if (key.length != UPLOAD_PREFIX.length + 8) {
      return false;
    }
    for (int i = 0; i < UPLOAD_PREFIX.length; i++) {
      if (key[i] != UPLOAD_PREFIX[i]) {
        return false;
      }
    }
    return true;
  }

  static long uploadId(byte[] uploadKey) {
    return ByteBuffer.wrap(uploadKey, UPLOAD_PREFIX.length, 8).getLong();
  }

  static byte[] bigEndian(long value) {
    return ByteBuffer.allocate(8).putLong(value).array();
  }

  static long bigEndian(byte[] bytes) throws IOException {
    if (bytes.length != 8) {
      throw new IOException("counter record is " + bytes.length + " bytes, expected 8");
    }
    return ByteBuffer.wrap(bytes).getLong();
  }

  /** A merge operand (or value) for RocksDB's uint64add operator, which reads 8 bytes LE. */
  static byte[] littleEndian(long value) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
  }

  static long littleEndian(byte[] bytes) throws IOException {
    if (bytes.length != 8) {
      throw new IOException("counter record is " + bytes.length + " bytes, expected 8");
    }
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  /** Number of chunks a value of {@code size} bytes is cut into. */
  static long chunkCount(long size, int chunkSize) {
    return (size + chunkSize - 1) / chunkSize;
  }

  /**
   * The record of the meta family: where a value's chunks are and what it is.
   *
   * @param valueId the id its chunks are stored under
   * @param chunkSize the size of every chunk but the last (which may be shorter)
   */
  record Meta(long valueId, int chunkSize, StoredInfo info) {
    byte[] encode() {
      return ByteBuffer.allocate(META_LENGTH)
          .put(META_VERSION)
          .putLong(valueId)
          .putLong(info.size())
          .putLong(info.generation())
          .putInt(chunkSize)
          .put(Sha256.unhex(info.sha256()))
          .array();
    }

    static Meta decode(byte[] record) throws IOException {
      if (record.length != META_LENGTH || record[0] != META_VERSION) {
        throw new IOException(
            "unreadable value record ("
                + record.length
                + " bytes, version "
                + (record.length > 0 ? record[0] : -1)
                + "): the data directory is corrupt or from a newer dstore");
      }
      ByteBuffer b = ByteBuffer.wrap(record, 1, META_LENGTH - 1);
      long valueId = b.getLong();
      long size = b.getLong();
      long generation = b.getLong();
      int chunkSize = b.getInt();
      byte[] sha = new byte[32];
      b.get(sha);
      if (chunkSize <= 0 || size < 0 || generation <= 0) {
        throw new IOException(
            "corrupt value record: size "
                + size
                + ", chunk size "
                + chunkSize
                + ", generation "
                + generation);
      }
      return new Meta(valueId, chunkSize, new StoredInfo(size, generation, Sha256.hex(sha)));
    }

    long chunkCount() {
      return RocksLayout.chunkCount(info.size(), chunkSize);
    }
  }
}
