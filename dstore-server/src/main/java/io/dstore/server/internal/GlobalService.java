package io.dstore.server.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.DeleteResponse;
import io.dstore.proto.Event;
import io.dstore.proto.GetChunk;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GetResponse;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.JoinResponse;
import io.dstore.proto.KeyGeneration;
import io.dstore.proto.LeaveRequest;
import io.dstore.proto.LeaveResponse;
import io.dstore.proto.PipelineRequest;
import io.dstore.proto.PipelineResponse;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.RevalidateRequest;
import io.dstore.proto.RevalidateResponse;
import io.dstore.proto.StatRequest;
import io.dstore.proto.StatResponse;
import io.dstore.proto.SubscribeRequest;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.wire.ByteRange;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Global gRPC service: validates each request against the {@link Limits}, applies reads and
 * puts to the {@link Storage}, hands deletes to the {@link DeleteCoordinator} (which owns their
 * state machine, strict or eventual) and subscriptions to the {@link InvalidationHub}. Reads ask
 * the coordinator whether to flag a value {@code deleting}.
 *
 * <p>Thread-safe.
 */
public final class GlobalService extends GlobalGrpc.GlobalImplBase {
  private static final Logger log = LoggerFactory.getLogger(GlobalService.class);

  private final Storage storage;
  private final InvalidationHub hub;
  private final Deletes deletes;
  private final Limits limits;
  private final Writes writes;
  private final java.util.concurrent.Executor executor;
  private final IdleTimeout idleTimeout;
  private final GlobalMetrics metrics;
  private final java.util.Set<PipelineHandler> pipelines =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean pipelinesClosed;

  public GlobalService(
      Storage storage,
      InvalidationHub hub,
      Deletes deletes,
      Limits limits,
      java.util.concurrent.Executor executor,
      IdleTimeout idleTimeout,
      GlobalMetrics metrics,
      DiskSpace space) {
    this.storage = storage;
    this.hub = hub;
    this.deletes = deletes;
    this.limits = limits;
    this.writes = new Writes(storage, space);
    this.executor = executor;
    this.idleTimeout = idleTimeout;
    this.metrics = metrics;
  }

  @Override
  public void put(PutRequest request, StreamObserver<PutResponse> responses) {
    unary(
        responses,
        () -> {
          limits.checkKey(request.getKey());
          limits.checkValueSize(request.getValue().size());
          return writes.putWhole(
              request.getKey().toByteArray(),
              request.getValue(),
              request.getSha256(),
              request.getRequestId());
        });
  }

  @Override
  public StreamObserver<PipelineRequest> pipeline(StreamObserver<PipelineResponse> responses) {
    PipelineHandler handler =
        new PipelineHandler(
            this,
            (ServerCallStreamObserver<PipelineResponse>) responses,
            storage.writesMayBlock() ? executor : Runnable::run,
            metrics,
            pipelines::remove);
    pipelines.add(handler);
    if (pipelinesClosed) {
      handler.shutDown();
    }
    return handler;
  }

  /**
   * Ends every pipeline once the requests it holds are answered, refusing new ones, so that a
   * graceful shutdown is not held up by streams that clients keep open. Idempotent.
   */
  public void closePipelines() {
    pipelinesClosed = true;
    for (PipelineHandler p : pipelines) {
      p.shutDown();
    }
  }

  @Override
  public StreamObserver<PutChunk> putStream(StreamObserver<PutResponse> responses) {
    return new PutStreamHandler(responses, storage, limits, writes, idleTimeout);
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
    unary(
        responses,
        () -> {
          limits.checkKey(request.getKey());
          limits.checkGetRequest(request);
          long seq = hub.currentSeq();
          long beforeRead = deletes.beforeRead();
          try (Storage.Reader reader = open(request.getKey())) {
            StoredInfo info = reader.info();
            ByteRange.Span range = ByteRange.of(request).within(info.size());
            GetResponse.Builder response =
                GetResponse.newBuilder().setInfo(Writes.toProto(info)).setSeq(seq);
            if (range.length() > limits.inlineBytes(request)) {
              response.setStreamed(true);
            } else {
              response.setValue(read(reader, range));
            }
            // Checked after the read (see DeleteCoordinator.flagDeleting).
            return response
                .setDeleting(deletes.flagDeleting(request.getKey(), info.generation(), beforeRead))
                .build();
          }
        });
  }

  @Override
  public void getStream(GetRequest request, StreamObserver<GetChunk> responses) {
    Storage.Reader reader = null;
    try {
      limits.checkKey(request.getKey());
      limits.checkGetRequest(request);
      long beforeRead = deletes.beforeRead();
      reader = open(request.getKey());
      ByteRange.Span range = ByteRange.of(request).within(reader.info().size());
      new GetStreamer(
              (ServerCallStreamObserver<GetChunk>) responses,
              reader,
              Writes.toProto(reader.info()),
              deletes.flagDeleting(request.getKey(), reader.info().generation(), beforeRead),
              range,
              limits.chunkBytes(request),
              idleTimeout)
          .start();
    } catch (IOException | RuntimeException e) {
      if (reader != null) {
        reader.close();
      }
      responses.onError(Writes.report(e, log));
    }
  }

