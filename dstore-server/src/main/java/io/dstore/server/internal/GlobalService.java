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
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Global gRPC service: validates each request against the {@link Limits}, applies it to the
 * {@link Storage}, and routes deletes and subscriptions through the {@link InvalidationHub}.
 *
 * <p><b>Strict deletes have two phases.</b> The key is first marked deleting and its invalidation
 * published; only when every Local that could serve it has acknowledged (or lost its lease) is it
 * removed from storage and the delete answered. Meanwhile reads still return the value, flagged
 * {@code deleting} so that no Local caches it. So no reader can see the key gone while another
 * Local may still serve it from cache: the delete takes effect at one instant for everyone, which
 * is what makes reads linearizable. A second delete of a key being deleted waits for the first.
 *
 * <p>Thread-safe.
 */
public final class GlobalService extends GlobalGrpc.GlobalImplBase {
  private static final Logger log = LoggerFactory.getLogger(GlobalService.class);

  private final Storage storage;
  private final InvalidationHub hub;
  private final Limits limits;
  private final Writes writes;
  private final java.util.concurrent.Executor executor;
  private final IdleTimeout idleTimeout;
  private final GlobalMetrics metrics;
  private final java.util.Map<ByteString, java.util.concurrent.CompletableFuture<Void>> deleting =
      new java.util.concurrent.ConcurrentHashMap<>();
  // Strict deletes finished so far; bumped after the removal from storage and before the key
  // leaves `deleting`, so a read can tell that a delete began and ended while it was reading.
  private final java.util.concurrent.atomic.AtomicLong deletesFinished =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.Set<PipelineHandler> pipelines =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean pipelinesClosed;

  public GlobalService(
      Storage storage,
      InvalidationHub hub,
      Limits limits,
      java.util.concurrent.Executor executor,
      IdleTimeout idleTimeout,
      GlobalMetrics metrics) {
    this.storage = storage;
    this.hub = hub;
    this.limits = limits;
    this.writes = new Writes(storage);
    this.executor = executor;
    this.idleTimeout = idleTimeout;
    this.metrics = metrics;
  }

  /**
   * Whether a value of {@code generation} that was opened after {@code finishedBefore} was read
   * from {@link #deletesFinished} must not be cached: a strict delete of it is under way, or one
   * began and ended while it was being read (the reader still saw the old value, but the delete has
   * already returned to its caller). Call it after the read.
   */
  private boolean deleting(ByteString key, long generation, long finishedBefore)
      throws IOException {
    if (deleting.containsKey(key)) {
      return true;
    }
    if (deletesFinished.get() == finishedBefore) {
      return false;
    }
    Optional<StoredInfo> now = storage.stat(key.toByteArray());
    return now.isEmpty() || now.get().generation() != generation;
  }

