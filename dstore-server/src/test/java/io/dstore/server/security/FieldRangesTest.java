package io.dstore.server.security;

import static io.dstore.server.security.Stubs.assertStatus;
import static io.dstore.server.security.Stubs.blocking;
import static io.dstore.server.security.Stubs.bytes;
import static org.assertj.core.api.Assertions.assertThat;

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
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request fields outside their documented ranges are refused with INVALID_ARGUMENT naming the field
 * and the range, never clamped or ignored; a size left unset means "unknown", not 0. Global runs
 * with a 64 KiB message limit, so its stream chunk limit is 48 KiB.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FieldRangesTest {
  private static final int CHUNK_LIMIT = (64 << 10) - (16 << 10);

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
            .maxMessageBytes(64 << 10)
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  // ---- PutHeader.size ---------------------------------------------------------------------

  @Test
  void aNegativeDeclaredSizeIsRefusedSayingToLeaveTheSizeUnsetWhenUnknown() throws Exception {
    byte[] value = "abc".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    StatusRuntimeException e =
        refusal(
            upload(
                header("k").setSize(-1),
                List.of(data(value)),
                PutChunk.newBuilder().setSha256(sha(value)).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription())
        .isEqualTo(
            "PutHeader.size is -1: a declared size is 0 or more bytes; leave size unset when it is"
                + " unknown");
    assertNothingStored();
  }

  @Test
  void anUploadWithItsSizeLeftUnsetIsOfUnknownSizeAndStoresWhatArrived() throws Exception {
    byte[] value = new byte[100_000];
    value[99_999] = 7;
    List<PutChunk> chunks =
        List.of(data(value, 0, 40_000), data(value, 40_000, 40_000), data(value, 80_000, 20_000));
    PutResponse put =
        upload(header("k"), chunks, PutChunk.newBuilder().setSha256(sha(value)).build()).get();
    assertThat(put.getInfo().getSize()).isEqualTo(100_000);
    assertThat(put.getCreated()).isTrue();
  }

  @Test
  void aDeclaredSizeOfZeroIsAPromiseOfAnEmptyValueNotUnknown() throws Exception {
    byte[] value = {1, 2, 3};
    StatusRuntimeException e =
        refusal(
            upload(
                header("k").setSize(0),
                List.of(data(value)),
                PutChunk.newBuilder().setSha256(sha(value)).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription()).contains("the 0 declared bytes");
    assertNothingStored();

    PutResponse empty =
        upload(
                header("empty").setSize(0),
                List.of(),
                PutChunk.newBuilder().setSha256(sha()).build())
            .get();
    assertThat(empty.getInfo().getSize()).isZero();
  }

  // ---- PutChunk -----------------------------------------------------------------------------

  @Test
  void aStreamChunkOverThePerChunkLimitIsRefusedAsTooLargeNamingTheLimit() throws Exception {
    byte[] value = new byte[CHUNK_LIMIT + 1]; // still under the 64 KiB message limit
    StatusRuntimeException e =
        refusal(
            upload(
                header("k").setSize(value.length),
                List.of(data(value)),
                PutChunk.newBuilder().setSha256(sha(value)).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(e.getStatus().getDescription())
        .isEqualTo(
            "PutChunk.data is "
                + (CHUNK_LIMIT + 1)
                + " bytes: a stream chunk carries at most "
                + CHUNK_LIMIT
                + " bytes (the message limit less 16 KiB; set with --max-message-size)");
    Await.until("the upload to be aborted", () -> storage.openUploads.get() == 0);
    assertNothingStored();

    // A chunk of exactly the limit goes through.
    byte[] fits = new byte[CHUNK_LIMIT];
    assertThat(
            upload(
                    header("fits").setSize(fits.length),
                    List.of(data(fits)),
                    PutChunk.newBuilder().setSha256(sha(fits)).build())
                .get()
                .getInfo()
                .getSize())
        .isEqualTo(CHUNK_LIMIT);
  }

  @Test
  void aSha256SentBothInTheHeaderAndInTheLastMessageIsCheckedInBothNotIgnoredInOne()
      throws Exception {
    byte[] value = {1, 2, 3};
    byte[] other = {4, 5, 6};
    StatusRuntimeException e =
        refusal(
            upload(
                header("k").setSize(3).setSha256(sha(value)),
                List.of(data(value)),
                PutChunk.newBuilder().setSha256(sha(other)).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DATA_LOSS);
    assertThat(GrpcErrors.codeOf(e)).isEqualTo(ErrorCode.INTEGRITY);
    assertThat(e.getStatus().getDescription()).startsWith("value does not match its SHA-256");
    assertNothingStored();

    assertThat(
            upload(
                    header("k").setSize(3).setSha256(sha(value)),
                    List.of(data(value)),
                    PutChunk.newBuilder().setSha256(sha(value)).build())
                .get(30, TimeUnit.SECONDS)
                .getCreated())
        .isTrue();
  }

  @Test
  void theHeaderMessageMayCarryTheWholeValueAndItsSha256() throws Exception {
    byte[] value = "in one message".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    CompletableFuture<PutResponse> result =
        send(
            List.of(
                PutChunk.newBuilder()
                    .setHeader(header("k").setSize(value.length))
                    .setData(ByteString.copyFrom(value))
                    .setSha256(sha(value))
                    .build()));
    assertThat(result.get(30, TimeUnit.SECONDS).getInfo().getSize()).isEqualTo(value.length);
    assertThat(blocking(channel).get(GetRequest.newBuilder().setKey(bytes("k")).build()).getValue())
        .isEqualTo(ByteString.copyFrom(value));
  }

  // ---- GetRequest.chunk_size and max_inline_bytes -------------------------------------------

  @Test
  void aChunkSizeOutsideZeroOr4KiBTo4MiBIsRefusedNamingTheRangeOnGetAndGetStream() {
    put("k", new byte[10]);
    for (int bad : new int[] {-1, 1, 4095, (4 << 20) + 1, Integer.MIN_VALUE}) {
      GetRequest request = GetRequest.newBuilder().setKey(bytes("k")).setChunkSize(bad).build();
      String expected =
          "chunk_size is "
              + bad
              + ": it must be 0 (the server's default, 1048576 bytes) or 4096 to 4194304 bytes";
      assertThat(
              assertStatus(
                  () -> blocking(channel).get(request),
                  Status.Code.INVALID_ARGUMENT,
                  "INVALID_ARGUMENT"))
          .isEqualTo(expected);
      assertThat(
              assertStatus(
                  () -> blocking(channel).getStream(request).next(),
                  Status.Code.INVALID_ARGUMENT,
                  "INVALID_ARGUMENT"))
          .isEqualTo(expected);
    }
    for (int good : new int[] {0, 4096, 4 << 20}) {
      GetRequest request = GetRequest.newBuilder().setKey(bytes("k")).setChunkSize(good).build();
      assertThat(blocking(channel).get(request).getValue().size()).isEqualTo(10);
      assertThat(blocking(channel).getStream(request).next().getData().size()).isEqualTo(10);
    }
  }

  @Test
  void aStreamAskedFor4MiBChunksGetsChunksNoLargerThanTheServersChunkLimit() throws Exception {
    byte[] value = new byte[200_000];
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) i;
    }
    upload(
            header("big").setSize(value.length),
            List.of(
                data(value, 0, 40_000),
                data(value, 40_000, 40_000),
                data(value, 80_000, 40_000),
                data(value, 120_000, 40_000),
                data(value, 160_000, 40_000)),
            PutChunk.newBuilder().setSha256(sha(value)).build())
        .get();
    Iterator<GetChunk> chunks =
        blocking(channel)
            .getStream(GetRequest.newBuilder().setKey(bytes("big")).setChunkSize(4 << 20).build());
    ByteString.Output out = ByteString.newOutput();
    while (chunks.hasNext()) {
      ByteString d = chunks.next().getData();
      assertThat(d.size()).isLessThanOrEqualTo(CHUNK_LIMIT);
      d.writeTo(out);
    }
    assertThat(out.toByteString()).isEqualTo(ByteString.copyFrom(value));
  }

  @Test
  void aNegativeMaxInlineBytesIsRefusedNamingTheRange() {
    put("k", new byte[10]);
    GetRequest request = GetRequest.newBuilder().setKey(bytes("k")).setMaxInlineBytes(-1).build();
    String expected =
        "max_inline_bytes is -1: it must be 0 (the server's inline limit, "
            + CHUNK_LIMIT
            + " bytes) or 1 to 2147483647 bytes";
    assertThat(
            assertStatus(
                () -> blocking(channel).get(request),
                Status.Code.INVALID_ARGUMENT,
                "INVALID_ARGUMENT"))
        .isEqualTo(expected);
    assertThat(
            assertStatus(
                () -> blocking(channel).getStream(request).next(),
                Status.Code.INVALID_ARGUMENT,
                "INVALID_ARGUMENT"))
        .isEqualTo(expected);

    // In range: 5 answers a 10-byte value `streamed`, a huge number means the server's limit.
    assertThat(
            blocking(channel)
                .get(GetRequest.newBuilder().setKey(bytes("k")).setMaxInlineBytes(5).build())
                .getStreamed())
        .isTrue();
    assertThat(
            blocking(channel)
                .get(
                    GetRequest.newBuilder()
                        .setKey(bytes("k"))
                        .setMaxInlineBytes(Integer.MAX_VALUE)
                        .build())
                .getValue()
                .size())
        .isEqualTo(10);
  }

  // ---- helpers --------------------------------------------------------------------------------

  private void put(String key, byte[] value) {
    blocking(channel)
        .put(
            PutRequest.newBuilder()
                .setKey(bytes(key))
                .setValue(ByteString.copyFrom(value))
                .build());
  }

  private void assertNothingStored() {
    assertThat(storage.keyCount()).isZero();
  }

  private static PutHeader.Builder header(String key) {
    return PutHeader.newBuilder().setKey(bytes(key));
  }

  private static PutChunk data(byte[] value) {
    return data(value, 0, value.length);
  }

  private static PutChunk data(byte[] value, int offset, int length) {
    return PutChunk.newBuilder().setData(ByteString.copyFrom(value, offset, length)).build();
  }

  private static ByteString sha(byte[]... parts) throws Exception {
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    for (byte[] p : parts) {
      d.update(p);
    }
    return ByteString.copyFrom(d.digest());
  }

  /** The header in a message of its own, then {@code chunks}, then {@code last}; half-closes. */
  private CompletableFuture<PutResponse> upload(
      PutHeader.Builder header, List<PutChunk> chunks, PutChunk last) {
    List<PutChunk> all = new java.util.ArrayList<>();
    all.add(PutChunk.newBuilder().setHeader(header).build());
    all.addAll(chunks);
    all.add(last);
    return send(all);
  }

  private CompletableFuture<PutResponse> send(List<PutChunk> messages) {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> up =
        GlobalGrpc.newStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
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
    for (PutChunk m : messages) {
      up.onNext(m);
    }
    up.onCompleted();
    return result;
  }

  private static StatusRuntimeException refusal(CompletableFuture<PutResponse> result)
      throws Exception {
    try {
      PutResponse r = result.get(30, TimeUnit.SECONDS);
      throw new AssertionError("the upload succeeded: " + r);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(StatusRuntimeException.class);
      return (StatusRuntimeException) e.getCause();
    }
  }
}
