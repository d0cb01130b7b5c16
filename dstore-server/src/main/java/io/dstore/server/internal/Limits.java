package io.dstore.server.internal;

import com.google.protobuf.ByteString;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;

/**
 * The request limits Global enforces, and the checks that name them in their errors.
 *
 * @param maxKeyBytes longest key
 * @param maxValueBytes largest value
 * @param maxMessageBytes largest gRPC message accepted
 */
public record Limits(int maxKeyBytes, long maxValueBytes, int maxMessageBytes) {

  /** Room left in a message for everything but the value bytes. */
  private static final int MESSAGE_OVERHEAD = 16 << 10;

  /** Largest value (or range) answered inline by unary Get. */
  public int inlineValueBytes() {
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
}
