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
import io.grpc.ConnectivityState;
import io.grpc.Context;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.security.MessageDigest;
import java.security.SecureRandom;
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
 *
 * <p><b>Several gateways.</b> Calls go to the {@linkplain Gateways#current() current gateway}. A
 * call that fails UNAVAILABLE (from the transport, or typed) moves the Local to the next gateway.
 * With more than one gateway configured:
 *
 * <ul>
 *   <li>a call whose gateway cannot be reached before it is sent (the channel's connection attempt
 *       failed) goes to the next gateway instead, having sent nothing;
 *   <li>a read (get, stat, a download that wrote nothing out yet) is retried once on the next
 *       gateway, within the call's deadline;
 *   <li>a write (put, streamed put, delete) carries a random 16-byte request id, made once per
 *       logical write; if it fails UNAVAILABLE after it may have been sent, it is retried once on
 *       the next gateway with the same id, and the gateway answers as the first attempt would. A
 *       streamed put from a caller's InputStream cannot be sent again: it is not retried once any
 *       byte was sent. When the retry fails UNAVAILABLE too (or was impossible), the caller gets
 *       {@link ErrorCode#OUTCOME_UNKNOWN}: never a definite answer the Local cannot know.
 * </ul>
 *
 * <p>With one gateway nothing is retried: every call answers as it always did.
 *
 * <p><b>Another store.</b> Before a call goes to a gateway known to have another incarnation than
 * the one the Local's cache belongs to, {@link #onForeignStore} runs: the Local treats it as a
 * Resync (stops serving hits and caching fills until its subscription has revalidated there).
 */
final class GlobalCalls {
  private static final HexFormat HEX = HexFormat.of();
  private static final SecureRandom IDS = new SecureRandom();

  /** Bytes of a request id. */
  static final int REQUEST_ID_BYTES = 16;

  private final Gateways gateways;
  private final Duration timeout;
  private final int chunkSize;
  private volatile Runnable foreignStore = () -> {};
  private volatile Runnable unverifiedStore = () -> {};

  /**
   * Values up to this size travel on the pipeline (puts, and gets answered inline); larger ones get
   * calls of their own, so that one big value never holds up the small ones queued behind it.
   */
  static final int PIPELINED_BYTES = 256 << 10;

  GlobalCalls(Gateways gateways, Duration timeout, int chunkSize) {
    this.gateways = gateways;
    this.timeout = timeout;
    this.chunkSize = chunkSize;
  }

  /** The address of the gateway calls go to now. */
  String target() {
    return gateways.current().target();
  }

  Gateways gateways() {
    return gateways;
  }

  /**
   * Runs {@code action} before a call goes to a gateway known to be another store (see the class
   * comment).
   */
  void onForeignStore(Runnable action) {
    this.foreignStore = action;
  }

  /**
   * Runs {@code action} before a call moves to a gateway whose incarnation is not known yet (it has
   * not answered a Join or a Subscribe of this Local): what it answers is not cached until the
   * subscription has been welcomed there and knows whether it is the same store.
   */
  void onUnverifiedStore(Runnable action) {
    this.unverifiedStore = action;
  }

  /** A fresh request id for one logical write. */
  static ByteString newRequestId() {
    byte[] id = new byte[REQUEST_ID_BYTES];
    IDS.nextBytes(id);
    return ByteString.copyFrom(id);
  }

  /** One attempt of a call on one gateway, with the time it may take. */
  @FunctionalInterface
  private interface Attempt<T> {
    T run(Gateway gateway, Duration timeout);
  }

  PutResponse put(Key key, byte[] value, byte[] sha256) {
    PutRequest request =
        PutRequest.newBuilder()
            .setKey(key.toByteString())
            .setValue(UnsafeByteOperations.unsafeWrap(value))
            .setSha256(UnsafeByteOperations.unsafeWrap(sha256))
            .setRequestId(newRequestId())
            .build();
    return write(
        "the put of '" + key + "'",
        true,
        (g, t) -> {
          if (value.length <= PIPELINED_BYTES) {
            PipelineResponse answer = pipelined(g, PipelineRequest.newBuilder().setPut(request), t);
            if (answer != null) {
              return answer.getPut();
            }
          }
          return call(g, () -> withDeadline(g, t).put(request));
        });
  }

  GetResponse get(Key key, ByteRange range) {
    GetRequest request = getRequest(key, range);
    return read(
        (g, t) -> {
          PipelineResponse answer =
              pipelined(
                  g,
                  PipelineRequest.newBuilder()
                      .setGet(request.toBuilder().setMaxInlineBytes(PIPELINED_BYTES)),
                  t);
          if (answer != null) {
            return answer.getGet();
          }
          return call(g, () -> withDeadline(g, t).get(request));
        });
  }

  ValueInfo stat(Key key) {
    StatRequest request = StatRequest.newBuilder().setKey(key.toByteString()).build();
    return read(
        (g, t) -> {
          PipelineResponse answer = pipelined(g, PipelineRequest.newBuilder().setStat(request), t);
          if (answer != null) {
            return toInfo(answer.getStat().getInfo());
          }
          return call(g, () -> toInfo(withDeadline(g, t).stat(request).getInfo()));
        });
  }

  DeleteResponse delete(Key key) {
    DeleteRequest request =
        DeleteRequest.newBuilder().setKey(key.toByteString()).setRequestId(newRequestId()).build();
    return write(
        "the delete of '" + key + "'",
        true,
        (g, t) -> {
          PipelineResponse answer =
              pipelined(g, PipelineRequest.newBuilder().setDelete(request), t);
          if (answer != null) {
            return answer.getDelete();
          }
          return call(g, () -> withDeadline(g, t).delete(request));
        });
  }

  // ---- failover -----------------------------------------------------------

  /**
   * The gateway to call now: the current one, after letting it reconnect if its channel is failing;
   * with several gateways, the next one instead while the current one cannot be reached (each tried
   * once).
   */
  private Gateway usable() {
    Gateway g = gateways.current();
    for (int tried = 1; ; tried++) {
      ConnectivityState state = g.beforeCall(timeout);
      if (state != ConnectivityState.TRANSIENT_FAILURE
          || !gateways.several()
          || tried >= gateways.size()) {
        prepare(g, tried > 1);
        return g;
      }
      g = gateways.failover(g);
    }
  }

  /**
   * Before a call goes to {@code g} (after moving there, if {@code moved}): another store is
   * treated as a Resync first; a gateway not yet known to be the same store caches nothing.
   */
  private void prepare(Gateway g, boolean moved) {
    if (gateways.knownForeign(g)) {
      foreignStore.run();
    } else if (moved && g.incarnation().isEmpty()) {
      unverifiedStore.run();
    }
  }

  /** A read: retried once on the next gateway, within its deadline, if it failed UNAVAILABLE. */
  private <T> T read(Attempt<T> attempt) {
    return read(attempt, () -> true);
  }

  /** As {@link #read(Attempt)}, retrying only if {@code mayRetry} says so after the failure. */
  private <T> T read(Attempt<T> attempt, java.util.function.BooleanSupplier mayRetry) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Gateway g = usable();
    try {
      return attempt.run(g, remaining(deadline));
    } catch (DstoreException e) {
      if (!unavailable(e)) {
        throw e;
      }
      Gateway next = gateways.failover(g);
      if (!mayRetry.getAsBoolean()) {
        throw e;
      }
      long left = deadline - System.nanoTime();
      if (next == g || left <= 0) {
        throw e;
      }
      prepare(next, true);
      return attempt.run(next, Duration.ofNanos(left));
    }
  }

  /**
   * A write carrying a request id: retried once on the next gateway with the same id (see the class
   * comment).
   *
   * @param what "the put of 'k'", for the message of OUTCOME_UNKNOWN
   * @param resendable whether the attempt may run again after it sent something
   */
  private <T> T write(String what, boolean resendable, Attempt<T> attempt) {
    Gateway g = usable();
    try {
      return attempt.run(g, timeout);
    } catch (DstoreException e) {
      if (!unavailable(e)) {
        throw e;
      }
      boolean maybeDone = !nothingSent(e);
      Gateway next = gateways.failover(g);
      if (next == g) {
        if (maybeDone && gateways.several()) {
          throw outcomeUnknown(what, e);
        }
        throw e; // one gateway: today's answer
      }
      if (maybeDone && !resendable) {
        throw new DstoreException(
            ErrorCode.OUTCOME_UNKNOWN,
            what
                + " may or may not have happened: its bytes came from a stream that cannot be read"
                + " again, so it was not retried on another gateway ("
                + e.getMessage()
                + ")",
            e);
      }
      prepare(next, true);
      try {
        return attempt.run(next, timeout);
      } catch (DstoreException retry) {
        if (unavailable(retry) && (maybeDone || !nothingSent(retry))) {
          throw outcomeUnknown(what, retry);
        }
        throw retry;
      }
    }
  }

  private static DstoreException outcomeUnknown(String what, DstoreException last) {
    return new DstoreException(
        ErrorCode.OUTCOME_UNKNOWN,
        what + " may or may not have happened: " + last.getMessage() + "; stat tells",
        last);
  }

  /**
   * Whether a call failed in a way another gateway may not: UNAVAILABLE, from the transport or from
   * the gateway, and not because the calling thread was interrupted.
   */
  private boolean unavailable(DstoreException e) {
    return e.code() == ErrorCode.UNAVAILABLE
        && gateways.several()
        && !Thread.currentThread().isInterrupted();
  }

  /**
   * Whether a failed call certainly sent nothing: no connection could be made (refused,
   * unreachable, unknown host), or the call stopped before its first message ({@link NothingSent}).
   */
  static boolean nothingSent(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ConnectException
          || c instanceof NoRouteToHostException
          || c instanceof UnknownHostException
          || c instanceof NothingSent) {
        return true;
      }
    }
    return false;
  }

  /** Marks (as a cause) a failure of an upload that sent nothing. */
  static final class NothingSent extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NothingSent(Throwable cause) {
      super("nothing was sent", cause, false, false);
    }
  }

  private static Duration remaining(long deadline) {
    return Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
  }

  // ---- calls on one gateway -----------------------------------------------

  /**
   * Sends a small call on the gateway's shared pipeline; null if the gateway does not serve
   * pipelines (the caller then makes the unary call, which behaves the same).
   */
  private static PipelineResponse pipelined(
      Gateway g, PipelineRequest.Builder request, Duration timeout) {
    Pipeline pipeline = g.pipeline();
    if (!pipeline.supported()) {
      return null;
    }
    try {
      return pipeline.call(request, timeout);
    } catch (Pipeline.Unsupported e) {
      return null;
    }
  }

  /** Ends the pipeline streams; calls made afterwards open new ones. */
  void close() {
    for (Gateway g : gateways.all()) {
      g.pipeline().close();
    }
  }

  /** Joins through {@code g}; notes the incarnation it told. */
  JoinResponse join(Gateway g, String name) {
    JoinResponse joined =
        call(
            g, () -> withDeadline(g, timeout).join(JoinRequest.newBuilder().setName(name).build()));
    g.incarnation(joined.getIncarnation());
    return joined;
  }

  void leave(String localId, Duration deadline) {
    Gateway g = gateways.current();
    call(
        g,
        () ->
            g.blocking()
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .leave(LeaveRequest.newBuilder().setLocalId(localId).build()));
  }

  RevalidateResponse revalidate(Gateway g, List<KeyGeneration> entries) {
    return call(
        g,
        () ->
            withDeadline(g, timeout)
                .revalidate(RevalidateRequest.newBuilder().addAllEntries(entries).build()));
  }

  /**
   * Uploads {@code upload} in chunks under {@code key} (or content-addressed when key is null),
   * sending the SHA-256 computed on the way in the last message.
   */
  PutResponse putStream(Key key, Upload upload, long size) {
    PutHeader.Builder header = PutHeader.newBuilder().setRequestId(newRequestId());
    if (size >= 0) {
      header.setSize(size); // unset: unknown
    }
    if (key == null) {
      header.setContentAddressed(true);
    } else {
      header.setKey(key.toByteString());
    }
    String what = key == null ? "the content-addressed put" : "the put of '" + key + "'";
    return write(what, upload.rereadable(), (g, t) -> putStream(g, header.build(), upload));
  }

  private PutResponse putStream(Gateway g, PutHeader header, Upload upload) {
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
    g.async().putStream(responses);
    ClientCallStreamObserver<PutChunk> stream = requests[0];
    MessageDigest digest = Sha256.newDigest();
    boolean first = true;
    InputStream in = null;
    try {
      while (true) {
        awaitReady(g, stream, result, lock, ready);
        if (result.isDone()) {
          break; // Global answered (with an error) before the end: stop sending
        }
        if (in == null) {
          in = upload.open();
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
    } catch (DstoreException e) {
      stream.cancel("upload failed", e);
      throw first ? unsent(e) : e;
    } catch (RuntimeException e) {
      stream.cancel("upload failed", e);
      throw e;
    } finally {
      if (in != null && upload.rereadable()) {
        try {
          in.close();
        } catch (IOException e) {
          // read to the end already; nothing to lose
        }
      }
    }
    try {
      return await(g, result);
    } catch (DstoreException e) {
      throw first ? unsent(e) : e;
    }
  }

  /** {@code e}, marked as the failure of a call that sent nothing. */
  private static DstoreException unsent(DstoreException e) {
    return new DstoreException(e.code(), e.getMessage(), new NothingSent(e));
  }

  /**
   * What a download brought.
   *
   * @param info the value's metadata
   * @param cacheable false when Global said the key is being deleted
   * @param fromCache true when a Local daemon answered from its cache
   */
  record Download(ValueInfo info, boolean cacheable, boolean fromCache) {}

  /**
   * Streams a value (or range) to {@code out}; verifies the SHA-256 when the whole was read. With
   * several gateways, a download that failed UNAVAILABLE before it wrote anything out is retried
   * once on the next gateway.
   */
  Download getStream(Key key, ByteRange range, ChunkSink out) {
    boolean[] begun = new boolean[1];
    ChunkSink tracked =
        new ChunkSink() {
          @Override
          public void begin(ValueInfo info) throws IOException {
            begun[0] = true;
            out.begin(info);
          }

          @Override
          public void write(ByteString data) throws IOException {
            out.write(data);
          }
        };
    // Once bytes went out, another gateway's would follow them: then the failure stands.
    return read((g, t) -> getStream(g, key, range, tracked), () -> !begun[0]);
  }

  private Download getStream(Gateway g, Key key, ByteRange range, ChunkSink out) {
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      Iterator<GetChunk> chunks =
          g.blocking()
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
      throw GrpcErrors.toException(e, g.target());
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

  private static GlobalGrpc.GlobalBlockingStub withDeadline(Gateway g, Duration timeout) {
    return g.blocking().withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static <T> T call(Gateway g, java.util.function.Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (DstoreException e) {
      throw e;
    } catch (RuntimeException e) {
      throw GrpcErrors.toException(e, g.target());
    }
  }

  private void awaitReady(
      Gateway g,
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
              "upload to " + g.target() + " stalled for " + timeout.toSeconds() + " s");
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

  private PutResponse await(Gateway g, CompletableFuture<PutResponse> result) {
    try {
      return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw GrpcErrors.toException(e.getCause(), g.target());
    } catch (TimeoutException e) {
      throw new DstoreException(
          ErrorCode.UNAVAILABLE,
          "Global at " + g.target() + " did not confirm the upload in time",
          e);
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
