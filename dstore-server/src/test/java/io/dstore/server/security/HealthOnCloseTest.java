package io.dstore.server.security;

import static io.dstore.server.security.Stubs.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutResponse;
import io.dstore.server.GlobalServer;
import io.dstore.server.internal.ServerInternals;
import io.dstore.testing.Await;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** gRPC health turns NOT_SERVING as soon as close() begins, while calls still drain. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HealthOnCloseTest {

  @Test
  void healthTurnsNotServingBeforeCallsInFlightHaveDrained() throws Exception {
    String name = "global-" + UUID.randomUUID();
    GlobalServer server = GlobalServer.builder().inProcess(name).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      BlockingQueue<ServingStatus> statuses = new LinkedBlockingQueue<>();
      @SuppressWarnings("unchecked")
      ClientCallStreamObserver<HealthCheckRequest>[] watch = new ClientCallStreamObserver[1];
      HealthGrpc.newStub(channel)
          .watch(
              HealthCheckRequest.newBuilder().setService("dstore.v1.Global").build(),
              new ClientResponseObserver<HealthCheckRequest, HealthCheckResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<HealthCheckRequest> s) {
                  watch[0] = s;
                }

                @Override
                public void onNext(HealthCheckResponse value) {
                  statuses.add(value.getStatus());
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
              });
      assertThat(statuses.poll(30, TimeUnit.SECONDS)).isEqualTo(ServingStatus.SERVING);

      // An upload in flight keeps close() draining.
      StreamObserver<PutChunk> upload =
          GlobalGrpc.newStub(channel)
              .putStream(
                  new StreamObserver<PutResponse>() {
                    @Override
                    public void onNext(PutResponse value) {}

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      upload.onNext(
          PutChunk.newBuilder()
              .setHeader(PutHeader.newBuilder().setKey(bytes("in-flight")))
              .build());
      Await.until("the upload to reach storage", () -> ServerInternals.hub(server) != null);

      CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
      assertThat(statuses.poll(30, TimeUnit.SECONDS)).isEqualTo(ServingStatus.NOT_SERVING);
      assertThat(closing).as("close() still draining the upload").isNotDone();

      upload.onError(new RuntimeException("let it drain"));
      watch[0].cancel("done", null);
      closing.get(30, TimeUnit.SECONDS);
    } finally {
      channel.shutdownNow();
      server.close();
    }
  }
}
