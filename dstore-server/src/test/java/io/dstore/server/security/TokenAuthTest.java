package io.dstore.server.security;

import static io.dstore.server.security.Stubs.assertStatus;
import static io.dstore.server.security.Stubs.blocking;
import static io.dstore.server.security.Stubs.bytes;
import static io.dstore.server.security.Stubs.withAuthorization;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.proto.DeleteRequest;
import io.dstore.proto.Event;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.Hello;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.KeyGeneration;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.RevalidateRequest;
import io.dstore.proto.StatRequest;
import io.dstore.proto.SubscribeRequest;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.server.internal.ServerInternals;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Global with a bearer token: every dstore call needs it, health does not. In-process gRPC. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TokenAuthTest {
  private static final String TOKEN = "s3cret-token_42";

  private TrackingStorage storage;
  private GlobalServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = "global-" + UUID.randomUUID();
    storage = new TrackingStorage(Storage.memory());
    server = GlobalServer.builder().inProcess(name).storage(storage).token(TOKEN).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  @Test
  void theRightTokenIsServed() {
    GlobalGrpc.GlobalBlockingStub global = blocking(withAuthorization(channel, "Bearer " + TOKEN));
    PutResponse put =
        global.put(PutRequest.newBuilder().setKey(bytes("k")).setValue(bytes("v")).build());
    assertThat(put.getCreated()).isTrue();
    assertThat(global.get(GetRequest.newBuilder().setKey(bytes("k")).build()).getValue())
        .isEqualTo(bytes("v"));
    assertThat(global.delete(DeleteRequest.newBuilder().setKey(bytes("k")).build()).getGeneration())
        .isEqualTo(put.getInfo().getGeneration());
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {
        "Bearer wrong",
        "Bearer s3cret-token_4",
        "Bearer s3cret-token_420",
        "Basic s3cret-token_42",
        "s3cret-token_42",
        "Bearer "
      })
  void aMissingOrWrongTokenIsRefusedBeforeAnythingIsReadOrWritten(String authorization)
      throws Exception {
    // One value is stored by an authorised client, so reads and deletes have something to hit.
    blocking(withAuthorization(channel, "Bearer " + TOKEN))
        .put(PutRequest.newBuilder().setKey(bytes("there")).setValue(bytes("v")).build());
    int uploadsBefore = storage.uploadsStarted.get();
    Channel refused = withAuthorization(channel, authorization);
    GlobalGrpc.GlobalBlockingStub global = blocking(refused);

    List<Runnable> calls =
        List.of(
            () ->
                global.put(PutRequest.newBuilder().setKey(bytes("k")).setValue(bytes("v")).build()),
            () -> global.get(GetRequest.newBuilder().setKey(bytes("there")).build()),
            () -> global.stat(StatRequest.newBuilder().setKey(bytes("there")).build()),
            () -> global.delete(DeleteRequest.newBuilder().setKey(bytes("there")).build()),
            () -> global.getStream(GetRequest.newBuilder().setKey(bytes("there")).build()).next(),
            () -> global.join(JoinRequest.newBuilder().setName("intruder").build()),
            () ->
                global.revalidate(
                    RevalidateRequest.newBuilder()
                        .addEntries(
                            KeyGeneration.newBuilder().setKey(bytes("there")).setGeneration(1))
                        .build()));
    for (Runnable call : calls) {
      String message = assertStatus(call::run, Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED");
      assertThat(message).contains("missing or wrong token").doesNotContain(TOKEN);
    }
    assertThat(failureOf(upload(refused))).satisfies(TokenAuthTest::isRefusal);
    assertThat(failureOf(subscribe(refused))).satisfies(TokenAuthTest::isRefusal);

    assertThat(storage.keyCount()).isEqualTo(1);
    assertThat(storage.stat(bytes("there").toByteArray())).isPresent();
    assertThat(storage.uploadsStarted.get()).isEqualTo(uploadsBefore);
    assertThat(ServerInternals.hub(server).memberCount()).isZero();
  }

  @Test
  void healthNeedsNoToken() {
    HealthCheckResponse health =
        HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .check(HealthCheckRequest.newBuilder().setService("dstore.v1.Global").build());
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  private static void isRefusal(Throwable t) {
    assertThat(t).isInstanceOf(StatusRuntimeException.class);
    assertThat(((StatusRuntimeException) t).getStatus().getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  private static Throwable failureOf(CompletableFuture<?> call) throws Exception {
    try {
      call.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("the call succeeded");
  }

  private static CompletableFuture<PutResponse> upload(Channel channel) {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> requests = GlobalGrpc.newStub(channel).putStream(observer(result));
    requests.onNext(
        PutChunk.newBuilder()
            .setHeader(PutHeader.newBuilder().setKey(bytes("streamed")).setSize(1))
            .setData(bytes("x"))
            .build());
    requests.onCompleted();
    return result;
  }

  private static CompletableFuture<Event> subscribe(Channel channel) {
    CompletableFuture<Event> result = new CompletableFuture<>();
    StreamObserver<SubscribeRequest> requests =
        GlobalGrpc.newStub(channel).subscribe(observer(result));
    requests.onNext(
        SubscribeRequest.newBuilder().setHello(Hello.newBuilder().setLocalId("some-id")).build());
    return result;
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
      public void onCompleted() {
        result.completeExceptionally(new AssertionError("completed without a message"));
      }
    };
  }
}
