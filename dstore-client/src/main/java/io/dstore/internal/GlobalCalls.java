package io.dstore.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.dstore.ValueInfo;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.DeleteResponse;
import io.dstore.proto.GetChunk;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GetResponse;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.JoinResponse;
import io.dstore.proto.KeyGeneration;
import io.dstore.proto.LeaveRequest;
import io.dstore.proto.PipelineRequest;
import io.dstore.proto.PipelineResponse;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.RevalidateRequest;
import io.dstore.proto.RevalidateResponse;
import io.dstore.proto.StatRequest;
import io.dstore.wire.ByteRange;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The calls a Local makes to Global, blocking, with deadlines, and with every failure converted to
 * a {@link DstoreException}. Streamed transfers respect flow control in both directions: an upload
 * sends a chunk only when the transport is ready, a download asks for the next chunk only after the
 * last one was written out, so memory use does not grow with the value. Thread-safe.
 */
final class GlobalCalls {
  private static final HexFormat HEX = HexFormat.of();

  private final Channel channel;
  private final String target;
  private final Duration timeout;
  private final int chunkSize;
  private final GlobalGrpc.GlobalBlockingStub blocking;
  private final Pipeline pipeline;
  private volatile Reconnect reconnect; // null: calls go ahead without trying to reconnect first

  /**
   * Values up to this size travel on the pipeline (puts, and gets answered inline); larger ones get
   * calls of their own, so that one big value never holds up the small ones queued behind it.
   */
  static final int PIPELINED_BYTES = 256 << 10;

  GlobalCalls(Channel channel, String target, Duration timeout, int chunkSize) {
    this.channel = channel;
    this.target = target;
    this.timeout = timeout;
    this.chunkSize = chunkSize;
    this.blocking = GlobalGrpc.newBlockingStub(channel);
    this.pipeline = new Pipeline(channel, target);
  }

  String target() {
    return target;
  }

  /**
   * From now on every call a caller makes (put, get, stat, delete, the streamed ones) first lets
   * {@code reconnect} try to reach Global if the channel is failing (see {@link Reconnect}).
   */
  void reconnectBeforeCalls(Reconnect reconnect) {
    this.reconnect = reconnect;
  }

  private void beforeCall() {
    Reconnect r = reconnect;
    if (r != null) {
      r.beforeCall(timeout);
    }
  }

  GlobalGrpc.GlobalStub asyncStub() {
    return GlobalGrpc.newStub(channel);
  }

  PutResponse put(Key key, byte[] value, byte[] sha256) {
    beforeCall();
    PutRequest request =
        PutRequest.newBuilder()
            .setKey(key.toByteString())
            .setValue(UnsafeByteOperations.unsafeWrap(value))
            .setSha256(UnsafeByteOperations.unsafeWrap(sha256))
            .build();
    if (value.length <= PIPELINED_BYTES) {
      PipelineResponse answer = pipelined(PipelineRequest.newBuilder().setPut(request));
      if (answer != null) {
        return answer.getPut();
      }
    }
    return call(() -> withDeadline().put(request));
  }

  GetResponse get(Key key, ByteRange range) {
    beforeCall();
    GetRequest request = getRequest(key, range);
    PipelineResponse answer =
        pipelined(
            PipelineRequest.newBuilder()
                .setGet(request.toBuilder().setMaxInlineBytes(PIPELINED_BYTES)));
    if (answer != null) {
      return answer.getGet();
    }
    return call(() -> withDeadline().get(request));
  }

  ValueInfo stat(Key key) {
    beforeCall();
    StatRequest request = StatRequest.newBuilder().setKey(key.toByteString()).build();
    PipelineResponse answer = pipelined(PipelineRequest.newBuilder().setStat(request));
    if (answer != null) {
      return toInfo(answer.getStat().getInfo());
    }
    return call(() -> toInfo(withDeadline().stat(request).getInfo()));
  }

  DeleteResponse delete(Key key) {
    beforeCall();
    DeleteRequest request = DeleteRequest.newBuilder().setKey(key.toByteString()).build();
    PipelineResponse answer = pipelined(PipelineRequest.newBuilder().setDelete(request));
    if (answer != null) {
      return answer.getDelete();
    }
    return call(() -> withDeadline().delete(request));
  }

