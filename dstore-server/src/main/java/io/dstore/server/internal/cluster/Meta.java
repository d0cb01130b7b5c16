package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.dstore.server.StoredInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * What {@code k/<key>} holds in etcd: a value's size, SHA-256, the request id of the put that
 * created it, and either its bytes (inline) or the name of the S3 object that holds them. The
 * generation is not stored: it is the {@code create_revision} of the {@code k/} key.
 *
 * <p>Binary form, version 1 (all integers big-endian or unsigned LEB128 varints):
 *
 * <pre>
 *   byte    version (1)
 *   byte    kind: 0 inline, 1 S3 object
 *   varint  size
 *   32      SHA-256
 *   varint  request id length, then its bytes
 *   inline: the value's bytes (exactly size of them) | S3: varint name length, then UTF-8 name
 * </pre>
 *
 * A decoder meeting a newer version refuses it (a gateway older than the cluster must not guess).
 * Immutable.
 *
 * @param size bytes of the value
 * @param sha256 64 lower-case hex digits
 * @param requestId the creating put's request id; empty if unknown
 * @param inline the value's bytes, or null if it lives in S3
 * @param object the S3 object name (with the store's prefix), or null if inline
 */
public record Meta(long size, String sha256, byte[] requestId, byte[] inline, String object) {
  static final int VERSION = 1;
  private static final int KIND_INLINE = 0;
  private static final int KIND_S3 = 1;
  private static final HexFormat HEX = HexFormat.of();

  public Meta {
    requireNonNull(sha256, "sha256");
    requireNonNull(requestId, "requestId");
    if (size < 0) {
      throw new IllegalArgumentException("size < 0");
    }
    if ((inline == null) == (object == null)) {
      throw new IllegalArgumentException("a value is either inline or in S3");
    }
    if (inline != null && inline.length != size) {
      throw new IllegalArgumentException("inline bytes " + inline.length + " != size " + size);
    }
  }

  public static Meta inline(byte[] bytes, String sha256, byte[] requestId) {
    return new Meta(bytes.length, sha256, requestId, bytes, null);
  }

  public static Meta s3(long size, String sha256, byte[] requestId, String object) {
    return new Meta(size, sha256, requestId, null, object);
  }

  public boolean isInline() {
    return inline != null;
  }

  /** This value's info, at {@code generation} (the {@code k/} key's create revision). */
  public StoredInfo info(long generation) {
    return new StoredInfo(size, generation, sha256);
  }

  public byte[] encode() {
    ByteArrayOutputStream out =
        new ByteArrayOutputStream(64 + requestId.length + (inline != null ? inline.length : 64));
    out.write(VERSION);
    out.write(inline != null ? KIND_INLINE : KIND_S3);
    writeVarint(out, size);
    out.writeBytes(HEX.parseHex(sha256));
    writeVarint(out, requestId.length);
    out.writeBytes(requestId);
    if (inline != null) {
      out.writeBytes(inline);
    } else {
      byte[] name = object.getBytes(UTF_8);
      writeVarint(out, name.length);
      out.writeBytes(name);
    }
    return out.toByteArray();
  }

  /**
   * Decodes what {@link #encode} wrote.
   *
   * @param where the etcd key it was read from, for the message
   * @throws IOException naming {@code where} if {@code bytes} are not a meta of a known version
   */
  public static Meta decode(String where, byte[] bytes) throws IOException {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      int version = in.get() & 0xFF;
      if (version != VERSION) {
        throw damaged(where, "unknown metadata version " + version + " (this gateway knows 1)");
      }
      int kind = in.get() & 0xFF;
      long size = readVarint(in);
      byte[] sha = new byte[32];
      in.get(sha);
      int idLength = Math.toIntExact(readVarint(in));
      if (idLength > in.remaining()) {
        throw damaged(where, "request id longer than the metadata");
      }
      byte[] requestId = new byte[idLength];
      in.get(requestId);
      switch (kind) {
        case KIND_INLINE -> {
          if (in.remaining() != size) {
            throw damaged(
                where, "inline value of " + in.remaining() + " bytes, but size says " + size);
          }
          byte[] value = new byte[in.remaining()];
          in.get(value);
          return new Meta(size, HEX.formatHex(sha), requestId, value, null);
        }
        case KIND_S3 -> {
          int nameLength = Math.toIntExact(readVarint(in));
          if (nameLength != in.remaining() || nameLength == 0) {
            throw damaged(where, "object name length " + nameLength + " does not fit");
          }
          byte[] name = new byte[nameLength];
          in.get(name);
          return new Meta(size, HEX.formatHex(sha), requestId, null, new String(name, UTF_8));
        }
        default -> throw damaged(where, "unknown value kind " + kind);
      }
    } catch (BufferUnderflowException | ArithmeticException e) {
      throw damaged(where, "cut short or garbled (" + bytes.length + " bytes)");
    }
  }

  private static IOException damaged(String where, String why) {
    return new IOException("damaged metadata at etcd key " + where + ": " + why);
  }

  private static void writeVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  private static long readVarint(ByteBuffer in) {
    long v = 0;
    for (int shift = 0; shift < 63; shift += 7) {
      byte b = in.get();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (v < 0) {
          throw new ArithmeticException("negative");
        }
        return v;
      }
    }
    throw new ArithmeticException("varint too long");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Meta m
        && size == m.size
        && sha256.equals(m.sha256)
        && Arrays.equals(requestId, m.requestId)
        && Arrays.equals(inline, m.inline)
        && java.util.Objects.equals(object, m.object);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(size) * 31 + sha256.hashCode();
  }

  @Override
  public String toString() {
    return "Meta[size="
        + size
        + ", sha256="
        + sha256
        + ", requestId="
        + HEX.formatHex(requestId)
        + (inline != null ? ", inline" : ", object=" + object)
        + "]";
  }
}
