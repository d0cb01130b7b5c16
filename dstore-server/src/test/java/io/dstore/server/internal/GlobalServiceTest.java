package io.dstore.server.internal;

import static io.dstore.server.internal.GlobalFixture.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.GetChunk;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GetResponse;
import io.dstore.proto.KeyGeneration;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.RevalidateRequest;
import io.dstore.proto.RevalidateResponse;
import io.dstore.proto.StatRequest;
import io.dstore.server.Coherence;
import io.dstore.wire.ContentKey;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every data operation of the Global service and its errors, over in-process gRPC. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GlobalServiceTest {
  private GlobalFixture global;

  @BeforeEach
  void start() throws Exception {
    global = new GlobalFixture(Coherence.STRICT, 1000);
  }

  @AfterEach
  void stop() {
    global.close();
  }

  private PutResponse put(String key, String value) {
    return global.blocking.put(
        PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build());
  }

  private GetResponse get(String key) {
    return global.blocking.get(GetRequest.newBuilder().setKey(bytes(key)).build());
  }

  private static void assertStatus(ThrowingCallable call, Status.Code code, String dstoreCode) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(String.valueOf(GrpcErrors.codeOf(e))).isEqualTo(dstoreCode);
            });
  }

  @Test
  void putThenGetStatDelete() {
    PutResponse created = put("k", "hello world");
    assertThat(created.getCreated()).isTrue();
    assertThat(created.getInfo().getSize()).isEqualTo(11);
    assertThat(created.getInfo().getGeneration()).isPositive();
    assertThat(Sha256.hex(created.getInfo().getSha256().toByteArray()))
        .isEqualTo(Sha256.hex(Sha256.of("hello world".getBytes())));

    GetResponse got = get("k");
    assertThat(got.getValue().toStringUtf8()).isEqualTo("hello world");
    assertThat(got.getInfo()).isEqualTo(created.getInfo());
    assertThat(global.blocking.stat(StatRequest.newBuilder().setKey(bytes("k")).build()).getInfo())
        .isEqualTo(created.getInfo());

    var deleted = global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("k")).build());
    assertThat(deleted.getGeneration()).isEqualTo(created.getInfo().getGeneration());
    assertThat(deleted.getSeq()).isEqualTo(1);
    assertStatus(() -> get("k"), Status.Code.NOT_FOUND, "NOT_FOUND");
  }

  @Test
  void keysAreWriteOnceAndRecreationGetsANewGeneration() {
    long first = put("k", "a").getInfo().getGeneration();
    assertStatus(() -> put("k", "a"), Status.Code.ALREADY_EXISTS, "ALREADY_EXISTS");
    assertStatus(() -> put("k", "b"), Status.Code.ALREADY_EXISTS, "ALREADY_EXISTS");
    assertThat(get("k").getValue().toStringUtf8()).isEqualTo("a");
    global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("k")).build());
    long second = put("k", "b").getInfo().getGeneration();
    assertThat(second).isGreaterThan(first);
  }

  @Test
  void badKeysAndValuesAreRefusedNamingTheLimit() {
    assertThatThrownBy(() -> put("", "v"))
        .hasMessageContaining("key is empty")
        .hasMessageContaining("1 to 1024 bytes");
    String longKey = "k".repeat(1025);
    assertStatus(() -> put(longKey, "v"), Status.Code.INVALID_ARGUMENT, "TOO_LARGE");
    assertThatThrownBy(() -> put(longKey, "v")).hasMessageContaining("limit is 1024 bytes");
    assertStatus(() -> get(""), Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT");
    assertStatus(
        () -> global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("")).build()),
        Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT");
    assertStatus(
        () -> global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("nope")).build()),
        Status.Code.NOT_FOUND,
        "NOT_FOUND");
    // Nothing of the refused puts was stored.
    assertThat(global.server.storage().keyCount()).isZero();
  }

  @Test
  void aLyingDigestIsRefusedAndStoresNothing() {
    assertStatus(
        () ->
            global.blocking.put(
                PutRequest.newBuilder()
                    .setKey(bytes("k"))
                    .setValue(bytes("v"))
                    .setSha256(ByteString.copyFrom(Sha256.of("other".getBytes())))
                    .build()),
        Status.Code.DATA_LOSS,
        "INTEGRITY");
    assertStatus(() -> get("k"), Status.Code.NOT_FOUND, "NOT_FOUND");
  }

  @Test
  void contentKeysMustMatchTheirBytesAndAreIdempotent() {
    String key = ContentKey.PREFIX + Sha256.hex(Sha256.of("blob".getBytes()));
    PutResponse first = put(key, "blob");
    assertThat(first.getCreated()).isTrue();
    PutResponse again = put(key, "blob");
    assertThat(again.getCreated()).isFalse();
    assertThat(again.getInfo()).isEqualTo(first.getInfo());
    assertStatus(() -> put(key, "not blob"), Status.Code.DATA_LOSS, "INTEGRITY");
    String other = ContentKey.PREFIX + "00".repeat(32);
    assertStatus(() -> put(other, "blob"), Status.Code.DATA_LOSS, "INTEGRITY");
  }

  @Test
  void contentAddressedUploadsLearnTheirKeyFromTheBytes() throws Exception {
    byte[] value = new byte[600_000];
    new Random(5).nextBytes(value);
    String expected = ContentKey.PREFIX + Sha256.hex(Sha256.of(value));
    PutResponse first = uploadContent(value, PutHeader.newBuilder().setContentAddressed(true));
    assertThat(first.getKey().toStringUtf8()).isEqualTo(expected);
    assertThat(first.getCreated()).isTrue();
    PutResponse again = uploadContent(value, PutHeader.newBuilder().setContentAddressed(true));
    assertThat(again.getCreated()).isFalse();
    assertThat(again.getInfo()).isEqualTo(first.getInfo());
    assertThat(global.server.storage().keyCount()).isEqualTo(1);
    // With the digest up front the key is known at once; still idempotent.
    PutResponse known =
        uploadContent(
            value,
            PutHeader.newBuilder()
                .setContentAddressed(true)
                .setSha256(ByteString.copyFrom(Sha256.of(value))));
    assertThat(known.getCreated()).isFalse();
    assertThat(known.getKey().toStringUtf8()).isEqualTo(expected);
    // A content-addressed upload must not also name a key.
    assertThatThrownBy(
            () ->
                uploadContent(
                    value, PutHeader.newBuilder().setContentAddressed(true).setKey(bytes("k"))))
        .hasMessageContaining("names no key");
    assertThat(global.server.storage().keyCount()).isEqualTo(1);
  }

  private PutResponse uploadContent(byte[] value, PutHeader.Builder header) throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> requests = global.async.putStream(observer(result));
    int chunk = 100_000;
    for (int off = 0; off < value.length; off += chunk) {
      PutChunk.Builder c =
          PutChunk.newBuilder()
              .setData(ByteString.copyFrom(value, off, Math.min(chunk, value.length - off)));
      if (off == 0) {
        c.setHeader(header.setSize(value.length));
      }
      if (off + chunk >= value.length) {
        c.setSha256(ByteString.copyFrom(Sha256.of(value)));
      }
      requests.onNext(c.build());
    }
    requests.onCompleted();
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  @Test
  void rangeReadsReturnJustThoseBytes() {
    put("k", "0123456789");
    GetResponse mid =
        global.blocking.get(
            GetRequest.newBuilder().setKey(bytes("k")).setOffset(3).setLength(4).build());
    assertThat(mid.getValue().toStringUtf8()).isEqualTo("3456");
    assertThat(mid.getInfo().getSize()).isEqualTo(10);
    GetResponse tail =
        global.blocking.get(GetRequest.newBuilder().setKey(bytes("k")).setOffset(7).build());
    assertThat(tail.getValue().toStringUtf8()).isEqualTo("789");
    GetResponse end =
        global.blocking.get(GetRequest.newBuilder().setKey(bytes("k")).setOffset(10).build());
    assertThat(end.getValue().isEmpty()).isTrue();
    assertStatus(
        () ->
            global.blocking.get(
                GetRequest.newBuilder().setKey(bytes("k")).setOffset(8).setLength(3).build()),
        Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT");
    assertStatus(
        () -> global.blocking.get(GetRequest.newBuilder().setKey(bytes("k")).setOffset(-1).build()),
        Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT");
  }

  @Test
  void largeValuesStreamBothWays() throws Exception {
    byte[] value = new byte[3 * 256 << 10]; // three times the test server's message limit
    new Random(42).nextBytes(value);
    PutResponse put = upload("big", value, 64 << 10, true);
    assertThat(put.getInfo().getSize()).isEqualTo(value.length);

    GetResponse unary = get("big");
    assertThat(unary.getStreamed()).isTrue();
    assertThat(unary.getValue().isEmpty()).isTrue();

    Iterator<GetChunk> chunks =
        global.blocking.getStream(
            GetRequest.newBuilder().setKey(bytes("big")).setChunkSize(100_000).build());
    ByteString.Output out = ByteString.newOutput();
    GetChunk first = chunks.next();
    assertThat(first.getInfo().getSize()).isEqualTo(value.length);
    first.getData().writeTo(out);
    int messages = 1;
    while (chunks.hasNext()) {
      chunks.next().getData().writeTo(out);
      messages++;
    }
    assertThat(out.toByteString().toByteArray()).isEqualTo(value);
    assertThat(messages).isEqualTo((value.length + 99_999) / 100_000);

    Iterator<GetChunk> range =
        global.blocking.getStream(
            GetRequest.newBuilder().setKey(bytes("big")).setOffset(1000).setLength(5).build());
    assertThat(range.next().getData().toByteArray())
        .isEqualTo(java.util.Arrays.copyOfRange(value, 1000, 1005));
    assertThat(range.hasNext()).isFalse();
  }

  @Test
  void uploadsThatEndWrongLeaveNothingBehind() throws Exception {
    byte[] value = new byte[200_000];
    new Random(7).nextBytes(value);
    // Declared size not met.
    assertThatThrownBy(() -> upload("k", value, 50_000, true, value.length + 1L))
        .hasMessageContaining("declared");
    // No digest at all.
    assertThatThrownBy(() -> upload("k", value, 50_000, false)).hasMessageContaining("SHA-256");
    // Cut off by the client half way.
    cancelHalfWay("k", value);
    assertThat(global.server.storage().keyCount()).isZero();
    assertStatus(() -> get("k"), Status.Code.NOT_FOUND, "NOT_FOUND");
    // And the key can be put afterwards.
    assertThat(upload("k", value, 50_000, true).getCreated()).isTrue();
    assertThat(global.server.storage().keyCount()).isEqualTo(1);
  }

  @Test
  void healthReportsServing() {
    HealthCheckResponse health =
        HealthGrpc.newBlockingStub(global.channel)
            .check(HealthCheckRequest.newBuilder().setService("dstore.v1.Global").build());
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void revalidateTellsWhichEntriesStillHold() {
    long a = put("a", "1").getInfo().getGeneration();
    long b = put("b", "2").getInfo().getGeneration();
    global.blocking.delete(DeleteRequest.newBuilder().setKey(bytes("b")).build());
    long b2 = put("b", "3").getInfo().getGeneration();
    RevalidateResponse answer =
        global.blocking.revalidate(
            RevalidateRequest.newBuilder()
                .addEntries(KeyGeneration.newBuilder().setKey(bytes("a")).setGeneration(a))
                .addEntries(KeyGeneration.newBuilder().setKey(bytes("b")).setGeneration(b))
                .addEntries(KeyGeneration.newBuilder().setKey(bytes("b")).setGeneration(b2))
                .addEntries(KeyGeneration.newBuilder().setKey(bytes("c")).setGeneration(1))
                .build());
    assertThat(answer.getValidList()).containsExactly(true, false, true, false);
    assertThat(answer.getSeq()).isEqualTo(1);
  }

  private PutResponse upload(String key, byte[] value, int chunk, boolean withSha)
      throws Exception {
    return upload(key, value, chunk, withSha, value.length);
  }

  private PutResponse upload(String key, byte[] value, int chunk, boolean withSha, long declared)
      throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> requests = global.async.putStream(observer(result));
    for (int off = 0; off < value.length; off += chunk) {
      PutChunk.Builder c =
          PutChunk.newBuilder()
              .setData(ByteString.copyFrom(value, off, Math.min(chunk, value.length - off)));
      if (off == 0) {
        c.setHeader(PutHeader.newBuilder().setKey(bytes(key)).setSize(declared));
      }
      if (off + chunk >= value.length && withSha) {
        c.setSha256(ByteString.copyFrom(Sha256.of(value)));
      }
      requests.onNext(c.build());
    }
    requests.onCompleted();
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private void cancelHalfWay(String key, byte[] value) throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> requests = global.async.putStream(observer(result));
    requests.onNext(
        PutChunk.newBuilder()
            .setHeader(PutHeader.newBuilder().setKey(bytes(key)).setSize(value.length))
            .setData(ByteString.copyFrom(value, 0, value.length / 2))
            .build());
    requests.onError(Status.CANCELLED.withDescription("client gave up").asRuntimeException());
    assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS)).hasMessageContaining("CANCELLED");
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> result) {
    List<T> values = new ArrayList<>();
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        values.add(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        result.complete(values.get(0));
      }
    };
  }
}