  /**
   * Sends a small call on the shared pipeline; null if the target does not serve pipelines (the
   * caller then makes the unary call, which behaves the same).
   */
  private PipelineResponse pipelined(PipelineRequest.Builder request) {
    if (!pipeline.supported()) {
      return null;
    }
    try {
      return pipeline.call(request, timeout);
    } catch (Pipeline.Unsupported e) {
      return null;
    }
  }

  /** Ends the pipeline stream; calls made afterwards open a new one. */
  void close() {
    pipeline.close();
  }

  JoinResponse join(String name) {
    return call(() -> withDeadline().join(JoinRequest.newBuilder().setName(name).build()));
  }

  void leave(String localId, Duration deadline) {
    call(
        () ->
            blocking
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .leave(LeaveRequest.newBuilder().setLocalId(localId).build()));
  }

  RevalidateResponse revalidate(List<KeyGeneration> entries) {
    return call(
        () ->
            withDeadline()
                .revalidate(RevalidateRequest.newBuilder().addAllEntries(entries).build()));
  }

  /**
   * Uploads {@code in} in chunks under {@code key} (or content-addressed when key is null), sending
   * the SHA-256 computed on the way in the last message.
   */
  PutResponse putStream(Key key, InputStream in, long size) {
    beforeCall();
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    ReentrantLock lock = new ReentrantLock();
    Condition ready = lock.newCondition();
    @SuppressWarnings("unchecked")
    ClientCallStreamObserver<PutChunk>[] requests = new ClientCallStreamObserver[1];
    ClientResponseObserver<PutChunk, PutResponse> responses =
        new ClientResponseObserver<>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<PutChunk> stream) {
            requests[0] = stream;
            stream.setOnReadyHandler(() -> signal(lock, ready));
          }

          @Override
          public void onNext(PutResponse value) {
            result.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(t);
            signal(lock, ready);
          }

