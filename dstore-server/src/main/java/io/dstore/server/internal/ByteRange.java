package io.dstore.server.internal;

import io.dstore.proto.GetRequest;

/**
 * A validated byte range of a value.
 *
 * @param offset first byte
 * @param length number of bytes
 */
record ByteRange(long offset, long length) {

  /** The range a request asks of a value of {@code size} bytes; INVALID_ARGUMENT if impossible. */
  static ByteRange of(GetRequest request, long size) {
    long offset = request.hasOffset() ? request.getOffset() : 0;
    if (offset < 0) {
      throw Errors.invalid("offset is negative: " + offset);
    }
    if (offset > size) {
      throw Errors.invalid("offset " + offset + " is past the end of the " + size + "-byte value");
    }
    long length = request.hasLength() ? request.getLength() : size - offset;
    if (length < 0) {
      throw Errors.invalid("length is negative: " + length);
    }
    if (length > size - offset) {
      throw Errors.invalid(
          "range of "
              + length
              + " bytes from offset "
              + offset
              + " is past the end of the "
              + size
              + "-byte value");
    }
    return new ByteRange(offset, length);
  }

  long end() {
    return offset + length;
  }
}
