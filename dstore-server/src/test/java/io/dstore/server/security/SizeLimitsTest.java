package io.dstore.server.security;

import static io.dstore.server.security.Stubs.assertStatus;
import static io.dstore.server.security.Stubs.blocking;
import static io.dstore.server.security.Stubs.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.testing.Await;
import io.dstore.wire.GrpcErrors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Key and value size limits: each refusal names the limit and its flag; nothing is stored. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SizeLimitsTest {
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
            .maxKeyBytes(16)
            .maxValueBytes(1000)
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
  void anOversizeKeyIsRefusedNamingTheLimit() {
    String message =
        assertStatus(
            () ->
                blocking(channel)
                    .put(PutRequest.newBuilder().setKey(bytes("seventeen-bytes!!")).build()),
            Status.Code.INVALID_ARGUMENT,
            "TOO_LARGE");
    assertThat(message)
        .contains("17 bytes")
        .contains("limit is 16 bytes")
        .contains("--max-key-size");
    assertThat(storage.keyCount()).isZero();
  }

  @Test
  void anOversizeValueIsRefusedNamingTheLimitWhetherWholeOrStreamed() throws Exception {
    String message =
        assertStatus(
            () ->
                blocking(channel)
                    .put(
                        PutRequest.newBuilder()
                            .setKey(bytes("k"))
                            .setValue(ByteString.copyFrom(new byte[1001]))
                            .build()),
            Status.Code.INVALID_ARGUMENT,
            "TOO_LARGE");
    assertThat(message).contains("limit is 1000 bytes").contains("--max-value-size");

    // Declared too large: refused at the header.
    assertThat(upload(1001, 1).getStatus().getDescription()).contains("--max-value-size");
    // Size unknown, bytes run over: refused when they do, and the partial value dropped.
    assertThat(upload(-1, 3).getStatus().getDescription()).contains("--max-value-size");
    Await.until("the uploads to be aborted", () -> storage.openUploads.get() == 0);
    assertThat(storage.keyCount()).isZero();
    assertThat(storage.valueBytes()).isZero();

    blocking(channel)
        .put(
            PutRequest.newBuilder()
                .setKey(bytes("k"))
                .setValue(ByteString.copyFrom(new byte[1000]))
                .build());
    assertThat(
            blocking(channel)
                .get(GetRequest.newBuilder().setKey(bytes("k")).build())
                .getValue()
                .size())
        .isEqualTo(1000);
  }

  /**
   * Uploads {@code chunks} chunks of 400 bytes declaring {@code size} (-1: unknown); returns the
   * refusal.
   */
  private StatusRuntimeException upload(long size, int chunks) throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
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
    up.onNext(
        PutChunk.newBuilder()
            .setHeader(
                size >= 0
                    ? PutHeader.newBuilder().setKey(bytes("streamed")).setSize(size)
                    : PutHeader.newBuilder().setKey(bytes("streamed")))
            .build());
    for (int i = 0; i < chunks; i++) {
      up.onNext(PutChunk.newBuilder().setData(ByteString.copyFrom(new byte[400])).build());
    }
    up.onCompleted();
    try {
      result.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      StatusRuntimeException s = (StatusRuntimeException) e.getCause();
      assertThat(String.valueOf(GrpcErrors.codeOf(s))).isEqualTo("TOO_LARGE");
      return s;
    }
    throw new AssertionError("the upload succeeded");
  }
}
