package io.dstore.server.security;

import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** A storage that counts the uploads and readers open now, to see that streams release them. */
final class TrackingStorage implements Storage {
  private final Storage delegate;
  final AtomicInteger openUploads = new AtomicInteger();
  final AtomicInteger openReaders = new AtomicInteger();
  final AtomicInteger uploadsStarted = new AtomicInteger();

  TrackingStorage(Storage delegate) {
    this.delegate = delegate;
  }

  @Override
  public Optional<StoredInfo> stat(byte[] key) throws IOException {
    return delegate.stat(key);
  }

  @Override
  public Upload create(byte[] key, long declaredSize) throws IOException {
    Upload u = delegate.create(key, declaredSize);
    openUploads.incrementAndGet();
    uploadsStarted.incrementAndGet();
    return new Upload() {
      private boolean ended;

      @Override
      public void write(ByteBuffer bytes) throws IOException {
        u.write(bytes);
      }

      @Override
      public long written() {
        return u.written();
      }

      @Override
      public StoredInfo commit(String sha256) throws KeyExistsException, IOException {
        try {
          return u.commit(sha256);
        } finally {
          end();
        }
      }

      @Override
      public StoredInfo commitAs(byte[] key, String sha256) throws KeyExistsException, IOException {
        try {
          return u.commitAs(key, sha256);
        } finally {
          end();
        }
      }

      @Override
      public void abort() {
        u.abort();
        end();
      }

      private synchronized void end() {
        if (!ended) {
          ended = true;
          openUploads.decrementAndGet();
        }
      }
    };
  }

  @Override
  public Optional<Reader> open(byte[] key) throws IOException {
    Optional<Reader> r = delegate.open(key);
    if (r.isEmpty()) {
      return r;
    }
    openReaders.incrementAndGet();
    Reader reader = r.get();
    return Optional.of(
        new Reader() {
          private boolean closed;

          @Override
          public StoredInfo info() {
            return reader.info();
          }

          @Override
          public int read(long position, ByteBuffer dst) throws IOException {
            return reader.read(position, dst);
          }

          @Override
          public synchronized void close() {
            reader.close();
            if (!closed) {
              closed = true;
              openReaders.decrementAndGet();
            }
          }
        });
  }

  @Override
  public Optional<StoredInfo> delete(byte[] key) throws IOException {
    return delegate.delete(key);
  }

  @Override
  public long keyCount() {
    return delegate.keyCount();
  }

  @Override
  public long valueBytes() {
    return delegate.valueBytes();
  }

  @Override
  public String describe() {
    return "tracking " + delegate.describe();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
