package io.dstore.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.GetChunk;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GetResponse;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.StatRequest;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.server.internal.Errors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * Random and adversarial requests against Global's validation, over in-process gRPC: every refusal
 * is INVALID_ARGUMENT (TOO_LARGE, INTEGRITY), ALREADY_EXISTS or NOT_FOUND with a message, never
 * INTERNAL; and after each request the storage holds exactly what the successful ones put, no half
 * values. jqwik has no class timeout: every call carries a 10 s gRPC deadline instead.
 */
class RequestValidationPropertyTest {
  private static final Set<String> REFUSAL_CODES =
      Set.of("INVALID_ARGUMENT", "TOO_LARGE", "INTEGRITY", "ALREADY_EXISTS", "NOT_FOUND");
  private static final HexFormat HEX = HexFormat.of();

  private GlobalServer server;
  private ManagedChannel channel;
  private GlobalGrpc.GlobalStub async;
  private final Map<ByteString, ByteString> model = new HashMap<>();

  @BeforeProperty
  void start() throws Exception {
    String name = "global-" + UUID.randomUUID();
    server =
        GlobalServer.builder()
            .inProcess(name)
            .storage(Storage.memory())
            .startupGrace(Duration.ZERO)
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
    async = GlobalGrpc.newStub(channel);
    model.clear();
  }

