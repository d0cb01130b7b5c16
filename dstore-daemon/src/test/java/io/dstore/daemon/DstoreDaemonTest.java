package io.dstore.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.Entry;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.server.GlobalServer;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Local daemon in front of a Global, both on loopback sockets: thin clients share its Local's
 * cache, errors keep their codes, streams move large values, and Global's own calls are refused.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DstoreDaemonTest {

  private final List<AutoCloseable> closing = new ArrayList<>();
  private GlobalServer global;
  private Dstore local;
  private DstoreDaemon daemon;

  @BeforeEach
  void start() throws Exception {
    global =
        GlobalServer.builder().listen("127.0.0.1", 0).startupGrace(Duration.ZERO).build().start();
    local = Dstore.connect(global.address(), DstoreOptions.defaults());
    local.awaitReady(Duration.ofSeconds(20));
    daemon =
        DstoreDaemon.builder()
            .listen("127.0.0.1", 0)
            .local(local)
            .maxMessageBytes(64 << 10)
            .idleStreamTimeout(Duration.ofMillis(300))
            .build()
            .start();
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    daemon.close();
    local.close();
    global.close();
  }

  /** A raw channel to the daemon, for calls no {@link Dstore} makes. */
  private ManagedChannel channel() {
    ManagedChannel c = NettyChannelBuilder.forTarget(daemon.address()).usePlaintext().build();
    closing.add(c::shutdownNow);
    return c;
  }

  private Dstore thinClient() {
    Dstore thin =
        Dstore.connect(
            daemon.address(),
            DstoreOptions.builder().coherentCache(false).chunkSize(16 << 10).build());
    closing.add(thin);
    return thin;
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void thinClientsShareTheDaemonsCache() {
    Dstore writer = thinClient();
    Dstore reader = thinClient();
    long generation = writer.put(b("k"), b("shared"));
    Entry e = reader.getEntry(b("k"));
    assertThat(e.value()).isEqualTo(b("shared"));
    assertThat(e.info().generation()).isEqualTo(generation);
    assertThat(e.fromCache()).isTrue(); // the daemon's Local cached it when it was put
    assertThat(local.stats().cacheHits()).isEqualTo(1);
  }

  @Test
  void aValueFromGlobalIsAMissFirstAndAHitAfter() throws Exception {
    try (Dstore direct =
        Dstore.connect(global.address(), DstoreOptions.builder().coherentCache(false).build())) {
      direct.put(b("elsewhere"), b("from Global"));
    }
    Dstore thin = thinClient();
    assertThat(thin.getEntry(b("elsewhere")).fromCache()).isFalse();
    assertThat(thin.getEntry(b("elsewhere")).fromCache()).isTrue();
    assertThat(thin.stat(b("elsewhere")).size()).isEqualTo(11);
    assertThat(thin.get(b("elsewhere"), 5, 6)).isEqualTo(b("Global"));
  }

  @Test
  void errorsKeepTheirCodes() {
    Dstore thin = thinClient();
    thin.put(b("k"), b("v"));
    assertCode(() -> thin.put(b("k"), b("other")), ErrorCode.ALREADY_EXISTS);
    assertCode(() -> thin.get(b("absent")), ErrorCode.NOT_FOUND);
    assertCode(() -> thin.get(b("k"), 0, 5), ErrorCode.INVALID_ARGUMENT);
    assertThat(thin.delete(b("k"))).isPositive();
    assertCode(() -> thin.get(b("k")), ErrorCode.NOT_FOUND);
    assertCode(() -> thin.delete(b("k")), ErrorCode.NOT_FOUND);
    assertThat(global.storage().keyCount()).isZero();
  }

  @Test
  void largeValuesMoveAsStreamsBothWays() {
    byte[] value = new byte[300 << 10]; // over the daemon's 64 KiB messages
    new Random(7).nextBytes(value);
    Dstore thin = thinClient();
    thin.put(b("big"), new ByteArrayInputStream(value), value.length);
    assertThat(thin.getEntry(b("big")).value()).isEqualTo(value); // streamed puts are not cached
    Entry e = thin.getEntry(b("big"));
    assertThat(e.value()).isEqualTo(value);
    assertThat(e.fromCache()).isTrue();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    thin.get(b("big"), 1000, 100_000, out);
    assertThat(out.toByteArray()).isEqualTo(java.util.Arrays.copyOfRange(value, 1000, 101_000));
    assertThat(thin.putContent(b("small content"))).isEqualTo(thin.putContent(b("small content")));
  }

  @Test
  void aLyingDigestStoresNothing() throws Exception {
    GlobalGrpc.GlobalBlockingStub stub = GlobalGrpc.newBlockingStub(channel());
    assertThatThrownBy(
            () ->
                stub.put(
                    PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("k"))
                        .setValue(ByteString.copyFromUtf8("v"))
                        .setSha256(ByteString.copyFrom(new byte[32]))
                        .build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.INTEGRITY);
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DATA_LOSS);
            });

    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> up = GlobalGrpc.newStub(channel()).putStream(observer(result));
    up.onNext(
        PutChunk.newBuilder()
            .setHeader(PutHeader.newBuilder().setKey(ByteString.copyFromUtf8("streamed")))
            .setData(ByteString.copyFrom(new byte[40_000])) // under the 48 KiB chunk limit
            .build());
    up.onNext(PutChunk.newBuilder().setSha256(ByteString.copyFrom(new byte[32])).build());
    up.onCompleted();
    StatusRuntimeException e = failure(result);
    assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.INTEGRITY);
    assertThat(global.storage().keyCount()).isZero();
  }

  @Test
  void aStalledUploadIsCutOffAndStoresNothing() throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> up = GlobalGrpc.newStub(channel()).putStream(observer(result));
    up.onNext(
        PutChunk.newBuilder()
            .setHeader(PutHeader.newBuilder().setKey(ByteString.copyFromUtf8("stalled")))
            .setData(ByteString.copyFrom(new byte[10]))
            .build());
    StatusRuntimeException e = failure(result);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(e.getStatus().getDescription()).contains("nothing was stored");
    assertThat(global.storage().keyCount()).isZero();
    thinClient().put(b("after"), b("fine"));
  }

  @Test
  void globalsOwnCallsAreNotServed() {
    assertThatThrownBy(
            () ->
                GlobalGrpc.newBlockingStub(channel())
                    .join(JoinRequest.newBuilder().setName("x").build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
              assertThat(e.getStatus().getDescription()).contains("Local daemon");
            });
  }

  @Test
  void aDaemonWithATokenRefusesOthers() throws Exception {
    try (DstoreDaemon guarded =
        DstoreDaemon.builder()
            .listen("127.0.0.1", 0)
            .local(local)
            .token("daemon-token")
            .build()
            .start()) {
      Dstore without =
          Dstore.connect(guarded.address(), DstoreOptions.builder().coherentCache(false).build());
      closing.add(without);
      assertCode(() -> without.put(b("k"), b("v")), ErrorCode.UNAUTHENTICATED);
      assertThat(global.storage().keyCount()).isZero();
      assertThat(guarded.address()).isEqualTo("127.0.0.1:" + guarded.port());
    }
  }

  private static void assertCode(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(DstoreException.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  private static StatusRuntimeException failure(CompletableFuture<?> f) throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
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