  @Override
  public void put(PutRequest request, StreamObserver<PutResponse> responses) {
    unary(
        responses,
        () -> {
          limits.checkKey(request.getKey());
          limits.checkValueSize(request.getValue().size());
          return writes.putWhole(
              request.getKey().toByteArray(), request.getValue(), request.getSha256());
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
          long finishedBefore = deletesFinished.get();
          try (Storage.Reader reader = open(request.getKey())) {
            StoredInfo info = reader.info();
            ByteRange range = ByteRange.of(request, info.size());
            GetResponse.Builder response =
                GetResponse.newBuilder().setInfo(Writes.toProto(info)).setSeq(seq);
            if (range.length() > limits.inlineBytes(request)) {
              response.setStreamed(true);
            } else {
              response.setValue(read(reader, range));
            }
            // Checked after the read: a delete marked before it is seen here; one marked after
            // reaches the Local as an invalidation, which stops the value being cached.
            return response
                .setDeleting(deleting(request.getKey(), info.generation(), finishedBefore))
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
      long finishedBefore = deletesFinished.get();
      reader = open(request.getKey());
      ByteRange range = ByteRange.of(request, reader.info().size());
      new GetStreamer(
              (ServerCallStreamObserver<GetChunk>) responses,
              reader,
              Writes.toProto(reader.info()),
              deleting(request.getKey(), reader.info().generation(), finishedBefore),
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
                  .orElseThrow(() -> Errors.notFound("key not found"));
          return StatResponse.newBuilder().setInfo(Writes.toProto(info)).build();
        });
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> responses) {
    try {
      limits.checkKey(request.getKey());
    } catch (RuntimeException e) {
      responses.onError(Writes.report(e, log));
      return;
    }
    if (hub.coherence() == io.dstore.server.Coherence.STRICT) {
      deleteStrict(request.getKey(), responses);
    } else {
      deleteEventual(request.getKey(), responses);
    }
  }

  /** Removes at once, then tells the Locals: they may serve the value until told. */
  private void deleteEventual(ByteString key, StreamObserver<DeleteResponse> responses) {
    Optional<StoredInfo> gone;
    try {
      gone = storage.delete(key.toByteArray());
      if (gone.isEmpty()) {
        throw Errors.notFound("key not found");
      }
    } catch (IOException | RuntimeException e) {
      responses.onError(Writes.report(e, log));
      return;
    }
    long generation = gone.get().generation();
    metrics
        .timeFanout(() -> hub.publish(key, generation))
        .whenComplete((seq, error) -> answerDelete(responses, generation, seq, error));
  }

  /** Marks, invalidates everywhere, and only then removes (see the class comment). */
  private void deleteStrict(ByteString key, StreamObserver<DeleteResponse> responses) {
    java.util.concurrent.CompletableFuture<Void> mine =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.CompletableFuture<Void> other = deleting.putIfAbsent(key, mine);
    if (other != null) {
      other.whenCompleteAsync((x, e) -> deleteStrict(key, responses), executor);
      return;
    }
    long generation;
    try {
      Optional<StoredInfo> info = storage.stat(key.toByteArray());
      if (info.isEmpty()) {
        throw Errors.notFound("key not found");
      }
      generation = info.get().generation();
    } catch (IOException | RuntimeException e) {
      finishDeleting(key, mine);
      responses.onError(Writes.report(e, log));
      return;
    }
    metrics
        .timeFanout(() -> hub.publish(key, generation))
        .whenCompleteAsync(
            (seq, error) -> {
              Throwable failure = error;
              if (failure == null) {
                try {
                  // The key cannot change meanwhile: it exists, so puts are refused.
                  storage.delete(key.toByteArray());
                } catch (IOException | RuntimeException e) {
                  failure = e;
                }
              }
              finishDeleting(key, mine);
              answerDelete(responses, generation, seq, failure);
            },
            executor);
  }

  private void finishDeleting(ByteString key, java.util.concurrent.CompletableFuture<Void> mine) {
    deletesFinished.incrementAndGet();
    deleting.remove(key, mine);
    mine.complete(null);
  }

  private static void answerDelete(
      StreamObserver<DeleteResponse> responses, long generation, Long seq, Throwable error) {
    if (error != null) {
      responses.onError(Writes.report(error, log));
    } else {
      responses.onNext(DeleteResponse.newBuilder().setGeneration(generation).setSeq(seq).build());
      responses.onCompleted();
    }
  }

  @Override
  public void join(JoinRequest request, StreamObserver<JoinResponse> responses) {
    unary(
        responses,
        () -> {
          if (request.getName().length() > 256) {
            throw Errors.invalid("Local name is longer than 256 characters");
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
            // A key being deleted is no longer valid: the delete may complete as soon as this
            // Local acknowledges, so it must drop the entry first. The mark is checked before the
            // storage, so a delete that begins and ends in between is seen as the key's absence.
            boolean beingDeleted = deleting.containsKey(entry.getKey());
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
    return storage.open(key.toByteArray()).orElseThrow(() -> Errors.notFound("key not found"));
  }

  private static ByteString read(Storage.Reader reader, ByteRange range) throws IOException {
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
