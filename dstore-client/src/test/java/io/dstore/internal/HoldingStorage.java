package io.dstore.internal;

import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A storage that delegates to another and lets a test hold reads: when armed, {@link #open} reads
 * the value and then waits for {@link #release()}, as a slow network would. It also counts reads,
 * and survives {@link #close()} so that one store can outlive a restarted Global.
 */
final class HoldingStorage implements Storage {
  private final Storage delegate;
  final AtomicInteger opens = new AtomicInteger();
  final AtomicInteger held = new AtomicInteger();
  private volatile CountDownLatch gate;

  HoldingStorage(Storage delegate) {
    this.delegate = delegate;
  }

  void arm() {
    gate = new CountDownLatch(1);
  }

  void release() {
    CountDownLatch g = gate;
    gate = null;
    if (g != null) {
      g.countDown();
    }
  }

  @Override
  public Optional<Reader> open(byte[] key) throws IOException {
    opens.incrementAndGet();
    Optional<Reader> reader = delegate.open(key);
    CountDownLatch g = gate;
    if (g != null) {
      held.incrementAndGet();
      try {
        if (!g.await(30, TimeUnit.SECONDS)) {
          throw new IOException("test never released the held read");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      } finally {
        held.decrementAndGet();
      }
    }
    return reader;
  }

  @Override
  public Optional<StoredInfo> stat(byte[] key) throws IOException {
    return delegate.stat(key);
  }

  @Override
  public Upload create(byte[] key, long declaredSize) throws IOException {
    return delegate.create(key, declaredSize);
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
    return "holding " + delegate.describe();
  }

  /** Does not close the delegate: a restarted Global reuses it. */
  @Override
  public void close() {}

  void closeForReal() {
    delegate.close();
  }
}
