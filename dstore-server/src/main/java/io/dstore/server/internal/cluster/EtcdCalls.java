package io.dstore.server.internal.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Calls to etcd with a deadline, timed into {@link ClusterStats} as {@code etcd.<operation>}, their
 * failures turned into {@link IOException}s that name etcd and its endpoints (or say the store is
 * closed, when it is). Also pages through a prefix at one revision. Thread-safe.
 */
final class EtcdCalls {
  /** The longest a lease grant may take. */
  static final Duration DEADLINE = Duration.ofSeconds(20);

  private static final int PAGE = 500;

  private final KV kv;
  private final String where;
  private final ClusterStats stats;
  private final BooleanSupplier closed;
  private final Duration timeout;

  EtcdCalls(
      KV kv, List<URI> endpoints, Duration timeout, ClusterStats stats, BooleanSupplier closed) {
    this.kv = kv;
    this.timeout = timeout;
    this.where = "etcd (" + String.join(",", endpoints.stream().map(URI::toString).toList()) + ")";
    this.stats = stats;
    this.closed = closed;
  }

  KV kv() {
    return kv;
  }

  String where() {
    return where;
  }

  IOException closedException() {
    return new IOException("cluster store closed");
  }

  /**
   * Runs the read {@code call}, again after a failure (a leader election, a member gone: jetcd's
   * own retries do not cover every case), until it succeeds or the timeout has passed. Only for
   * calls that change nothing.
   */
  <T> T read(String operation, Supplier<CompletableFuture<T>> call) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 50;
    while (true) {
      long left = deadline - System.nanoTime();
      try {
        return call(operation, call, Duration.ofNanos(Math.max(left, 1)));
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        if (closed.getAsBoolean() || deadline - System.nanoTime() <= pause * 1_000_000) {
          throw e;
        }
        try {
          Thread.sleep(pause); // a backoff between retries, not a synchronisation
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
        pause = Math.min(pause * 2, 1000);
      }
    }
  }

  /**
   * Runs {@code call} once and waits for its answer.
   *
   * @throws IOException if the store is closed, etcd failed or did not answer within the timeout;
   *     for a write, whether it happened is then unknown
   */
  <T> T call(String operation, Supplier<CompletableFuture<T>> call) throws IOException {
    return call(operation, call, timeout);
  }

  private <T> T call(String operation, Supplier<CompletableFuture<T>> call, Duration limit)
      throws IOException {
    if (closed.getAsBoolean()) {
      throw closedException();
    }
    long start = System.nanoTime();
    boolean failed = true;
    CompletableFuture<T> future = null;
    try {
      future = call.get();
      T result = future.get(limit.toNanos(), TimeUnit.NANOSECONDS);
      failed = false;
      return result;
    } catch (ExecutionException e) {
      if (closed.getAsBoolean()) {
        throw closedException();
      }
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (String.valueOf(cause.getMessage()).contains("database space exceeded")) {
        // etcd's NOSPACE alarm: its quota is reached; deletes and reads still work
        throw new io.dstore.server.internal.NoSpaceException(
            where
                + " is out of space (its backend quota; see docs/operations.md): "
                + cause.getMessage(),
            cause);
      }
      throw new io.dstore.server.internal.BackendUnavailableException(
          where + " failed to " + operation + ": " + cause.getMessage(), cause);
    } catch (TimeoutException e) {
      future.cancel(true);
      if (closed.getAsBoolean()) {
        throw closedException();
      }
      throw new io.dstore.server.internal.BackendUnavailableException(
          where + " did not answer " + operation + " within " + limit.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (future != null) {
        future.cancel(true);
      }
      InterruptedIOException ie =
          new InterruptedIOException("interrupted during etcd " + operation);
      ie.initCause(e);
      throw ie;
    } catch (RuntimeException e) { // a closed client throws instead of failing the future
      if (closed.getAsBoolean()) {
        throw closedException();
      }
      throw new io.dstore.server.internal.BackendUnavailableException(
          where + " failed to " + operation + ": " + e, e);
    } finally {
      stats.timer("etcd." + operation).record(System.nanoTime() - start, failed);
    }
  }

  /** Receives the keys of a scan, in key order. */
  @FunctionalInterface
  interface Visitor {
    void visit(KeyValue kv) throws IOException;
  }

  /**
   * Visits every key under {@code prefix} as of one revision, in pages, and returns that revision.
   *
   * @param revision the revision to read at, or 0 for the current one
   * @param keysOnly whether values are not needed
   */
  long scan(ByteSequence prefix, long revision, boolean keysOnly, Visitor visitor)
      throws IOException {
    ByteSequence end = prefixEnd(prefix);
    ByteSequence from = prefix;
    long at = revision;
    while (true) {
      GetOption.Builder option =
          GetOption.builder().withRange(end).withLimit(PAGE).withKeysOnly(keysOnly);
      if (at > 0) {
        option.withRevision(at);
      }
      ByteSequence start = from;
      GetResponse page = read("scan", () -> kv.get(start, option.build()));
      if (at == 0) {
        at = page.getHeader().getRevision();
      }
      for (KeyValue kv : page.getKvs()) {
        visitor.visit(kv);
      }
      if (!page.isMore() || page.getKvs().isEmpty()) {
        return at;
      }
      byte[] last = page.getKvs().get(page.getKvs().size() - 1).getKey().getBytes();
      byte[] next = java.util.Arrays.copyOf(last, last.length + 1); // the next key after it
      from = ByteSequence.from(next);
    }
  }

  /** The smallest key greater than every key starting with {@code prefix}. */
  static ByteSequence prefixEnd(ByteSequence prefix) {
    byte[] end = prefix.getBytes();
    for (int i = end.length - 1; i >= 0; i--) {
      if (end[i] != (byte) 0xFF) {
        end[i]++;
        return ByteSequence.from(java.util.Arrays.copyOf(end, i + 1));
      }
    }
    return ByteSequence.from(new byte[] {0}); // the whole key space
  }
}
