package io.dstore.server.security;

import static io.dstore.server.security.Stubs.blocking;
import static io.dstore.server.security.Stubs.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.dstore.proto.GetChunk;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.testing.Await;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Global's per-connection limits and idle cut-off over real sockets (Netty, HTTP/2). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LimitsIT {
  private final List<ManagedChannel> channels = new ArrayList<>();
  private TrackingStorage storage;
  private GlobalServer server;

  private void start(Consumer<GlobalServer.Builder> config) throws Exception {
    storage = new TrackingStorage(Storage.memory());
    GlobalServer.Builder b = GlobalServer.builder().listen("127.0.0.1", 0).storage(storage);
    config.accept(b);
    server = b.build().start();
  }

  private ManagedChannel channel() {
    ManagedChannel c =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port())
            .usePlaintext()
            .maxInboundMessageSize(Integer.MAX_VALUE)
            .build();
    channels.add(c);
    return c;
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    if (server != null) {
      server.close();
    }
  }

  @Test
  void callsBeyondTheStreamLimitOfAConnectionWaitForAFreeStream() throws Exception {
    start(b -> b.maxStreamsPerConnection(2));
    ManagedChannel channel = channel();
    blocking(channel).put(PutRequest.newBuilder().setKey(bytes("warm")).build());
    List<StreamObserver<PutChunk>> held = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      held.add(openUpload(channel, "held-" + i, new CompletableFuture<>()));
    }
    Await.until("both uploads to reach storage", () -> storage.openUploads.get() == 2);

    // A third call on the same connection is not refused: HTTP/2 holds it until a stream frees.
    // Here it cannot get one before its deadline.
    assertThatThrownBy(
            () ->
                GlobalGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                    .put(PutRequest.newBuilder().setKey(bytes("third")).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(storage.stat(bytes("third").toByteArray())).isEmpty();

    held.get(0).onCompleted(); // refused (no SHA-256): the server ends the call, freeing a stream
    PutResponse third =
        blocking(channel).put(PutRequest.newBuilder().setKey(bytes("third")).build());
    assertThat(third.getCreated()).isTrue();
    // Another connection has its own streams.
    assertThat(
            blocking(channel())
                .put(PutRequest.newBuilder().setKey(bytes("other")).build())
                .getCreated())
        .isTrue();
    held.get(1).onError(new RuntimeException("done"));
  }

  @Test
  void callsOnAConnectionBeyondTheLimitAreRefusedUntilAnotherCloses() throws Exception {
    start(b -> b.maxConnections(1));
    ManagedChannel first = channel();
    blocking(first).put(PutRequest.newBuilder().setKey(bytes("one")).build());

    ManagedChannel second = channel();
    String message =
        Stubs.assertStatus(
            () -> blocking(second).put(PutRequest.newBuilder().setKey(bytes("two")).build()),
            Status.Code.RESOURCE_EXHAUSTED,
            "RESOURCE_EXHAUSTED");
    assertThat(message)
        .contains("too many connections")
        .contains("limit is 1")
        .contains("--max-connections");
    assertThat(storage.stat(bytes("two").toByteArray())).isEmpty();

    first.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    Await.until(
        "the second connection to be admitted",
        () -> {
          try {
            blocking(second).put(PutRequest.newBuilder().setKey(bytes("two")).build());
            return true;
          } catch (StatusRuntimeException e) {
            return false;
          }
        });
    assertThat(storage.keyCount()).isEqualTo(2);
  }

  @Test
  void aMessageOverTheSizeLimitIsRefusedByGrpcAndNothingIsStored() throws Exception {
    start(b -> b.maxMessageBytes(64 << 10));
    ManagedChannel channel = channel();
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                blocking(channel)
                    .put(
                        PutRequest.newBuilder()
                            .setKey(bytes("huge"))
                            .setValue(ByteString.copyFrom(new byte[100 << 10]))
                            .build()));
    // gRPC's own refusal: no dstore trailer; the client library names the limit from this.
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.getStatus().getDescription()).contains("65536");
    assertThat(storage.keyCount()).isZero();
    assertThat(
            blocking(channel)
                .put(PutRequest.newBuilder().setKey(bytes("small")).build())
                .getCreated())
        .isTrue();
  }

  @Test
  void aDownloadWhoseClientStopsReadingIsCutOffOverTcp() throws Exception {
    start(b -> b.idleStreamTimeout(Duration.ofMillis(300)));
    ManagedChannel channel = channel();
    // Stored directly: over gRPC, a cold JVM may take longer than this short idle timeout.
    byte[] chunk = new byte[1 << 20];
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    try (Storage.Upload upload = storage.create(bytes("big").toByteArray(), 16 << 20)) {
      for (int i = 0; i < 16; i++) {
        sha.update(chunk);
        upload.write(java.nio.ByteBuffer.wrap(chunk));
      }
      upload.commit(java.util.HexFormat.of().formatHex(sha.digest()));
    }

    CompletableFuture<Status> ended = new CompletableFuture<>();
    AtomicLong received = new AtomicLong();
    @SuppressWarnings("unchecked")
    ClientCallStreamObserver<GetRequest>[] call = new ClientCallStreamObserver[1];
    GlobalGrpc.newStub(channel)
        .getStream(
            GetRequest.newBuilder().setKey(bytes("big")).build(),
            new ClientResponseObserver<GetRequest, GetChunk>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<GetRequest> requestStream) {
                call[0] = requestStream;
                requestStream.disableAutoRequestWithInitial(1);
              }

              @Override
              public void onNext(GetChunk c) {
                received.addAndGet(c.getData().size());
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
    Await.until(
        "the stalled download's reader to be closed",
        () -> storage.openReaders.get() == 0 && received.get() > 0);
    call[0].request(Integer.MAX_VALUE);
    Status status = ended.get(30, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).contains("--idle-timeout");
    assertThat(received.get()).isLessThan(16 << 20);
    assertThat(
            blocking(channel)
                .get(GetRequest.newBuilder().setKey(bytes("big")).setLength(3).build())
                .getValue()
                .size())
        .isEqualTo(3);
  }

  private static StreamObserver<PutChunk> openUpload(
      ManagedChannel channel, String key, CompletableFuture<PutResponse> result) {
    StreamObserver<PutChunk> up =
        GlobalGrpc.newStub(channel)
            .putStream(
                new StreamObserver<>() {
                  @Override
                  public void onNext(PutResponse value) {
                    result.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    result.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    up.onNext(PutChunk.newBuilder().setHeader(PutHeader.newBuilder().setKey(bytes(key))).build());
    return up;
  }
}
