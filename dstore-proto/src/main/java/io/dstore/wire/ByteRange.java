package io.dstore.wire;

import io.dstore.proto.GetRequest;

/**
 * Which bytes of a value a read asks for: from {@link #offset()}, either {@link #length()} bytes or
 * everything to the end. It is checked against a value's size in one place, {@link #within}, by
 * Global, the Local and the daemon alike, so the three answer a bad range with the same message.
 * Immutable.
 */
public final class ByteRange {
  private static final long TO_END = -1;

  /** The whole value. */
  public static final ByteRange WHOLE = new ByteRange(0, TO_END);

  private final long offset;
  private final long length;

  private ByteRange(long offset, long length) {
    this.offset = offset;
    this.length = length;
  }

  /**
   * {@code length} bytes from {@code offset}.
   *
   * @throws DstoreException INVALID_ARGUMENT if either is negative
   */
  public static ByteRange of(long offset, long length) {
    checkOffset(offset);
    if (length < 0) {
      throw invalid("length is negative: " + length);
    }
    return new ByteRange(offset, length);
  }

  /**
   * Everything from {@code offset} to the end.
   *
   * @throws DstoreException INVALID_ARGUMENT if it is negative
   */
  public static ByteRange from(long offset) {
    checkOffset(offset);
    return offset == 0 ? WHOLE : new ByteRange(offset, TO_END);
  }

  /**
   * The range a {@link GetRequest} asks for: absent {@code offset} is 0, absent {@code length} is
   * to the end.
   *
   * @throws DstoreException INVALID_ARGUMENT if either is negative
   */
  public static ByteRange of(GetRequest request) {
    long offset = request.hasOffset() ? request.getOffset() : 0;
    return request.hasLength() ? of(offset, request.getLength()) : from(offset);
  }

  /** Sets this range on a request (nothing for the whole value). */
  public GetRequest.Builder applyTo(GetRequest.Builder request) {
    if (offset != 0) {
      request.setOffset(offset);
    }
    if (length != TO_END) {
      request.setLength(length);
    }
    return request;
  }

  public long offset() {
    return offset;
  }

  /** Whether this is the whole value. */
  public boolean isWhole() {
    return offset == 0 && length == TO_END;
  }

  /**
   * The bytes this range covers of a value of {@code size} bytes: {@code offset == size} with no
   * length gives zero bytes.
   *
   * @throws DstoreException INVALID_ARGUMENT if the range reaches past the end
   */
  public Span within(long size) {
    if (offset > size) {
      throw invalid("offset " + offset + " is past the end of the " + size + "-byte value");
    }
    long n = length == TO_END ? size - offset : length;
    if (n > size - offset) {
      throw invalid(
          "range of "
              + n
              + " bytes from offset "
              + offset
              + " is past the end of the "
              + size
              + "-byte value");
    }
    return new Span(offset, n);
  }

  /**
   * A range resolved against a value's size.
   *
   * @param offset first byte
   * @param length number of bytes, all within the value
   */
  public record Span(long offset, long length) {
    public long end() {
      return offset + length;
    }
  }

  private static void checkOffset(long offset) {
    if (offset < 0) {
      throw invalid("offset is negative: " + offset);
    }
  }

  private static DstoreException invalid(String message) {
    return new DstoreException(ErrorCode.INVALID_ARGUMENT, message);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ByteRange r && r.offset == offset && r.length == length;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(offset) * 31 + Long.hashCode(length);
  }

  @Override
  public String toString() {
    return length == TO_END ? "bytes " + offset + "-" : "bytes " + offset + "+" + length;
  }
}
