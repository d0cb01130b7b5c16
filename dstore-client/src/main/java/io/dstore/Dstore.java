package io.dstore;

import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A Local: the application's handle on dstore. It serves reads of immutable values from an
 * in-memory cache and goes to Global for everything else, keeping the cache coherent.
 *
 * <p><b>Semantics.</b> Keys (1 to 1,024 bytes) are write-once: {@link #put} fails with {@link
 * ErrorCode#ALREADY_EXISTS} while the key exists, whatever the value. After {@link #delete} a key
 * may be created again, with a new generation. In Global's default strict coherence mode, once
 * {@code delete(k)} has returned, no Local anywhere returns the deleted value of {@code k}: reads
 * are linearizable even though hits are served from local memory.
 *
 * <p><b>Errors.</b> Every method throws {@link DstoreException} and nothing else; its {@link
 * DstoreException#code() code} says why. {@code null} arguments throw {@link NullPointerException}.
 * Async variants complete exceptionally with a {@link DstoreException} instead of throwing.
 *
 * <p><b>Threads.</b> Thread-safe; one instance is meant to be shared by the whole process. Blocking
 * methods may be called from any thread except a gRPC callback thread.
 *
 * <p><b>Bytes.</b> Arrays passed in are copied before the call returns; arrays returned are the
 * caller's to keep. {@link #getBuffer} avoids the copy by returning a read-only view.
 */
public interface Dstore extends AutoCloseable {

  /**
   * Connects a Local to Global at {@code target} ({@code host:port}) with default options. Returns
   * at once; the connection is made in the background and re-made whenever it breaks, so this does
   * not fail when Global is down. {@link #awaitReady} waits for it.
   *
   * <p><b>A cluster store.</b> {@code target} may list several gateways of one cluster store,
   * separated by commas ({@code "h1:50051,h2:50051"}). The Local talks to one at a time, starting
   * with the first listed, and moves to the next (round robin) when its gateway dies or cannot be
   * reached; its subscription resumes there from the last event it applied. A read that fails
   * {@link ErrorCode#UNAVAILABLE} is retried once on the next gateway within its timeout; cache
   * hits go on being served while the lease holds. Every put and delete carries a random request
   * id; one cut off after it may have been sent is retried once on the next gateway with the same
   * id, so it takes effect once, and fails {@link ErrorCode#OUTCOME_UNKNOWN} if the retry is cut
   * off too (a put from an {@link InputStream} already partly sent cannot be sent again: it fails
   * {@code OUTCOME_UNKNOWN} at once). With a single address nothing is retried, exactly as before.
   *
   * @throws DstoreException {@link ErrorCode#INVALID_ARGUMENT} if {@code target} is not {@code
   *     host:port}, or a list of them, each with a port from 1 to 65535; or if the list has an
   *     empty entry or names an address twice
   */
  static Dstore connect(String target) {
    return connect(target, DstoreOptions.defaults());
  }

  /**
   * As {@link #connect(String)}, with options.
   *
   * @throws DstoreException {@link ErrorCode#INVALID_ARGUMENT} if {@code target} is not {@code
   *     host:port}, or the options cannot be used: a TLS file that cannot be read or holds no
   *     usable certificate or key, a token that cannot travel in a header
   */
  static Dstore connect(String target, DstoreOptions options) {
    return io.dstore.internal.LocalStore.connect(target, options);
  }

  /**
   * Creates {@code key} with {@code value} and caches it here.
   *
   * @return the generation of the new value
   * @throws DstoreException {@link ErrorCode#ALREADY_EXISTS} if the key exists; the existing value
   *     is then cached here (answered locally, without a network call, when it already was)
   */
  long put(byte[] key, byte[] value);

  /** As {@link #put(byte[], byte[])}, reading the remaining bytes of {@code value}. */
  long put(byte[] key, ByteBuffer value);

  /**
   * Creates {@code key} from a stream, in chunks, without holding the value in memory. The SHA-256
   * is computed on the way and checked by Global before the value becomes visible; if anything
   * fails, nothing is left behind.
   *
   * @param size the number of bytes {@code value} will yield, or -1 if unknown
   */
  long put(byte[] key, InputStream value, long size);

  /**
   * Creates {@code key} from the bytes of {@code file}, streamed in chunks as {@link #put(byte[],
   * InputStream, long)} does. Unlike a stream, a file can be read again: with several gateways, an
   * upload cut off after it was sent is retried on the next one (see {@link #connect(String)}).
   *
   * @throws DstoreException {@link ErrorCode#INVALID_ARGUMENT} if the file cannot be read
   */
  long put(byte[] key, java.nio.file.Path file);

  /**
   * Stores {@code value} under {@code sha256:<hex of its SHA-256>} and returns that key. Storing
   * the same content again succeeds and changes nothing.
   */
  String putContent(byte[] value);

  /** As {@link #putContent(byte[])}, streaming the value (two passes are not needed). */
  String putContent(InputStream value, long size);

  /**
   * Returns the value of {@code key}: from the cache when it holds it, else from Global (and then
   * caches it, if it is small enough to be admitted).
   *
   * @throws DstoreException {@link ErrorCode#NOT_FOUND} if the key does not exist
   */
  byte[] get(byte[] key);

  /** As {@link #get(byte[])}, returning a read-only view of the bytes without copying. */
  ByteBuffer getBuffer(byte[] key);

  /** As {@link #get(byte[])}, also telling the value's metadata and whether it was a cache hit. */
  Entry getEntry(byte[] key);

  /**
   * Returns {@code length} bytes of the value starting at {@code offset}, moving only those bytes
   * over the network when the value is not cached.
   *
   * @throws DstoreException {@link ErrorCode#INVALID_ARGUMENT} if the range is negative or goes
   *     past the end of the value
   */
  byte[] get(byte[] key, long offset, int length);

  /**
   * Writes the whole value of {@code key} to {@code out}, streaming it in chunks, and verifies its
   * SHA-256 at the end ({@link ErrorCode#INTEGRITY} on mismatch, after the bytes were written).
   * Large values are not cached. Does not close {@code out}.
   *
   * @return the value's metadata
   */
  ValueInfo get(byte[] key, OutputStream out);

  /**
   * Writes {@code length} bytes of the value from {@code offset} to {@code out}; {@code length} -1
   * means to the end.
   */
  ValueInfo get(byte[] key, long offset, long length, OutputStream out);

  /** The size, generation and SHA-256 of a value, without the value. */
  ValueInfo stat(byte[] key);

  /**
   * Deletes {@code key} from Global and from every Local's cache. In strict mode it returns only
   * once no Local can serve the old value any more.
   *
   * @return the generation that was deleted
   * @throws DstoreException {@link ErrorCode#NOT_FOUND} if the key does not exist
   */
  long delete(byte[] key);

  /**
   * Whether this Local holds {@code key} in its cache and may serve it now (its lease is valid), so
   * that a {@link #get} would be a hit and a {@link #put} would be refused without a network call.
   */
  boolean isCached(byte[] key);

  CompletableFuture<Long> putAsync(byte[] key, byte[] value);

  CompletableFuture<byte[]> getAsync(byte[] key);

  CompletableFuture<ValueInfo> statAsync(byte[] key);

  CompletableFuture<Long> deleteAsync(byte[] key);

  /**
   * Waits until this Local can serve: a caching Local ({@link DstoreOptions#coherentCache()}) has
   * joined Global, its subscription is in sync and it holds a lease, so cache hits are served from
   * now on (while the lease is renewed); a thin client has a connection to its target. Returns at
   * once when that is so already. Not needed for correctness: calls made earlier go to Global.
   *
   * <p>The wait is woken by the Local's own state changes (a lease granted, the Local closed), not
   * by polling.
   *
   * @param timeout the longest wait; zero checks once
   * @throws DstoreException {@link ErrorCode#UNAVAILABLE} if the Local is not ready by then (the
   *     message names what it was still waiting for: joining Global, the subscription, a lease, a
   *     connection), if it is closed or if the waiting thread is interrupted (its interrupt status
   *     is set again); {@link ErrorCode#INVALID_ARGUMENT} if {@code timeout} is negative
   */
  void awaitReady(Duration timeout);

  /** Cache and coherence figures now. */
  LocalStats stats();

  /**
   * The address of Global (or of the daemon) this Local talks to: with several gateways, the one it
   * talks to now.
   */
  String target();

  /**
   * Leaves Global and releases connections and threads. Idempotent. Calls made afterwards fail with
   * {@link ErrorCode#UNAVAILABLE}.
   */
  @Override
  void close();
}
