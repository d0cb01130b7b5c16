package io.dstore.daemon.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.dstore.Dstore;
import io.dstore.Entry;
import io.dstore.ValueInfo;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.DeleteResponse;
import io.dstore.proto.Event;
import io.dstore.proto.GetChunk;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GetResponse;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.JoinResponse;
import io.dstore.proto.LeaveRequest;
import io.dstore.proto.LeaveResponse;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutResponse;
import io.dstore.proto.RevalidateRequest;
import io.dstore.proto.RevalidateResponse;
import io.dstore.proto.StatRequest;
import io.dstore.proto.StatResponse;
import io.dstore.proto.SubscribeRequest;
import io.dstore.wire.ByteRange;
import io.dstore.wire.ContentKey;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A Local daemon's gRPC service: the data calls of the {@code Global} service (Put, Get, Stat,
 * Delete, PutStream, GetStream), answered by calling one {@link Dstore}, so every process on the
 * host shares its cache. {@code from_cache} tells the caller when a read was a hit. Join, Leave,
 * Subscribe and Revalidate are Global's alone: UNIMPLEMENTED here.
 *
 * <p><b>Threads.</b> The {@link Dstore} blocks, so unary calls run on the server's executor (meant
 * to be virtual threads), and each stream runs its transfer on {@code work} while gRPC callbacks
 * only hand chunks over: an upload requests the next chunk only once the Local took the last (one
 * chunk of memory per upload); a download sends only while the transport is ready. Either side idle
 * for {@code idleTimeout} ends the stream. Errors leave as statuses with the typed trailer ({@link
 * GrpcErrors#toStatus}). Thread-safe.
 */
public final class DaemonService extends GlobalGrpc.GlobalImplBase {
  private static final HexFormat HEX = HexFormat.of();
  private static final int MIN_CHUNK = 4 << 10;
  private static final int MAX_CHUNK = 4 << 20;
  private static final int DEFAULT_CHUNK = 1 << 20;

  private final Dstore dstore;
  private final int inlineValueBytes;
  private final Executor work;
  private final Duration idleTimeout;

  /**
   * @param inlineValueBytes largest value (or range) answered inline by unary Get; larger ones are
   *     answered {@code streamed}
   */
  public DaemonService(Dstore dstore, int inlineValueBytes, Executor work, Duration idleTimeout) {
    this.dstore = dstore;
    this.inlineValueBytes = inlineValueBytes;
    this.work = work;
    this.idleTimeout = idleTimeout;
  }

  // ---- unary ------------------------------------------------------------------------------

  @Override
  public void put(io.dstore.proto.PutRequest request, StreamObserver<PutResponse> responses) {
    unary(
        responses,
        () -> {
          byte[] key = request.getKey().toByteArray();
          byte[] value = request.getValue().toByteArray();
          byte[] sha = Sha256.of(value);
          if (!request.getSha256().isEmpty()) {
            checkClaimedSha(request.getSha256(), sha);
          }
          return store(key, sha, value.length, () -> dstore.put(key, value), value);
        });
  }

  /** Puts through the Local; a content key of these very bytes is idempotent, as on Global. */
  private PutResponse store(byte[] key, byte[] sha, long size, Supplier<Long> put, byte[] value) {
    if (Arrays.equals(key, ContentKey.of(sha).getBytes(StandardCharsets.US_ASCII))) {
      boolean existed = exists(key);
      dstore.putContent(value);
      return putResponse(key, dstore.stat(key), !existed);
    }
    long generation = put.get();
    return putResponse(key, new ValueInfo(size, generation, HEX.formatHex(sha)), true);
  }

  private boolean exists(byte[] key) {
    try {
      dstore.stat(key);
      return true;
    } catch (DstoreException e) {
      if (e.code() == ErrorCode.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
    unary(
        responses,
        () -> {
          checkGetRequest(request);
          int inline =
              request.getMaxInlineBytes() == 0
                  ? inlineValueBytes
                  : Math.min(request.getMaxInlineBytes(), inlineValueBytes);
          byte[] key = request.getKey().toByteArray();
          if (!request.hasOffset() && !request.hasLength()) {
            if (!dstore.isCached(key)) {
              ValueInfo info = dstore.stat(key); // big values are not fetched just to be refused
              if (info.size() > inline) {
                return GetResponse.newBuilder().setInfo(toProto(info)).setStreamed(true).build();
              }
            }
            Entry e = dstore.getEntry(key);
            GetResponse.Builder b =
                GetResponse.newBuilder().setInfo(toProto(e.info())).setFromCache(e.fromCache());
            return e.info().size() > inline
                ? b.setStreamed(true).build()
                : b.setValue(UnsafeByteOperations.unsafeWrap(e.value())).build();
          }
          boolean cached = dstore.isCached(key);
          ValueInfo info = dstore.stat(key);
          ByteRange.Span range = ByteRange.of(request).within(info.size());
          GetResponse.Builder b = GetResponse.newBuilder().setInfo(toProto(info));
          if (range.length() > inline) {
            return b.setStreamed(true).build();
          }
          byte[] bytes = dstore.get(key, range.offset(), (int) range.length());
          return b.setValue(UnsafeByteOperations.unsafeWrap(bytes)).setFromCache(cached).build();
        });
  }

  @Override
  public void stat(StatRequest request, StreamObserver<StatResponse> responses) {
    unary(
        responses,
        () ->
            StatResponse.newBuilder()
                .setInfo(toProto(dstore.stat(request.getKey().toByteArray())))
                .build());
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> responses) {
    unary(
        responses,
        () ->
            DeleteResponse.newBuilder()
                .setGeneration(dstore.delete(request.getKey().toByteArray()))
                .build());
  }

  // ---- Global's own calls -----------------------------------------------------------------

  private static final String NOT_HERE =
      "this is a Local daemon: it serves Put, Get, Stat, Delete and their streams; connect with"
          + " coherentCache(false), or point a caching Local at Global itself";

  @Override
  public void join(JoinRequest request, StreamObserver<JoinResponse> responses) {
    responses.onError(Status.UNIMPLEMENTED.withDescription(NOT_HERE).asRuntimeException());
  }

  @Override
  public void leave(LeaveRequest request, StreamObserver<LeaveResponse> responses) {
    responses.onError(Status.UNIMPLEMENTED.withDescription(NOT_HERE).asRuntimeException());
  }

  @Override
  public StreamObserver<SubscribeRequest> subscribe(StreamObserver<Event> responses) {
    responses.onError(Status.UNIMPLEMENTED.withDescription(NOT_HERE).asRuntimeException());
    return new StreamObserver<>() {
      @Override
      public void onNext(SubscribeRequest value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  @Override
  public void revalidate(RevalidateRequest request, StreamObserver<RevalidateResponse> responses) {
    responses.onError(Status.UNIMPLEMENTED.withDescription(NOT_HERE).asRuntimeException());
  }

  // ---- streams ----------------------------------------------------------------------------

  @Override
  public StreamObserver<PutChunk> putStream(StreamObserver<PutResponse> responses) {
    return new DaemonUpload(
        (ServerCallStreamObserver<PutResponse>) responses,
        dstore,
        work,
        idleTimeout,
        inlineValueBytes);
  }

  @Override
  public void getStream(GetRequest request, StreamObserver<GetChunk> responses) {
    ServerCallStreamObserver<GetChunk> out = (ServerCallStreamObserver<GetChunk>) responses;
    Gate gate = new Gate(out);
    work.execute(() -> download(request, out, gate));
  }

  private void download(GetRequest request, ServerCallStreamObserver<GetChunk> out, Gate gate) {
    try {
      checkGetRequest(request);
      int chunk = request.getChunkSize() == 0 ? DEFAULT_CHUNK : request.getChunkSize();
      chunk = Math.min(chunk, inlineValueBytes);
      byte[] key = request.getKey().toByteArray();
      if (dstore.isCached(key)) {
        Entry e = dstore.getEntry(key);
        ByteRange.Span range = ByteRange.of(request).within(e.info().size());
        byte[] value = e.value();
        GetChunk.Builder first =
            GetChunk.newBuilder().setInfo(toProto(e.info())).setFromCache(e.fromCache());
        long pos = range.offset();
        long end = range.offset() + range.length();
        do {
          int n = (int) Math.min(chunk, end - pos);
          GetChunk.Builder c = first != null ? first : GetChunk.newBuilder();
          first = null;
          gate.send(c.setData(UnsafeByteOperations.unsafeWrap(value, (int) pos, n)).build());
          pos += n;
        } while (pos < end);
      } else {
        ValueInfo info = dstore.stat(key);
        ByteRange.Span range = ByteRange.of(request).within(info.size());
        gate.send(GetChunk.newBuilder().setInfo(toProto(info)).build());
        ChunkingStream sink = new ChunkingStream(gate, chunk);
        boolean whole = !request.hasOffset() && !request.hasLength();
        // The whole value is read as such, so that the Local may cache it on the way.
        ValueInfo read =
            whole ? dstore.get(key, sink) : dstore.get(key, range.offset(), range.length(), sink);
        sink.flush();
        if (!read.equals(info)) {
          throw new DstoreException(
              ErrorCode.UNAVAILABLE,
              "the key was deleted and created again during the read; retry");
        }
      }
      gate.complete();
    } catch (RuntimeException e) {
      gate.fail(e);
    }
  }

  /**
   * The sending side of one download: blocks the transfer thread until the transport is ready,
   * gives up when the client reads nothing for the idle timeout or cancels.
   */
  private final class Gate {
    private final ServerCallStreamObserver<GetChunk> out;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private volatile boolean cancelled;
    private boolean ended;

    Gate(ServerCallStreamObserver<GetChunk> out) {
      this.out = out;
      out.setOnReadyHandler(this::signal);
      out.setOnCancelHandler(
          () -> {
            cancelled = true;
            signal();
          });
    }

    private void signal() {
      lock.lock();
      try {
        ready.signalAll();
      } finally {
        lock.unlock();
      }
    }

    void send(GetChunk chunk) {
      // A timed wait on the condition, which counts down itself: no clock is read here.
      long left = idleTimeout.toNanos();
      lock.lock();
      try {
        while (!out.isReady() && !cancelled) {
          if (left <= 0) {
            throw new Idle();
          }
          left = ready.awaitNanos(left);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DstoreException(ErrorCode.UNAVAILABLE, "Local daemon is shutting down", e);
      } finally {
        lock.unlock();
      }
      if (cancelled) {
        throw new Cancelled();
      }
      out.onNext(chunk);
    }

    void complete() {
      if (!ended && !cancelled) {
        ended = true;
        out.onCompleted();
      }
    }

    void fail(RuntimeException e) {
      if (ended || cancelled || e instanceof Cancelled) {
        return;
      }
      ended = true;
      if (e instanceof Idle) {
        out.onError(
            Status.DEADLINE_EXCEEDED
                .withDescription(
                    "download cut off: the client read nothing for "
                        + idleTimeout.toMillis()
                        + " ms (the daemon's idle stream timeout)")
                .asRuntimeException());
        return;
      }
      out.onError(GrpcErrors.toStatus(e));
    }
  }

  /** The client stopped reading. */
  private static final class Idle extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Idle() {
      super(null, null, false, false);
    }
  }

  /** The client cancelled. */
  private static final class Cancelled extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Cancelled() {
      super(null, null, false, false);
    }
  }

  /** Cuts what the Local writes into chunks for the gate. */
  private static final class ChunkingStream extends OutputStream {
    private final Gate gate;
    private final byte[] buf;
    private int n;

    ChunkingStream(Gate gate, int chunk) {
      this.gate = gate;
      this.buf = new byte[chunk];
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      while (len > 0) {
        int m = Math.min(len, buf.length - n);
        System.arraycopy(b, off, buf, n, m);
        n += m;
        off += m;
        len -= m;
        if (n == buf.length) {
          flush();
        }
      }
    }

    @Override
    public void flush() {
      if (n > 0) {
        gate.send(GetChunk.newBuilder().setData(ByteString.copyFrom(buf, 0, n)).build());
        n = 0;
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** {@code chunk_size} and {@code max_inline_bytes} in their documented ranges, as on Global. */
  private void checkGetRequest(GetRequest request) {
    int chunk = request.getChunkSize();
    if (chunk != 0 && (chunk < MIN_CHUNK || chunk > MAX_CHUNK)) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT,
          "chunk_size is "
              + chunk
              + ": it must be 0 (the server's default, "
              + DEFAULT_CHUNK
              + " bytes) or "
              + MIN_CHUNK
              + " to "
              + MAX_CHUNK
              + " bytes");
    }
    if (request.getMaxInlineBytes() < 0) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT,
          "max_inline_bytes is "
              + request.getMaxInlineBytes()
              + ": it must be 0 (the server's inline limit, "
              + inlineValueBytes
              + " bytes) or 1 to "
              + Integer.MAX_VALUE
              + " bytes");
    }
  }

  static void checkClaimedSha(ByteString claimed, byte[] actual) {
    if (claimed.size() != 32) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "SHA-256 is " + claimed.size() + " bytes, not 32");
    }
    if (!Arrays.equals(claimed.toByteArray(), actual)) {
      throw new DstoreException(
          ErrorCode.INTEGRITY,
          "value does not match its SHA-256: sent "
              + HEX.formatHex(claimed.toByteArray())
              + ", bytes hash to "
              + HEX.formatHex(actual));
    }
  }

  static PutResponse putResponse(byte[] key, ValueInfo info, boolean created) {
    return PutResponse.newBuilder()
        .setKey(ByteString.copyFrom(key))
        .setInfo(toProto(info))
        .setCreated(created)
        .build();
  }

  static io.dstore.proto.ValueInfo toProto(ValueInfo info) {
    return io.dstore.proto.ValueInfo.newBuilder()
        .setSize(info.size())
        .setGeneration(info.generation())
        .setSha256(UnsafeByteOperations.unsafeWrap(HEX.parseHex(info.sha256())))
        .build();
  }

  private static <T> void unary(StreamObserver<T> responses, Supplier<T> body) {
    T result;
    try {
      result = body.get();
    } catch (RuntimeException e) {
      responses.onError(GrpcErrors.toStatus(e));
      return;
    }
    responses.onNext(result);
    responses.onCompleted();
  }
}