          @Override
          public void onCompleted() {
            signal(lock, ready);
          }
        };
    asyncStub().putStream(responses);
    ClientCallStreamObserver<PutChunk> stream = requests[0];
    PutHeader.Builder header = PutHeader.newBuilder();
    if (size >= 0) {
      header.setSize(size); // unset: unknown
    }
    if (key == null) {
      header.setContentAddressed(true);
    } else {
      header.setKey(key.toByteString());
    }
    MessageDigest digest = Sha256.newDigest();
    try {
      boolean first = true;
      while (true) {
        awaitReady(stream, result, lock, ready);
        if (result.isDone()) {
          break; // Global answered (with an error) before the end: stop sending
        }
        byte[] buf = new byte[chunkSize];
        int n = in.readNBytes(buf, 0, chunkSize);
        PutChunk.Builder chunk = PutChunk.newBuilder();
        if (first) {
          chunk.setHeader(header);
          first = false;
        }
        if (n > 0) {
          digest.update(buf, 0, n);
          chunk.setData(UnsafeByteOperations.unsafeWrap(buf, 0, n));
        }
        if (n < chunkSize) {
          chunk.setSha256(ByteString.copyFrom(digest.digest()));
          stream.onNext(chunk.build());
          stream.onCompleted();
          break;
        }
        stream.onNext(chunk.build());
      }
    } catch (IOException e) {
      stream.cancel("reading the value failed", e);
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "cannot read the value to upload: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      stream.cancel("upload failed", e);
      throw e;
    }
    return await(result);
  }

  /**
   * What a download brought.
   *
   * @param info the value's metadata
   * @param cacheable false when Global said the key is being deleted
   * @param fromCache true when a Local daemon answered from its cache
   */
  record Download(ValueInfo info, boolean cacheable, boolean fromCache) {}

  /** Streams a value (or range) to {@code out}; verifies the SHA-256 when the whole was read. */
  Download getStream(Key key, ByteRange range, ChunkSink out) {
    beforeCall();
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      Iterator<GetChunk> chunks =
          GlobalGrpc.newBlockingStub(channel)
              .getStream(getRequest(key, range).toBuilder().setChunkSize(chunkSize).build());
      ValueInfo info = null;
      boolean cacheable = true;
      boolean fromCache = false;
      MessageDigest digest = Sha256.newDigest();
      long received = 0;
      while (chunks.hasNext()) {
        GetChunk chunk = chunks.next();
        if (info == null) {
          if (!chunk.hasInfo()) {
            throw new DstoreException(ErrorCode.INTERNAL, "stream began without metadata");
          }
          info = toInfo(chunk.getInfo());
          cacheable = !chunk.getDeleting();
          fromCache = chunk.getFromCache();
          out.begin(info);
        }
        ByteString data = chunk.getData();
        if (!data.isEmpty()) {
          Sha256.update(digest, data);
          out.write(data);
          received += data.size();
        }
      }
      if (info == null) {
        throw new DstoreException(ErrorCode.INTERNAL, "stream ended without metadata");
      }
      boolean whole = range.isWhole();
      long expected = range.within(info.size()).length();
      if (received != expected) {
        throw new DstoreException(
            ErrorCode.UNAVAILABLE,
            "download ended after " + received + " of " + expected + " bytes");
      }
      if (whole) {
        String actual = HEX.formatHex(digest.digest());
        if (!actual.equals(info.sha256())) {
          throw new DstoreException(
              ErrorCode.INTEGRITY,
              "downloaded bytes hash to " + actual + ", Global says " + info.sha256());
        }
      }
      return new Download(info, cacheable, fromCache);
    } catch (IOException e) {
      context.cancel(e);
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "cannot write the value out: " + e.getMessage(), e);
    } catch (DstoreException e) {
      context.cancel(e);
      throw e;
    } catch (RuntimeException e) {
      context.cancel(e);
      throw GrpcErrors.toException(e, target);
    } finally {
      context.detach(previous);
      context.cancel(null);
    }
  }

  /** Where a download goes. */
  interface ChunkSink {
    void begin(ValueInfo info) throws IOException;

    void write(ByteString data) throws IOException;
  }

  /** A sink writing to an output stream. */
  static ChunkSink to(OutputStream out) {
    return new ChunkSink() {
      @Override
      public void begin(ValueInfo info) {}

      @Override
      public void write(ByteString data) throws IOException {
        data.writeTo(out);
      }
    };
  }

  static ValueInfo toInfo(io.dstore.proto.ValueInfo p) {
    return new ValueInfo(
        p.getSize(), p.getGeneration(), HEX.formatHex(p.getSha256().toByteArray()));
  }

  private static GetRequest getRequest(Key key, ByteRange range) {
    return range.applyTo(GetRequest.newBuilder().setKey(key.toByteString())).build();
  }

  private GlobalGrpc.GlobalBlockingStub withDeadline() {
    return blocking.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private <T> T call(java.util.function.Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (DstoreException e) {
      throw e;
    } catch (RuntimeException e) {
      throw GrpcErrors.toException(e, target);
    }
  }

  private void awaitReady(
      ClientCallStreamObserver<PutChunk> stream,
      CompletableFuture<PutResponse> result,
      ReentrantLock lock,
      Condition ready) {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (!stream.isReady() && !result.isDone()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          stream.cancel("upload stalled", null);
          throw new DstoreException(
              ErrorCode.UNAVAILABLE,
              "upload to " + target + " stalled for " + timeout.toSeconds() + " s");
        }
        ready.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stream.cancel("interrupted", e);
      throw new DstoreException(ErrorCode.UNAVAILABLE, "interrupted during upload", e);
    } finally {
      lock.unlock();
    }
  }

  private PutResponse await(CompletableFuture<PutResponse> result) {
    try {
      return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw GrpcErrors.toException(e.getCause(), target);
    } catch (TimeoutException e) {
      throw new DstoreException(
          ErrorCode.UNAVAILABLE, "Global at " + target + " did not confirm the upload in time", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DstoreException(ErrorCode.UNAVAILABLE, "interrupted during upload", e);
    }
  }

  private static void signal(ReentrantLock lock, Condition ready) {
    lock.lock();
    try {
      ready.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
