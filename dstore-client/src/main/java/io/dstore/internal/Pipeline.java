package io.dstore.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.proto.PipelineRequest;
import io.dstore.proto.PipelineResponse;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Small calls to Global multiplexed on one long-lived {@code Pipeline} stream: each request is
 * tagged with an id, sent on the shared stream, and its caller waits for the response with the same
 * id. Many threads' calls then share one HTTP/2 stream and, under load, one network write, instead
 * of each paying for a stream of its own.
 *
 * <p><b>Lifecycle.</b> The stream is opened on first use and again after it breaks; when it breaks,
 * every call waiting on it fails with {@link ErrorCode#UNAVAILABLE}, exactly as their unary calls
 * would have. A target that does not know the method (a Local daemon, an older Global) answers
 * UNIMPLEMENTED: the pipeline then reports itself {@linkplain #supported() unsupported} and callers
 * use unary calls from then on. Closing half-closes the stream, as a finished call: Global answers
 * what it was sent and ends the stream with OK.
 *
 * <p><b>Threads.</b> Thread-safe. Sends are serialized on the stream's lock (gRPC's one caller at a
 * time); at most {@value #MAX_IN_FLIGHT} calls are in flight, later callers wait for a slot, which
 * bounds what Global may have to buffer for this Local.
 */
final class Pipeline {
  static final int MAX_IN_FLIGHT = 1024;

  /** How long {@link #close} waits for Global to end the stream before cancelling it. */
  static final Duration CLOSE_WAIT = Duration.ofMillis(500);

  private final Channel channel;
  private final String target;
  private final AtomicLong ids = new AtomicLong();
  private final Semaphore slots = new Semaphore(MAX_IN_FLIGHT);
  private final Object lock = new Object();

  @GuardedBy("lock")
  private Stream current;

  private volatile boolean supported = true;

  Pipeline(Channel channel, String target) {
    this.channel = channel;
    this.target = target;
  }

  /** False once the target answered UNIMPLEMENTED: use unary calls instead. */
  boolean supported() {
    return supported;
  }

  /**
   * Sends {@code request} (its id is set here) and waits up to {@code timeout} for the answer.
   *
   * @throws DstoreException the call's error, as its unary form would have thrown it; {@link
   *     ErrorCode#UNAVAILABLE} if the stream broke or no answer came in time
   * @throws Unsupported if the target does not serve pipelines (nothing was done)
   */
  PipelineResponse call(PipelineRequest.Builder request, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    acquireSlot(timeout);
    try {
      long id = ids.incrementAndGet();
      CompletableFuture<PipelineResponse> answer = new CompletableFuture<>();
      Stream stream = send(request.setId(id).build(), id, answer);
      try {
        PipelineResponse response =
            answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (response.hasFailure()) {
          throw GrpcErrors.toException(GrpcErrors.fromFailure(response.getFailure()), target);
        }
        return response;
      } catch (TimeoutException e) {
        stream.pending.remove(id);
        throw new DstoreException(
            ErrorCode.UNAVAILABLE,
            "Global at " + target + " did not answer within " + timeout.toMillis() + " ms",
            e);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof Unsupported u) {
          throw u;
        }
        throw GrpcErrors.toException(e.getCause(), target);
      } catch (InterruptedException e) {
        stream.pending.remove(id);
        Thread.currentThread().interrupt();
        throw new DstoreException(ErrorCode.UNAVAILABLE, "interrupted while waiting for Global", e);
      }
    } finally {
      slots.release();
    }
  }

  private void acquireSlot(Duration timeout) {
    try {
      if (!slots.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new DstoreException(
            ErrorCode.UNAVAILABLE,
            "Global at " + target + " has " + MAX_IN_FLIGHT + " calls unanswered from here");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DstoreException(ErrorCode.UNAVAILABLE, "interrupted while waiting for Global", e);
    }
  }

  private Stream send(
      PipelineRequest request, long id, CompletableFuture<PipelineResponse> answer) {
    Stream stream;
    synchronized (lock) {
      if (current == null || current.failure != null) {
        Stream fresh = new Stream();
        // Outside the caller's gRPC context (a Local daemon serving a call, say): the stream
        // outlives the call that happened to open it and must not be cancelled with it.
        // Answers are handled on the transport thread: completing a future is all they need,
        // and a hop through an executor would cost every call a thread switch.
        // Responses are parsed with their values aliasing one array (AliasingMarshaller).
        Context.ROOT.run(
            () ->
                ClientCalls.asyncBidiStreamingCall(
                    channel.newCall(
                        AliasingMarshaller.PIPELINE,
                        CallOptions.DEFAULT.withExecutor(Runnable::run)),
                    fresh));
        current = fresh;
      }
      stream = current;
      stream.pending.put(id, answer);
      try {
        stream.requests.onNext(request);
      } catch (RuntimeException e) {
        stream.pending.remove(id);
        answer.completeExceptionally(e);
      }
    }
    // The stream may have broken between opening and registering: then fail this call here,
    // since the failure's sweep of the pending calls may have run before it was registered.
    Throwable failure = stream.failure;
    if (failure != null && stream.pending.remove(id) != null) {
      answer.completeExceptionally(failure);
    }
    return stream;
  }

  /**
   * Ends the stream (on close of the Local) as a finished call: half-closes it, so that Global
   * answers what it was sent and then ends the stream with OK, and waits up to {@link #CLOSE_WAIT}
   * for that. Only if Global does not end it in time is the stream cancelled; calls still waiting
   * then fail.
   */
  void close() {
    Stream stream;
    synchronized (lock) {
      stream = current;
      current = null;
      if (stream == null) {
        return;
      }
      try {
        stream.requests.onCompleted();
      } catch (RuntimeException e) {
        // The stream broke already: it has ended.
      }
    }
    try {
      stream.ended.get(CLOSE_WAIT.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      cancel(stream);
    } catch (InterruptedException e) {
      cancel(stream);
      Thread.currentThread().interrupt();
    }
  }

  private void cancel(Stream stream) {
    synchronized (lock) {
      stream.requests.cancel("the Local is closing and Global did not end the pipeline", null);
    }
  }

  /** The error the unary form of the call would have ended with. */

  /** The target does not serve pipelines; nothing was sent to it that took effect. */
  static final class Unsupported extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unsupported() {
      super("pipelines not supported", null, false, false);
    }
  }

  /** One Pipeline call and the requests waiting on it. */
  private final class Stream implements ClientResponseObserver<PipelineRequest, PipelineResponse> {
    final Map<Long, CompletableFuture<PipelineResponse>> pending = new ConcurrentHashMap<>();
    final CompletableFuture<Void> ended = new CompletableFuture<>(); // Global ended the call
    ClientCallStreamObserver<PipelineRequest> requests;
    volatile Throwable failure; // set once, when the stream breaks

    @Override
    public void beforeStart(ClientCallStreamObserver<PipelineRequest> requestStream) {
      this.requests = requestStream;
    }

    @Override
    public void onNext(PipelineResponse response) {
      CompletableFuture<PipelineResponse> answer = pending.remove(response.getId());
      if (answer != null) {
        answer.complete(response);
      }
    }

    @Override
    public void onError(Throwable t) {
      Throwable cause = t;
      if (Status.fromThrowable(t).getCode() == Status.Code.UNIMPLEMENTED) {
        supported = false;
        cause = new Unsupported();
      }
      failure = cause;
      for (Long id : pending.keySet()) {
        CompletableFuture<PipelineResponse> answer = pending.remove(id);
        if (answer != null) {
          answer.completeExceptionally(cause);
        }
      }
      ended.complete(null);
    }

    @Override
    public void onCompleted() {
      onError(Status.UNAVAILABLE.withDescription("Global ended the pipeline").asException());
    }
  }
}
