package io.dstore.server.internal;

import com.google.protobuf.ByteString;
import io.dstore.proto.GetRequest;
import io.dstore.proto.PutHeader;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;

/**
 * The request limits Global enforces, and the checks that name them in their errors. A field out of
 * its documented range is refused (INVALID_ARGUMENT naming the field and the range), never clamped
 * or ignored, so a client in any language learns of its mistake at once.
 *
 * @param maxKeyBytes longest key
 * @param maxValueBytes largest value
 * @param maxMessageBytes largest gRPC message accepted
 */
public record Limits(int maxKeyBytes, long maxValueBytes, int maxMessageBytes) {

  /** Room left in a message for everything but the value bytes. */
  private static final int MESSAGE_OVERHEAD = 16 << 10;

  /** GetStream's chunk size when the request leaves {@code chunk_size} at 0. */
  public static final int DEFAULT_CHUNK_BYTES = 1 << 20;

  /** Smallest {@code chunk_size} a GetStream may ask for. */
  public static final int MIN_CHUNK_BYTES = 4 << 10;

  /** Largest {@code chunk_size} a GetStream may ask for. */
  public static final int MAX_CHUNK_BYTES = 4 << 20;

  /** Largest value (or range) answered inline by unary Get. */
  public int inlineValueBytes() {
    return maxMessageBytes - MESSAGE_OVERHEAD;
  }

  /**
   * Most value bytes in one stream message, either way: a PutChunk carrying more is refused, and
   * GetStream never sends more whatever {@code chunk_size} asked for.
   */
  public int streamChunkBytes() {
    return maxMessageBytes - MESSAGE_OVERHEAD;
  }

  /** Throws INVALID_ARGUMENT / TOO_LARGE unless {@code key} is 1 to maxKeyBytes bytes. */
  public void checkKey(ByteString key) {
    if (key.isEmpty()) {
      throw GrpcErrors.status(
          ErrorCode.INVALID_ARGUMENT, "key is empty: keys are 1 to " + maxKeyBytes + " bytes");
    }
    if (key.size() > maxKeyBytes) {
      throw GrpcErrors.status(
          ErrorCode.TOO_LARGE,
          "key is "
              + key.size()
              + " bytes: the limit is "
              + maxKeyBytes
              + " bytes (set with --max-key-size)");
    }
  }

  /** Throws TOO_LARGE if a value of {@code size} bytes is over the limit. */
  public void checkValueSize(long size) {
    if (size > maxValueBytes) {
      throw GrpcErrors.status(
          ErrorCode.TOO_LARGE,
          "value is "
              + size
              + " bytes: the limit is "
              + maxValueBytes
              + " bytes (set with --max-value-size)");
    }
  }

  /**
   * The size an upload header declares, or -1 when it leaves {@code size} unset (unknown).
   * INVALID_ARGUMENT if negative, TOO_LARGE if over the value limit.
   */
  public long declaredSize(PutHeader header) {
    if (!header.hasSize()) {
      return -1;
    }
    long size = header.getSize();
    if (size < 0) {
      throw GrpcErrors.status(
          ErrorCode.INVALID_ARGUMENT,
          "PutHeader.size is "
              + size
              + ": a declared size is 0 or more bytes; leave size unset when it is unknown");
    }
    checkValueSize(size);
    return size;
  }

  /** Throws TOO_LARGE if one stream message carries more than {@link #streamChunkBytes()}. */
  public void checkStreamChunk(int bytes) {
    if (bytes > streamChunkBytes()) {
      throw GrpcErrors.status(
          ErrorCode.TOO_LARGE,
          "PutChunk.data is "
              + bytes
              + " bytes: a stream chunk carries at most "
              + streamChunkBytes()
              + " bytes (the message limit less 16 KiB; set with --max-message-size)");
    }
  }

  /**
   * Checks the fields of a Get or GetStream request that are not the key or the range: {@code
   * chunk_size} must be 0 or {@value #MIN_CHUNK_BYTES} to {@value #MAX_CHUNK_BYTES}, {@code
   * max_inline_bytes} must not be negative. Each applies to one kind of call but is checked on
   * both, so a bad value never passes unnoticed.
   */
  public void checkGetRequest(GetRequest request) {
    int chunk = request.getChunkSize();
    if (chunk != 0 && (chunk < MIN_CHUNK_BYTES || chunk > MAX_CHUNK_BYTES)) {
      throw GrpcErrors.status(
          ErrorCode.INVALID_ARGUMENT,
          "chunk_size is "
              + chunk
              + ": it must be 0 (the server's default, "
              + DEFAULT_CHUNK_BYTES
              + " bytes) or "
              + MIN_CHUNK_BYTES
              + " to "
              + MAX_CHUNK_BYTES
              + " bytes");
    }
    if (request.getMaxInlineBytes() < 0) {
      throw GrpcErrors.status(
          ErrorCode.INVALID_ARGUMENT,
          "max_inline_bytes is "
              + request.getMaxInlineBytes()
              + ": it must be 0 (the server's inline limit, "
              + inlineValueBytes()
              + " bytes) or 1 to "
              + Integer.MAX_VALUE
              + " bytes");
    }
  }

  /** The bytes per GetStream message for a request that passed {@link #checkGetRequest}. */
  public int chunkBytes(GetRequest request) {
    int chunk = request.getChunkSize() == 0 ? DEFAULT_CHUNK_BYTES : request.getChunkSize();
    return Math.min(chunk, streamChunkBytes());
  }

  /**
   * The largest value (or range) a unary Get that passed {@link #checkGetRequest} answers inline.
   */
  public long inlineBytes(GetRequest request) {
    int asked = request.getMaxInlineBytes();
    return asked == 0 ? inlineValueBytes() : Math.min(asked, inlineValueBytes());
  }
}