  @AfterProperty
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  private GlobalGrpc.GlobalBlockingStub blocking() {
    return GlobalGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  // ---- properties -----------------------------------------------------------------------------

  @Property(tries = 200)
  void adversarialRequestsAreRefusedCleanlyAndLeaveNothingHalfWritten(
      @ForAll("requestLists") List<Request> requests) throws Exception {
    for (Request r : requests) {
      r.run(this);
      assertStorageMatchesModel();
    }
  }

  @Property(tries = 200)
  void arbitraryKeysRoundTrip(
      @ForAll("validKeys") byte[] key, @ForAll @Size(max = 2000) byte[] value) {
    ByteString k = ByteString.copyFrom(key);
    ByteString v = ByteString.copyFrom(value);
    PutResponse put = blocking().put(PutRequest.newBuilder().setKey(k).setValue(v).build());
    assertThat(put.getKey()).isEqualTo(k);
    assertThat(blocking().get(GetRequest.newBuilder().setKey(k).build()).getValue()).isEqualTo(v);
    assertThat(blocking().stat(StatRequest.newBuilder().setKey(k).build()).getInfo().getSize())
        .isEqualTo(value.length);
    assertThat(blocking().delete(DeleteRequest.newBuilder().setKey(k).build()).getGeneration())
        .isEqualTo(put.getInfo().getGeneration());
    refused(() -> blocking().get(GetRequest.newBuilder().setKey(k).build()));
    assertThat(server.storage().keyCount()).isZero();
  }

  // ---- the model ------------------------------------------------------------------------------

  private void assertStorageMatchesModel() {
    Storage storage = server.storage();
    assertThat(storage.keyCount()).isEqualTo(model.size());
    assertThat(storage.valueBytes())
        .isEqualTo(model.values().stream().mapToLong(ByteString::size).sum());
  }

  /** Runs a call that may be refused; asserts a refusal is a clean one. True if it succeeded. */
  private static boolean refused(Runnable call) {
    try {
      call.run();
      return false;
    } catch (StatusRuntimeException e) {
      assertCleanRefusal(e);
      return true;
    }
  }

  private static void assertCleanRefusal(Throwable t) {
    assertThat(t).isInstanceOf(StatusRuntimeException.class);
    StatusRuntimeException e = (StatusRuntimeException) t;
    assertThat(e.getStatus().getCode())
        .isIn(Status.Code.INVALID_ARGUMENT, Status.Code.ALREADY_EXISTS, Status.Code.NOT_FOUND);
    assertThat(e.getTrailers()).isNotNull();
    assertThat(e.getTrailers().get(Errors.CODE_KEY)).isIn(REFUSAL_CODES);
    assertThat(e.getStatus().getDescription()).isNotBlank();
  }

  // ---- requests -------------------------------------------------------------------------------

  /** One request and what it does to the model when it succeeds. */
  sealed interface Request permits UnaryPut, StreamPut, Read, Delete {
    void run(RequestValidationPropertyTest t) throws Exception;
  }

  record UnaryPut(byte[] key, byte[] value, int shaMode) implements Request {
    @Override
    public void run(RequestValidationPropertyTest t) {
      PutRequest.Builder b =
          PutRequest.newBuilder()
              .setKey(ByteString.copyFrom(key))
              .setValue(ByteString.copyFrom(value));
      if (shaMode > 0) {
        b.setSha256(sha(value, shaMode));
      }
      try {
        PutResponse r = t.blocking().put(b.build());
        t.model.putIfAbsent(ByteString.copyFrom(key), ByteString.copyFrom(value));
        assertThat(r.getInfo().getSize()).isEqualTo(value.length);
      } catch (StatusRuntimeException e) {
        assertCleanRefusal(e);
      }
    }
  }

  /**
   * An upload: header (maybe twice, maybe missing), chunks, a digest in the header or the last
   * message (right, wrong, 31 bytes, or none), maybe bytes after the digest.
   */
  record StreamPut(
      byte[] key,
      List<byte[]> chunks,
      int sizeMode,
      int shaMode,
      boolean shaInHeader,
      int shape,
      boolean contentAddressed)
      implements Request {
    @Override
    public void run(RequestValidationPropertyTest t) throws Exception {
      long total = chunks.stream().mapToLong(c -> c.length).sum();
      byte[] whole = new byte[(int) total];
      int at = 0;
      for (byte[] c : chunks) {
        System.arraycopy(c, 0, whole, at, c.length);
        at += c.length;
      }
      long declared =
          switch (sizeMode) {
            case 0 -> total;
            case 1 -> -1;
            case 2 -> Long.MAX_VALUE;
            case 3 -> -2 - total;
            case 4 -> total + 1;
            default -> Math.max(0, total - 1);
          };
      PutHeader.Builder header =
          PutHeader.newBuilder()
              .setKey(ByteString.copyFrom(key))
              .setSize(declared)
              .setContentAddressed(contentAddressed);
      ByteString digest = shaMode == 0 ? ByteString.EMPTY : sha(whole, shaMode);
      if (shaInHeader) {
        header.setSha256(digest);
      }
      CompletableFuture<PutResponse> result = new CompletableFuture<>();
      StreamObserver<PutChunk> up =
          t.async.withDeadlineAfter(10, TimeUnit.SECONDS).putStream(observer(result));
      if (shape != 1) { // shape 1: no header at all
        up.onNext(PutChunk.newBuilder().setHeader(header).build());
      }
      if (shape == 2) {
        up.onNext(PutChunk.newBuilder().setHeader(header).build());
      }
      for (byte[] c : chunks) {
        up.onNext(PutChunk.newBuilder().setData(ByteString.copyFrom(c)).build());
      }
      if (!shaInHeader) {
        up.onNext(PutChunk.newBuilder().setSha256(digest).build());
      }
      if (shape == 3) {
        up.onNext(PutChunk.newBuilder().setData(ByteString.copyFromUtf8("late")).build());
      }
      up.onCompleted();
      try {
        PutResponse r = result.get(10, TimeUnit.SECONDS);
        assertThat(r.getInfo().getSize()).isEqualTo(total);
        t.model.putIfAbsent(ByteString.copyFrom(key), ByteString.copyFrom(whole));
      } catch (ExecutionException e) {
        assertCleanRefusal(e.getCause());
      }
    }
  }

  record Read(byte[] key, Long offset, Long length, boolean streamed) implements Request {
    @Override
    public void run(RequestValidationPropertyTest t) {
      GetRequest.Builder b = GetRequest.newBuilder().setKey(ByteString.copyFrom(key));
      if (offset != null) {
        b.setOffset(offset);
      }
      if (length != null) {
        b.setLength(length);
      }
      try {
        ByteString got;
        if (streamed) {
          ByteString.Output out = ByteString.newOutput();
          Iterator<GetChunk> chunks = t.blocking().getStream(b.build());
          while (chunks.hasNext()) {
            chunks.next().getData().writeTo(out);
          }
          got = out.toByteString();
        } else {
          GetResponse r = t.blocking().get(b.build());
          got = r.getValue();
        }
        ByteString expected = t.model.get(ByteString.copyFrom(key));
        assertThat(expected).as("a read of a key never stored succeeded").isNotNull();
        long from = offset == null ? 0 : offset;
        long len = length == null ? expected.size() - from : length;
        assertThat(got).isEqualTo(expected.substring((int) from, (int) (from + len)));
      } catch (StatusRuntimeException e) {
        assertCleanRefusal(e);
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
    }
  }

  record Delete(byte[] key) implements Request {
    @Override
    public void run(RequestValidationPropertyTest t) {
      try {
        t.blocking().delete(DeleteRequest.newBuilder().setKey(ByteString.copyFrom(key)).build());
        assertThat(t.model.remove(ByteString.copyFrom(key))).isNotNull();
      } catch (StatusRuntimeException e) {
        assertCleanRefusal(e);
      }
    }
  }

  /** shaMode 1: right; 2: wrong; 3: 31 bytes; 4: 33 bytes. */
  static ByteString sha(byte[] value, int shaMode) {
    byte[] right;
    try {
      right = MessageDigest.getInstance("SHA-256").digest(value);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
    return switch (shaMode) {
      case 1 -> ByteString.copyFrom(right);
      case 2 -> {
        right[0] ^= 1;
        yield ByteString.copyFrom(right);
      }
      case 3 -> ByteString.copyFrom(right, 0, 31);
      default -> ByteString.copyFrom(right).concat(ByteString.copyFrom(new byte[1]));
    };
  }

  // ---- generators -----------------------------------------------------------------------------

  @Provide
  Arbitrary<byte[]> validKeys() {
    return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(1024);
  }

  /** Mostly a few shared keys (so requests collide), plus hostile ones. */
  @Provide
  Arbitrary<byte[]> keys() {
    byte[] contentKeyOfAbc =
        ("sha256:" + HEX.formatHex(sha("abc".getBytes(StandardCharsets.UTF_8), 1).toByteArray()))
            .getBytes(StandardCharsets.US_ASCII);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(
            6, Arbitraries.of("a", "b", "k\0nul").map(s -> s.getBytes(StandardCharsets.UTF_8))),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new byte[0])),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new byte[1025])),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new byte[1024])),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(contentKeyOfAbc)),
        net.jqwik.api.Tuple.of(
            1, Arbitraries.just("sha256:nothex".getBytes(StandardCharsets.US_ASCII))),
        net.jqwik.api.Tuple.of(2, validKeys()));
  }

  Arbitrary<byte[]> values() {
    return Arbitraries.oneOf(
        Arbitraries.just("abc".getBytes(StandardCharsets.UTF_8)),
        Arbitraries.bytes().array(byte[].class).ofMaxSize(300));
  }

  /** None, right (most often), wrong, 31 bytes, 33 bytes. */
  Arbitrary<Integer> shaModes() {
    return weighted(1, 5, 1, 1, 1);
  }

  /** 0, 1, 2, ... with these weights. */
  static Arbitrary<Integer> weighted(int... weights) {
    @SuppressWarnings("unchecked")
    net.jqwik.api.Tuple.Tuple2<Integer, Integer>[] choices =
        new net.jqwik.api.Tuple.Tuple2[weights.length];
    for (int i = 0; i < weights.length; i++) {
      choices[i] = net.jqwik.api.Tuple.of(weights[i], i);
    }
    return Arbitraries.frequency(choices);
  }

  Arbitrary<Long> positions() {
    return Arbitraries.oneOf(
        Arbitraries.longs().between(-3, 310),
        Arbitraries.of(Long.MIN_VALUE, Long.MAX_VALUE, (long) Integer.MAX_VALUE + 1));
  }

  @Provide
  Arbitrary<List<Request>> requestLists() {
    return requests().list().ofMinSize(1).ofMaxSize(6);
  }

  Arbitrary<Request> requests() {
    Arbitrary<Request> unary = Combinators.combine(keys(), values(), shaModes()).as(UnaryPut::new);
    Arbitrary<Request> streamed =
        Combinators.combine(
                keys(),
                values().list().ofMaxSize(4),
                weighted(4, 2, 1, 1, 1, 1), // mostly a true or unknown size
                shaModes(),
                Arbitraries.of(true, false),
                Arbitraries.frequency(
                    net.jqwik.api.Tuple.of(5, 0),
                    net.jqwik.api.Tuple.of(1, 1),
                    net.jqwik.api.Tuple.of(1, 2),
                    net.jqwik.api.Tuple.of(1, 3)),
                Arbitraries.frequency(
                    net.jqwik.api.Tuple.of(9, false), net.jqwik.api.Tuple.of(1, true)))
            .as(StreamPut::new);
    Arbitrary<Request> read =
        Combinators.combine(
                keys(),
                positions().injectNull(0.5),
                positions().injectNull(0.5),
                Arbitraries.of(true, false))
            .as(Read::new);
    Arbitrary<Request> delete = keys().map(Delete::new);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, unary),
        net.jqwik.api.Tuple.of(3, streamed),
        net.jqwik.api.Tuple.of(3, read),
        net.jqwik.api.Tuple.of(1, delete));
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
