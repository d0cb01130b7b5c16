package io.dstore.server.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.proto.Failure;
import io.dstore.proto.GetResponse;
import io.dstore.proto.PipelineRequest;
import io.dstore.proto.PipelineResponse;
import io.dstore.proto.PutRequest;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Serves one {@code Pipeline} stream: many small Get, Put, Stat and Delete requests, each tagged
 * with the client's id, answered (tagged alike) as soon as each is done, in any order.
 *
 * <p>Every request runs through the same {@link GlobalService} method as its unary form, with a
 * {@link Reply} standing in for the unary call's observer, so validation, errors and coherence are
 * the same by construction; a unary error becomes a {@link Failure} carrying its status code and
 * typed detail ({@link GrpcErrors#toFailure}). Gets and Stats are answered on the stream's own
 * thread (gRPC delivers a stream's messages one at a time); Puts and Deletes, which may wait on the
 * disk, run on the write executor so they do not hold up the reads queued behind them (for a store
 * whose writes never wait, that executor runs them in place). A strict delete never blocks a thread
 * while it waits for the Locals: it completes from their acknowledgements.
 *
 * <p>Responses from different threads are sent under this handler's lock (gRPC allows one caller at
 * a time). They are not held back for flow control: the client bounds the requests it has in
 * flight, which bounds what can queue here. After the client half-closes, the stream completes once
 * the last outstanding request is answered.
 */
final class PipelineHandler implements StreamObserver<PipelineRequest> {
  private final GlobalService service;
  private final ServerCallStreamObserver<PipelineResponse> responses;
  private final Executor writeExecutor;
  private final GlobalMetrics metrics;
  private final Consumer<PipelineHandler> onDone;

  @GuardedBy("this")
  private int outstanding;

  @GuardedBy("this")
  private boolean halfClosed; // no more requests will be taken

  @GuardedBy("this")
  private boolean done;

  PipelineHandler(
      GlobalService service,
      ServerCallStreamObserver<PipelineResponse> responses,
      Executor writeExecutor,
      GlobalMetrics metrics,
      Consumer<PipelineHandler> onDone) {
    this.service = service;
    this.responses = responses;
    this.writeExecutor = writeExecutor;
    this.metrics = metrics;
    this.onDone = onDone;
    responses.setOnCancelHandler(
        () -> {
          synchronized (this) {
            done = true;
          }
          onDone.accept(this);
        });
  }

  /** Global is stopping: answer what is in hand, refuse the rest, then end the stream. */
  void shutDown() {
    synchronized (this) {
      halfClosed = true;
      finishIfIdle();
    }
  }

  @Override
  public void onNext(PipelineRequest request) {
    long id = request.getId();
    synchronized (this) {
      outstanding++;
      if (halfClosed) {
        reply(id, "pipeline", (PipelineResponse.Builder b, Object unused) -> {})
            .onError(GrpcErrors.status(ErrorCode.UNAVAILABLE, "Global is shutting down"));
        return;
      }
    }
    switch (request.getOpCase()) {
      case GET -> service.get(request.getGet(), reply(id, "get", PipelineResponse.Builder::setGet));
      case STAT ->
          service.stat(request.getStat(), reply(id, "stat", PipelineResponse.Builder::setStat));
      case PUT -> {
        PutRequest put = request.getPut();
        metrics.countReceived(put.getValue().size());
        writeExecutor.execute(
            () -> service.put(put, reply(id, "put", PipelineResponse.Builder::setPut)));
      }
      case DELETE ->
          writeExecutor.execute(
              () ->
                  service.delete(
                      request.getDelete(),
                      reply(id, "delete", PipelineResponse.Builder::setDelete)));
      default ->
          reply(id, "unknown", (PipelineResponse.Builder b, Object unused) -> {})
              .onError(
                  GrpcErrors.status(
                      ErrorCode.INVALID_ARGUMENT,
                      "a pipeline request must carry get, put, stat or delete"));
    }
  }

  @Override
  public void onError(Throwable t) {
    synchronized (this) {
      done = true; // the client went away: answers still to come have nowhere to go
    }
    onDone.accept(this);
  }

  @Override
  public void onCompleted() {
    synchronized (this) {
      halfClosed = true;
      finishIfIdle();
    }
  }

  private <T> Reply<T> reply(
      long id, String op, BiConsumer<PipelineResponse.Builder, T> setResult) {
    return new Reply<>(id, op, System.nanoTime(), setResult);
  }

  private synchronized void send(PipelineResponse response) {
    outstanding--;
    if (!done) {
      try {
        responses.onNext(response);
      } catch (RuntimeException e) {
        done = true; // cancelled under us
      }
    }
    finishIfIdle();
  }

  @GuardedBy("this")
  private void finishIfIdle() {
    if (halfClosed && outstanding == 0 && !done) {
      done = true;
      try {
        responses.onCompleted();
      } catch (RuntimeException e) {
        // cancelled under us: nothing more to say
      }
      onDone.accept(this);
    }
  }

  /** The observer a unary call would have had: its one answer or error goes down the stream. */
  private final class Reply<T> implements StreamObserver<T> {
    private final long id;
    private final String op;
    private final long start;
    private final BiConsumer<PipelineResponse.Builder, T> setResult;

    Reply(long id, String op, long start, BiConsumer<PipelineResponse.Builder, T> setResult) {
      this.id = id;
      this.op = op;
      this.start = start;
      this.setResult = setResult;
    }

    @Override
    public void onNext(T result) {
      if (result instanceof GetResponse get) {
        metrics.countSent(get.getValue().size());
      }
      PipelineResponse.Builder response = PipelineResponse.newBuilder().setId(id);
      setResult.accept(response, result);
      metrics.recordRequest(op, Status.Code.OK, System.nanoTime() - start);
      send(response.build());
    }

    @Override
    public void onError(Throwable t) {
      Failure failure = GrpcErrors.toFailure(t);
      metrics.recordRequest(
          op, Status.fromCodeValue(failure.getCode()).getCode(), System.nanoTime() - start);
      send(PipelineResponse.newBuilder().setId(id).setFailure(failure).build());
    }

    @Override
    public void onCompleted() {}
  }
}
