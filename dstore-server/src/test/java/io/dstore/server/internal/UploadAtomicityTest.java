package io.dstore.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutResponse;
import io.dstore.proto.StatRequest;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upload that ends any way but a verified commit leaves nothing behind on the durable backend:
 * no readable value, no reserved key, no chunk left on disk; and the key can be put afterwards.
 * Each way an upload can end badly is driven through the gRPC service, as a client would.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UploadAtomicityTest {
  private static final int MIB = 1 << 20;
  private static final long LIMIT = 8L * MIB;

  @TempDir Path dir;
  private GlobalServer server;
  private RocksDbStorage storage;
  private ManagedChannel channel;
  private GlobalGrpc.GlobalStub async;
  private final byte[] value = new byte[3 * MIB + 12345];

  @BeforeEach
  void start() throws Exception {
    new Random(1).nextBytes(value);
    storage = (RocksDbStorage) Storage.rocksdb(dir, false);
    String name = "global-" + UUID.randomUUID();
    server =
        GlobalServer.builder()
            .inProcess(name)
            .storage(storage)
            .maxValueBytes(LIMIT)
            .startupGrace(java.time.Duration.ZERO)
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
    async = GlobalGrpc.newStub(channel);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  @Test
  void aLyingDigestLeavesNothing() throws Exception {
    byte[] lie = sha256(new byte[] {1});
    assertThatThrownBy(() -> upload("k", value, value.length, lie))
        .hasMessageContaining("does not match its SHA-256");
    assertNothingLeftAndKeyFree("k");
  }

  @Test
  void exceedingTheValueLimitLeavesNothing() throws Exception {
    byte[] big = new byte[(int) LIMIT + MIB];
    assertThatThrownBy(() -> upload("k", big, -1, sha256(big)))
        .hasMessageContaining("limit is " + LIMIT + " bytes");
    assertNothingLeftAndKeyFree("k");
  }

  @Test
  void aDeclaredSizeThatIsNotMetLeavesNothing() throws Exception {
    assertThatThrownBy(() -> upload("k", value, value.length + 1L, sha256(value)))
        .hasMessageContaining("declared");
    assertThatThrownBy(() -> upload("k", value, value.length - 1L, sha256(value)))
        .hasMessageContaining("declared");
    assertNothingLeftAndKeyFree("k");
  }

  @Test
  void anUploadCancelledHalfWayLeavesNothing() throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    ClientCallStreamObserver<PutChunk> requests = open(result);
    requests.onNext(chunk(0, MIB).setHeader(header("k", value.length)).build());
    requests.onNext(chunk(MIB, MIB).build());
    awaitUploadInProgress();
    requests.cancel("the client gave up", null);
    assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class);
    // The server learns of the cancellation asynchronously: wait until it has cleaned up.
    awaitNoUploadInProgress();
    assertNothingLeftAndKeyFree("k");
  }

  @Test
  void aChannelThatDiesMidUploadLeavesNothing() throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    ClientCallStreamObserver<PutChunk> requests = open(result);
    requests.onNext(chunk(0, MIB).setHeader(header("k", value.length)).build());
    requests.onNext(chunk(MIB, MIB).build());
    awaitUploadInProgress();
    channel.shutdownNow(); // as if the client process died
    assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class);
    awaitNoUploadInProgress();
    channel = InProcessChannelBuilder.forName(server.host()).build();
    async = GlobalGrpc.newStub(channel);
    assertNothingLeftAndKeyFree("k");
  }

  /** No value, no key, no chunk on disk; then the key can be created with the whole value. */
  private void assertNothingLeftAndKeyFree(String key) throws Exception {
    GlobalGrpc.GlobalBlockingStub blocking = GlobalGrpc.newBlockingStub(channel);
    assertThatThrownBy(() -> blocking.stat(StatRequest.newBuilder().setKey(bytes(key)).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThat(storage.keyCount()).isZero();
    assertThat(storage.valueBytes()).isZero();
    assertThat(storage.uploadMarkers()).as("uploads still open").isZero();
    assertThat(storage.chunkRecords()).as("chunks left behind").isZero();

    PutResponse put = upload(key, value, value.length, sha256(value));
    assertThat(put.getCreated()).isTrue();
    ByteString back = blocking.get(GetRequest.newBuilder().setKey(bytes(key)).build()).getValue();
    if (back.isEmpty()) { // too big for one message: stream it
      ByteString.Output out = ByteString.newOutput();
      blocking
          .getStream(GetRequest.newBuilder().setKey(bytes(key)).build())
          .forEachRemaining(c -> writeTo(c.getData(), out));
      back = out.toByteString();
    }
    assertThat(back.toByteArray()).isEqualTo(value);
  }

  /**
   * Waits until the server has opened the upload, so that the fault below hits an upload in
   * progress (not one the server has not seen yet, which would leave nothing trivially).
   */
  private void awaitUploadInProgress() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (storage.uploadMarkers() == 0) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("the server never opened the upload");
      }
      Thread.onSpinWait();
    }
  }

  private void awaitNoUploadInProgress() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (storage.uploadMarkers() != 0 || storage.chunkRecords() != 0) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("the cut-off upload was never cleaned up");
      }
      Thread.onSpinWait();
    }
  }

  private PutResponse upload(String key, byte[] bytes, long declared, byte[] sha) throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    ClientCallStreamObserver<PutChunk> requests = open(result);
    int step = MIB;
    for (int off = 0; off < bytes.length || off == 0; off += step) {
      int n = Math.min(step, bytes.length - off);
      PutChunk.Builder c = PutChunk.newBuilder().setData(ByteString.copyFrom(bytes, off, n));
      if (off == 0) {
        c.setHeader(header(key, declared));
      }
      if (off + step >= bytes.length) {
        c.setSha256(ByteString.copyFrom(sha));
      }
      requests.onNext(c.build());
      if (result.isDone()) {
        break; // refused before the end
      }
    }
    requests.onCompleted();
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private ClientCallStreamObserver<PutChunk> open(CompletableFuture<PutResponse> result) {
    @SuppressWarnings("unchecked")
    ClientCallStreamObserver<PutChunk>[] stream = new ClientCallStreamObserver[1];
    async.putStream(
        new ClientResponseObserver<PutChunk, PutResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<PutChunk> requests) {
            stream[0] = requests;
          }

          @Override
          public void onNext(PutResponse response) {
            result.complete(response);
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return stream[0];
  }

  private PutChunk.Builder chunk(int offset, int length) {
    return PutChunk.newBuilder().setData(ByteString.copyFrom(value, offset, length));
  }

  /** The header of an upload of {@code size} bytes; -1: size unknown (left unset). */
  private static PutHeader header(String key, long size) {
    PutHeader.Builder header = PutHeader.newBuilder().setKey(bytes(key));
    return (size >= 0 ? header.setSize(size) : header).build();
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  private static void writeTo(ByteString data, ByteString.Output out) {
    try {
      data.writeTo(out);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static byte[] sha256(byte[] bytes) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(bytes);
  }
}
