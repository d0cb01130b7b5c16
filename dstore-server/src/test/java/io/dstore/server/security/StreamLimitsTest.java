package io.dstore.server.security;

import static io.dstore.server.security.Stubs.blocking;
import static io.dstore.server.security.Stubs.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.dstore.proto.Event;
import io.dstore.proto.GetChunk;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.Hello;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.SubscribeRequest;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.server.internal.ServerInternals;
import io.dstore.testing.Await;
import io.dstore.wire.GrpcErrors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The subscription limit and the idle-stream cut-off, over in-process gRPC (which has flow control
 * per message, so a client that requests no more messages stops the server's stream).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StreamLimitsTest {
  private TrackingStorage storage;
  private GlobalServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = "global-" + UUID.randomUUID();
    storage = new TrackingStorage(Storage.memory());
    server =
        GlobalServer.builder()
            .inProcess(name)
            .storage(storage)
            .maxSubscriptions(2)
            .idleStreamTimeout(Duration.ofMillis(200))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  @Test
  void aSubscriptionBeyondTheLimitIsRefusedUntilOneEnds() throws Exception {
    Subscriber first = subscribe();
    Subscriber second = subscribe();
    assertThat(first.welcome.get(30, TimeUnit.SECONDS).hasWelcome()).isTrue();
    assertThat(second.welcome.get(30, TimeUnit.SECONDS).hasWelcome()).isTrue();

    Subscriber third = subscribe();
    StatusRuntimeException refused = failure(third.welcome);
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(String.valueOf(GrpcErrors.codeOf(refused))).isEqualTo("RESOURCE_EXHAUSTED");
    assertThat(refused.getStatus().getDescription())
        .contains("too many subscriptions")
        .contains("limit is 2")
        .contains("--max-subscriptions");

    first.requests.cancel("done", null);
    Await.until("a free subscription slot", () -> subscribeWorks());
    assertThat(ServerInternals.hub(server).subscribedCount()).isEqualTo(2);
  }

  private boolean subscribeWorks() {
    Subscriber s = subscribe();
    try {
      return s.welcome.get(30, TimeUnit.SECONDS).hasWelcome();
    } catch (ExecutionException e) {
      return false;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aStalledUploadIsCutOffAndLeavesNothing() throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> upload = GlobalGrpc.newStub(channel).putStream(observer(result));
    upload.onNext(
        PutChunk.newBuilder()
            .setHeader(PutHeader.newBuilder().setKey(bytes("stalled")).setSize(1_000))
            .setData(ByteString.copyFrom(new byte[100]))
            .build());
    // ...and nothing more: the client stalls.
    StatusRuntimeException cut = failure(result);
    assertThat(cut.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(String.valueOf(GrpcErrors.codeOf(cut))).isEqualTo("UNAVAILABLE");
    assertThat(cut.getStatus().getDescription())
        .contains("upload cut off after 100 bytes")
        .contains("partial value was dropped")
        .contains("--idle-timeout");
    Await.until("the upload aborted", () -> storage.openUploads.get() == 0);
    assertThat(storage.keyCount()).isZero();
    assertThat(storage.valueBytes()).isZero();
    upload.onError(new RuntimeException("test done"));

    assertStillServes();
  }

  @Test
  void anUploadThatNeverSendsItsHeaderIsCutOffToo() throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    GlobalGrpc.newStub(channel).putStream(observer(result));
    assertThat(failure(result).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(storage.uploadsStarted.get()).isZero();
  }

  @Test
  void aDownloadWhoseClientStopsReadingIsCutOffAndItsReaderClosed() throws Exception {
    byte[] value = new byte[1 << 20];
    new java.util.Random(1).nextBytes(value);
    blocking(channel)
        .put(
            PutRequest.newBuilder()
                .setKey(bytes("big"))
                .setValue(ByteString.copyFrom(value))
                .build());
    CompletableFuture<Status> ended = new CompletableFuture<>();
    AtomicInteger chunks = new AtomicInteger();
    @SuppressWarnings("unchecked")
    ClientCallStreamObserver<GetRequest>[] call = new ClientCallStreamObserver[1];
    GlobalGrpc.newStub(channel)
        .getStream(
            GetRequest.newBuilder().setKey(bytes("big")).setChunkSize(16 << 10).build(),
            new ClientResponseObserver<GetRequest, GetChunk>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<GetRequest> requestStream) {
                call[0] = requestStream;
                requestStream.disableAutoRequestWithInitial(1); // read one chunk, then stall
              }

              @Override
              public void onNext(GetChunk chunk) {
                chunks.incrementAndGet();
              }

              @Override
              public void onError(Throwable t) {
                ended.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                ended.complete(Status.OK);
              }
            });
    Await.until("the download to start", () -> chunks.get() == 1);
    Await.until("the stalled download's reader to be closed", () -> storage.openReaders.get() == 0);
    call[0].request(Integer.MAX_VALUE); // read on, to receive the status
    Status status = ended.get(30, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).contains("download cut off").contains("--idle-timeout");
    assertThat((long) chunks.get() * (16 << 10)).isLessThan(value.length);

    assertStillServes();
  }

  private void assertStillServes() {
    GlobalGrpc.GlobalBlockingStub global = blocking(channel);
    global.put(PutRequest.newBuilder().setKey(bytes("after")).setValue(bytes("fine")).build());
    assertThat(global.get(GetRequest.newBuilder().setKey(bytes("after")).build()).getValue())
        .isEqualTo(bytes("fine"));
  }

  /** One Local's subscription: Join, then Hello. */
  private static final class Subscriber {
    final CompletableFuture<Event> welcome = new CompletableFuture<>();
    ClientCallStreamObserver<SubscribeRequest> requests;
  }

  private Subscriber subscribe() {
    String id =
        blocking(channel).join(JoinRequest.newBuilder().setName("test").build()).getLocalId();
    Subscriber s = new Subscriber();
    GlobalGrpc.newStub(channel)
        .subscribe(
            new ClientResponseObserver<SubscribeRequest, Event>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<SubscribeRequest> requestStream) {
                s.requests = requestStream;
              }

              @Override
              public void onNext(Event value) {
                s.welcome.complete(value);
              }

              @Override
              public void onError(Throwable t) {
                s.welcome.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {}
            });
    s.requests.onNext(
        SubscribeRequest.newBuilder().setHello(Hello.newBuilder().setLocalId(id)).build());
    return s;
  }

  private static StatusRuntimeException failure(CompletableFuture<?> f) throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(StatusRuntimeException.class);
      return (StatusRuntimeException) e.getCause();
    }
    throw new AssertionError("the call succeeded");
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> result) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
