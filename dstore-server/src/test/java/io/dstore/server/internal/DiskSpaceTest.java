package io.dstore.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.PipelineRequest;
import io.dstore.proto.PipelineResponse;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.StatRequest;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.testing.Await;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Disk space as a managed resource: below the watermark new values are refused with NO_SPACE,
 * deletes and reads still work, and puts are accepted again once space is freed, with no restart.
 *
 * <p>Free space comes from an injected source, not a real full disk: making one needs a loop or
 * tmpfs mount, hence root, which a build does not have. The source is a store-level quota (the
 * quota less the bytes the store holds), so a delete really frees space as the server sees it, and
 * the server under test is otherwise the real one (in-process transport, real clock).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DiskSpaceTest {
  private static final int VALUE = 2000;
  private static final long QUOTA = 7000;
  private static final long WATERMARK = 2000;

  private GlobalServer server;
  private ManagedChannel channel;

  @AfterEach
  void tearDown() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void belowTheWatermarkPutsAreRefusedDeletesAndReadsWorkAndPutsComeBack() throws Exception {
    Storage storage = Storage.memory();
    String name = "disk-" + UUID.randomUUID();
    server =
        GlobalServer.builder()
            .inProcess(name)
            .storage(storage)
            .startupGrace(Duration.ZERO)
            .minFreeDiskBytes(WATERMARK)
            .freeSpace(() -> QUOTA - storage.valueBytes()) // the store-level quota
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    GlobalGrpc.GlobalBlockingStub blocking =
        GlobalGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    GlobalGrpc.GlobalStub async = GlobalGrpc.newStub(channel);

    for (String k : new String[] {"a", "b", "c"}) {
      blocking.put(PutRequest.newBuilder().setKey(key(k)).setValue(value(k)).build());
    }
    awaitMetric("dstore_disk_free_bytes " + (double) (QUOTA - 3 * VALUE)); // 1000 < 2000
    assertThat(server.scrapeMetrics())
        .contains("dstore_disk_watermark_bytes " + (double) WATERMARK);

    // Unary put: refused with NO_SPACE, under RESOURCE_EXHAUSTED, naming free, watermark, option.
    assertThatThrownBy(
            () ->
                blocking.put(PutRequest.newBuilder().setKey(key("d")).setValue(value("d")).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
              assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.NO_SPACE);
              assertThat(e.getStatus().getDescription())
                  .contains("1000 B free")
                  .contains("watermark of 2.0 KiB")
                  .contains("--min-free-disk");
            });
    // Pipelined put: the same failure.
    PipelineResponse piped =
        pipeline(
            async,
            PipelineRequest.newBuilder()
                .setId(1)
                .setPut(PutRequest.newBuilder().setKey(key("d")).setValue(value("d")))
                .build());
    assertThat(piped.hasFailure()).isTrue();
    assertThat(GrpcErrors.fromProto(piped.getFailure().getDetail().getCode()))
        .isEqualTo(ErrorCode.NO_SPACE);
    // Streamed upload, keyed and content-addressed.
    assertThatThrownBy(() -> upload(async, PutHeader.newBuilder().setKey(key("d")), value("d")))
        .satisfies(e -> assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.NO_SPACE));
    assertThatThrownBy(
            () -> upload(async, PutHeader.newBuilder().setContentAddressed(true), value("e")))
        .satisfies(e -> assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.NO_SPACE));
    assertThat(storage.keyCount()).isEqualTo(3);
    assertThat(server.scrapeMetrics())
        .containsPattern("dstore_writes_refused_total\\{reason=\"no_space\"\\} [4-9]\\.0");

    // Reads are unaffected.
    assertThat(blocking.get(GetRequest.newBuilder().setKey(key("a")).build()).getValue())
        .isEqualTo(value("a"));
    assertThat(blocking.stat(StatRequest.newBuilder().setKey(key("b")).build()).getInfo().getSize())
        .isEqualTo(VALUE);

    // A delete works at the watermark and frees space; puts are accepted again, no restart.
    blocking.delete(DeleteRequest.newBuilder().setKey(key("a")).build());
    awaitMetric("dstore_disk_free_bytes " + (double) (QUOTA - 2 * VALUE));
    blocking.put(PutRequest.newBuilder().setKey(key("d")).setValue(value("d")).build());
    assertThat(blocking.get(GetRequest.newBuilder().setKey(key("d")).build()).getValue())
        .isEqualTo(value("d"));
    assertThat(server.scrapeMetrics()).contains("dstore_storage_write_blocked 0.0");
  }

  @Test
  void zeroTurnsTheWatermarkOff() throws Exception {
    String name = "disk-" + UUID.randomUUID();
    server =
        GlobalServer.builder()
            .inProcess(name)
            .storage(Storage.memory())
            .minFreeDiskBytes(0)
            .freeSpace(() -> 0)
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    PutResponse put =
        GlobalGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .put(PutRequest.newBuilder().setKey(key("k")).setValue(value("k")).build());
    assertThat(put.getCreated()).isTrue();
  }

  @Test
  void aStorageThatStoppedWritingIsRefusedUntilSpaceIsBackThenResumed() {
    AtomicLong free = new AtomicLong(100);
    FakeStorage storage = new FakeStorage();
    storage.blockedBy.set("commit failed: IO error: No space left on device");
    AtomicLong nanos = new AtomicLong();
    DiskSpace space = new DiskSpace(free::get, 1000, "/data's filesystem", storage, nanos::get);

    assertThatThrownBy(space::checkWrite)
        .satisfies(e -> assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.NO_SPACE))
        .hasMessageContaining("100 B free on /data's filesystem");
    space.check(); // still below the watermark: no attempt to resume
    assertThat(storage.resumes.get()).isZero();
    assertThat(space.storageWriteBlocked()).isTrue();

    free.set(5000);
    space.check(); // the background round: reads free space at once, whatever the clock says
    assertThat(storage.resumes.get()).isEqualTo(1);
    assertThat(space.storageWriteBlocked()).isFalse();
    space.checkWrite(); // accepted
    assertThat(space.refusals()).isEqualTo(1);
  }

  @Test
  void aStorageBlockedAboveTheWatermarkIsRefusedWithTheCause() {
    FakeStorage storage = new FakeStorage();
    storage.blockedBy.set("flush failed: No space left on device");
    storage.resumeFails = true;
    AtomicLong nanos = new AtomicLong();
    DiskSpace space =
        new DiskSpace(() -> 1L << 40, 1000, "/data's filesystem", storage, nanos::get);
    space.check(); // the resume fails: stays blocked, the check survives
    assertThatThrownBy(space::checkWrite)
        .satisfies(e -> assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.NO_SPACE))
        .hasMessageContaining("stopped writing after running out of disk space")
        .hasMessageContaining("flush failed: No space left on device")
        .hasMessageContaining("--min-free-disk");
  }

  @Test
  void freeSpaceIsReadAtMostEveryRefreshIntervalOnTheClock() {
    AtomicLong reads = new AtomicLong();
    AtomicLong nanos = new AtomicLong();
    DiskSpace space =
        new DiskSpace(
            () -> {
              reads.incrementAndGet();
              return 1L << 40;
            },
            1000,
            "disk",
            null,
            nanos::get);
    long before = reads.get();
    for (int i = 0; i < 1000; i++) {
      space.checkWrite();
    }
    assertThat(reads.get()).isEqualTo(before);
    nanos.addAndGet(DiskSpace.REFRESH.toNanos());
    space.checkWrite();
    assertThat(reads.get()).isEqualTo(before + 1);
  }

  @Test
  void theDefaultWatermarkIsTheLargerOfOneGibAndFivePercent() {
    assertThat(DiskSpace.defaultWatermark(10L << 30)).isEqualTo(1L << 30);
    assertThat(DiskSpace.defaultWatermark(1000L << 30)).isEqualTo(50L << 30);
  }

  private void awaitMetric(String line) {
    Await.until(line, () -> server.scrapeMetrics().contains(line));
  }

  private static ByteString key(String k) {
    return ByteString.copyFromUtf8(k);
  }

  private static ByteString value(String k) {
    byte[] bytes = new byte[VALUE];
    Arrays.fill(bytes, (byte) k.charAt(0));
    return ByteString.copyFrom(bytes);
  }

  private static PipelineResponse pipeline(GlobalGrpc.GlobalStub async, PipelineRequest request)
      throws Exception {
    CompletableFuture<PipelineResponse> answer = new CompletableFuture<>();
    StreamObserver<PipelineRequest> requests =
        async.pipeline(
            new StreamObserver<>() {
              @Override
              public void onNext(PipelineResponse value) {
                answer.complete(value);
              }

              @Override
              public void onError(Throwable t) {
                answer.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {}
            });
    requests.onNext(request);
    try {
      return answer.get(30, TimeUnit.SECONDS);
    } finally {
      requests.onCompleted();
    }
  }

  private static PutResponse upload(
      GlobalGrpc.GlobalStub async, PutHeader.Builder header, ByteString value) throws Throwable {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> requests =
        async.putStream(
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
    requests.onNext(
        PutChunk.newBuilder()
            .setHeader(header.setSize(value.size()))
            .setData(value)
            .setSha256(ByteString.copyFrom(Sha256.of(value.toByteArray())))
            .build());
    requests.onCompleted();
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause();
    }
  }

  /** A disk storage whose blocked state the test sets. */
  private static final class FakeStorage implements SpaceAware {
    final AtomicReference<String> blockedBy = new AtomicReference<>();
    final AtomicLong resumes = new AtomicLong();
    volatile boolean resumeFails;

    @Override
    public Path directory() {
      return Path.of("/data");
    }

    @Override
    public String writesBlockedBy() {
      return blockedBy.get();
    }

    @Override
    public void resumeWrites() throws IOException {
      resumes.incrementAndGet();
      if (resumeFails) {
        throw new IOException("No space left on device");
      }
      blockedBy.set(null);
    }
  }
}
