package io.dstore.server.internal.cluster;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The value of a {@code d/<key>} mark: a strict delete of {@code generation} of the key is under
 * way, run by {@code gatewayId} for the request {@code requestId} (empty: none). The mark lives
 * under the deleting gateway's etcd lease, so it vanishes with that gateway, and the delete then
 * has not happened.
 */
record DeleteMark(long generation, byte[] requestId, String gatewayId) {
  private static final int VERSION = 1;

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeLong(generation);
      out.writeShort(requestId.length);
      out.write(requestId);
      byte[] gw = gatewayId.getBytes(StandardCharsets.UTF_8);
      out.writeShort(gw.length);
      out.write(gw);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static DeleteMark decode(byte[] bytes) throws IOException {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IOException("delete mark of unknown version " + version);
      }
      long generation = in.readLong();
      byte[] requestId = new byte[in.readUnsignedShort()];
      in.readFully(requestId);
      byte[] gw = new byte[in.readUnsignedShort()];
      in.readFully(gw);
      return new DeleteMark(generation, requestId, new String(gw, StandardCharsets.UTF_8));
    } catch (java.io.EOFException e) {
      throw new IOException("delete mark cut short", e);
    }
  }
}