  @Override
  public void stat(StatRequest request, StreamObserver<StatResponse> responses) {
    unary(
        responses,
        () -> {
          limits.checkKey(request.getKey());
          StoredInfo info =
              storage
                  .stat(request.getKey().toByteArray())
                  .orElseThrow(() -> GrpcErrors.status(ErrorCode.NOT_FOUND, "key not found"));
          return StatResponse.newBuilder().setInfo(Writes.toProto(info)).build();
        });
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> responses) {
    try {
      limits.checkKey(request.getKey());
      Writes.checkRequestId(request.getRequestId());
    } catch (RuntimeException e) {
      responses.onError(Writes.report(e, log));
      return;
    }
    deletes
        .delete(request.getKey(), request.getRequestId())
        .whenComplete(
            (deleted, error) -> {
              if (error != null) {
                responses.onError(Writes.report(error, log));
              } else {
                responses.onNext(
                    DeleteResponse.newBuilder()
                        .setGeneration(deleted.generation())
                        .setSeq(deleted.seq())
                        .build());
                responses.onCompleted();
              }
            });
  }

  @Override
  public void join(JoinRequest request, StreamObserver<JoinResponse> responses) {
    unary(
        responses,
        () -> {
          if (request.getName().length() > 256) {
            throw GrpcErrors.status(
                ErrorCode.INVALID_ARGUMENT, "Local name is longer than 256 characters");
          }
          Member m = hub.join(request.getName());
          return JoinResponse.newBuilder()
              .setLocalId(m.id)
              .setLeaseMillis(hub.leaseMillis())
              .setRenewIntervalMillis(hub.renewIntervalMillis())
              .setIncarnation(hub.incarnation())
              .setSeq(hub.currentSeq())
              .build();
        });
  }

  @Override
  public void leave(LeaveRequest request, StreamObserver<LeaveResponse> responses) {
    unary(
        responses,
        () -> {
          hub.leave(request.getLocalId());
          return LeaveResponse.getDefaultInstance();
        });
  }

  @Override
  public StreamObserver<SubscribeRequest> subscribe(StreamObserver<Event> responses) {
    EventStream stream = hub.newStream((ServerCallStreamObserver<Event>) responses);
    return new StreamObserver<>() {
      private Member member;

      @Override
      public void onNext(SubscribeRequest request) {
        switch (request.getKindCase()) {
          case HELLO -> {
            String id = request.getHello().getLocalId();
            if (member != null || id.isEmpty() || id.length() > 64) {
              stream.close(
                  Status.INVALID_ARGUMENT.withDescription(
                      member != null ? "Hello sent twice" : "Hello needs the local_id from Join"));
              return;
            }
            member = hub.memberFor(id);
            hub.subscribe(member, request.getHello(), stream);
          }
          case RENEW -> {
            if (requireHello()) {
              hub.renew(member, stream, request.getRenew().getNonce());
            }
          }
          case ACK -> {
            if (requireHello()) {
              hub.ack(member, request.getAck().getSeq());
            }
          }
          default ->
              stream.close(Status.INVALID_ARGUMENT.withDescription("unknown subscription message"));
        }
      }

      private boolean requireHello() {
        if (member == null) {
          stream.close(Status.INVALID_ARGUMENT.withDescription("the first message must be Hello"));
          return false;
        }
        return true;
      }

      @Override
      public void onError(Throwable t) {
        end();
      }

      @Override
      public void onCompleted() {
        end();
        stream.close(Status.OK);
      }

      private void end() {
        if (member != null) {
          hub.unsubscribe(member, stream);
        }
      }
    };
  }

  @Override
  public void revalidate(RevalidateRequest request, StreamObserver<RevalidateResponse> responses) {
    unary(
        responses,
        () -> {
          long seq = hub.currentSeq();
          RevalidateResponse.Builder response = RevalidateResponse.newBuilder().setSeq(seq);
          for (KeyGeneration entry : request.getEntriesList()) {
            limits.checkKey(entry.getKey());
            // The mark is checked before the storage, so a delete that begins and ends in between
            // is seen as the key's absence.
            boolean beingDeleted = deletes.isDeleting(entry.getKey());
            Optional<StoredInfo> info = storage.stat(entry.getKey().toByteArray());
            response.addValid(
                !beingDeleted
                    && info.isPresent()
                    && info.get().generation() == entry.getGeneration());
          }
          return response.build();
        });
  }

  private Storage.Reader open(ByteString key) throws IOException {
    return storage
        .open(key.toByteArray())
        .orElseThrow(() -> GrpcErrors.status(ErrorCode.NOT_FOUND, "key not found"));
  }

  private static ByteString read(Storage.Reader reader, ByteRange.Span range) throws IOException {
    byte[] bytes = new byte[Math.toIntExact(range.length())];
    ByteBuffer dst = ByteBuffer.wrap(bytes);
    while (dst.hasRemaining()) {
      if (reader.read(range.offset() + dst.position(), dst) <= 0) {
        throw new IOException("value ended early at byte " + (range.offset() + dst.position()));
      }
    }
    return UnsafeByteOperations.unsafeWrap(bytes);
  }

  private static <T> void unary(StreamObserver<T> responses, Body<T> body) {
    T result;
    try {
      result = body.run();
    } catch (IOException | RuntimeException e) {
      responses.onError(Writes.report(e, log));
      return;
    }
    responses.onNext(result);
    responses.onCompleted();
  }

  @FunctionalInterface
  private interface Body<T> {
    T run() throws IOException;
  }
}
