package io.dstore.server.internal;

import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Interim heap storage (a fuller one is on its way): chunk lists, atomic putIfAbsent commits. */
public final class MemoryStorage implements Storage {
  private static final int CHUNK = 1 << 20;

  private record K(byte[] b, int h) {
    static K of(byte[] b) {
      return new K(b.clone(), Arrays.hashCode(b));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof K k && h == k.h && Arrays.equals(b, k.b);
    }

    @Override
    public int hashCode() {
      return h;
    }
  }

  private record V(StoredInfo info, List<byte[]> chunks) {}

  private final ConcurrentHashMap<K, V> map = new ConcurrentHashMap<>();
  private final AtomicLong generations = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();

  private MemoryStorage() {}

  public static Storage create() {
    return new MemoryStorage();
  }

  @Override
  public Optional<StoredInfo> stat(byte[] key) {
    V v = map.get(K.of(key));
    return v == null ? Optional.empty() : Optional.of(v.info);
  }

  @Override
  public Upload create(byte[] key, long declaredSize) {
    K k = K.of(key);
    return new Upload() {
      final List<byte[]> chunks = new ArrayList<>();
      long written;
      boolean ended;

      @Override
      public void write(ByteBuffer data) {
        while (data.hasRemaining()) {
          int fill = (int) (written % CHUNK);
          if (fill == 0) {
            chunks.add(new byte[CHUNK]);
          }
          byte[] last = chunks.get(chunks.size() - 1);
          int n = Math.min(data.remaining(), CHUNK - fill);
          data.get(last, fill, n);
          written += n;
        }
      }

      @Override
      public long written() {
        return written;
      }

      @Override
      public StoredInfo commit(String sha256) throws KeyExistsException {
        if (ended) {
          throw new IllegalStateException("upload already ended");
        }
        ended = true;
        StoredInfo info = new StoredInfo(written, generations.incrementAndGet(), sha256);
        V prior = map.putIfAbsent(k, new V(info, List.copyOf(chunks)));
        if (prior != null) {
          throw new KeyExistsException(prior.info);
        }
        bytes.addAndGet(written);
        return info;
      }

      @Override
      public void abort() {
        ended = true;
        chunks.clear();
      }
    };
  }

  @Override
  public Optional<Reader> open(byte[] key) {
    V v = map.get(K.of(key));
    if (v == null) {
      return Optional.empty();
    }
    return Optional.of(
        new Reader() {
          @Override
          public StoredInfo info() {
            return v.info;
          }

          @Override
          public int read(long position, ByteBuffer dst) {
            int copied = 0;
            long pos = position;
            while (dst.hasRemaining() && pos < v.info.size()) {
              byte[] c = v.chunks.get((int) (pos / CHUNK));
              int off = (int) (pos % CHUNK);
              int n = Math.min(dst.remaining(), c.length - off);
              dst.put(c, off, n);
              copied += n;
              pos += n;
            }
            return copied;
          }

          @Override
          public void close() {}
        });
  }

  @Override
  public Optional<StoredInfo> delete(byte[] key) {
    V v = map.remove(K.of(key));
    if (v == null) {
      return Optional.empty();
    }
    bytes.addAndGet(-v.info.size());
    return Optional.of(v.info);
  }

  @Override
  public long keyCount() {
    return map.size();
  }

  @Override
  public long valueBytes() {
    return bytes.get();
  }

  @Override
  public String describe() {
    return "memory";
  }

  @Override
  public void close() {}
}
