package io.dstore.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bytes of a streamed put, and whether they can be read again from the start: bytes in memory
 * and a file can (so the upload may be retried on another gateway), a caller's {@link InputStream}
 * cannot.
 */
interface Upload {
  /** Opens the bytes from the start. For a stream, the second call throws. */
  InputStream open() throws IOException;

  /** Whether {@link #open} may be called more than once. */
  boolean rereadable();

  static Upload of(byte[] bytes) {
    return new Upload() {
      @Override
      public InputStream open() {
        return new ByteArrayInputStream(bytes);
      }

      @Override
      public boolean rereadable() {
        return true;
      }
    };
  }

  static Upload of(Path file) {
    return new Upload() {
      @Override
      public InputStream open() throws IOException {
        return Files.newInputStream(file);
      }

      @Override
      public boolean rereadable() {
        return true;
      }
    };
  }

  static Upload of(InputStream in) {
    return new Upload() {
      private boolean opened;

      @Override
      public synchronized InputStream open() throws IOException {
        if (opened) {
          throw new IOException("the stream was read already and cannot be read again");
        }
        opened = true;
        return in;
      }

      @Override
      public boolean rereadable() {
        return false;
      }
    };
  }
}
