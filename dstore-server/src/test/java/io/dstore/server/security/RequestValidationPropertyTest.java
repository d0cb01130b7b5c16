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
import io.dstore.testing.ForAll;
import io.dstore.testing.Gen;
import io.dstore.wire.GrpcErrors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random and adversarial requests against Global's validation, over in-process gRPC: every refusal
 * is INVALID_ARGUMENT (also TOO_LARGE), DATA_LOSS (INTEGRITY), ALREADY_EXISTS or NOT_FOUND with a
 * message, never INTERNAL; and after each request the storage holds exactly what the successful
 * ones put, no half values. The server and the model live across all tries of a property, so later
 * requests meet the keys earlier ones left behind. Every call also carries a 10 s gRPC deadline.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RequestValidationPropertyTest {
  private static final Set<String> REFUSAL_CODES =
      Set.of("INVALID_ARGUMENT", "TOO_LARGE", "INTEGRITY", "ALREADY_EXISTS", "NOT_FOUND");
  private static final HexFormat HEX = HexFormat.of();

  private GlobalServer server;
  private ManagedChannel channel;
  private GlobalGrpc.GlobalStub async;
  private final Map<ByteString, ByteString> model = new HashMap<>();

  @BeforeEach
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

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  private GlobalGrpc.GlobalBlockingStub blocking() {
    return GlobalGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  // ---- properties -----------------------------------------------------------------------------

  @Test
  void adversarialRequestsAreRefusedCleanlyAndLeaveNothingHalfWritten() {
    ForAll.check(
        500,
        RequestValidationPropertyTest::requestList,
        requests -> {
          for (Request r : requests) {
            r.run(this);
            assertStorageMatchesModel();
          }
        });
  }

  record KeyValue(ByteString key, ByteString value) {}

  @Test
  void arbitraryKeysRoundTrip() {
    ForAll.check(
        200,
        r -> new KeyValue(validKey(r), ByteString.copyFrom(Gen.bytes(r, 0, 2000))),
        kv -> roundTrip(kv.key(), kv.value()));
  }

  private void roundTrip(ByteString k, ByteString v) {
    PutResponse put = blocking().put(PutRequest.newBuilder().setKey(k).setValue(v).build());
    assertThat(put.getKey()).isEqualTo(k);
    assertThat(blocking().get(GetRequest.newBuilder().setKey(k).build()).getValue()).isEqualTo(v);
    assertThat(blocking().stat(StatRequest.newBuilder().setKey(k).build()).getInfo().getSize())
        .isEqualTo(v.size());
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
        .isIn(
            Status.Code.INVALID_ARGUMENT,
            Status.Code.DATA_LOSS,
            Status.Code.ALREADY_EXISTS,
            Status.Code.NOT_FOUND);
    assertThat(e.getTrailers()).isNotNull();
    assertThat(String.valueOf(GrpcErrors.codeOf(e))).isIn(REFUSAL_CODES);
    // The status and the typed code never disagree.
    assertThat(e.getStatus().getCode()).isEqualTo(GrpcErrors.statusCodeOf(GrpcErrors.codeOf(e)));
    assertThat(e.getStatus().getDescription()).isNotBlank();
  }

  // ---- requests -------------------------------------------------------------------------------

  /** One request and what it does to the model when it succeeds. */
  sealed interface Request permits UnaryPut, StreamPut, Read, Delete {
    void run(RequestValidationPropertyTest t) throws Exception;
  }

  record UnaryPut(ByteString key, ByteString value, int shaMode) implements Request {
    @Override
    public void run(RequestValidationPropertyTest t) {
      PutRequest.Builder b = PutRequest.newBuilder().setKey(key).setValue(value);
      if (shaMode > 0) {
        b.setSha256(sha(value, shaMode));
      }
      try {
        PutResponse r = t.blocking().put(b.build());
        assertThat(r.getKey()).isEqualTo(key);
        assertThat(r.getInfo().getSize()).isEqualTo(value.size());
        t.model.putIfAbsent(key, value);
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
      ByteString key,
      List<ByteString> chunks,
      int sizeMode,
      int shaMode,
      boolean shaInHeader,
      int shape,
      boolean contentAddressed)
      implements Request {
    @Override
    public void run(RequestValidationPropertyTest t) throws Exception {
      ByteString whole = ByteString.copyFrom(chunks);
      long total = whole.size();
      long declared =
          switch (sizeMode) {
            case 0 -> total;
            case 1 -> -1; // unknown: size left unset
            case 2 -> Long.MAX_VALUE;
            case 3 -> -2 - total;
            case 4 -> total + 1;
            default -> Math.max(0, total - 1);
          };
      PutHeader.Builder header =
          PutHeader.newBuilder().setKey(key).setContentAddressed(contentAddressed);
      if (declared != -1) {
        header.setSize(declared);
      }
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
      for (ByteString c : chunks) {
        up.onNext(PutChunk.newBuilder().setData(c).build());
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
        // A content-addressed upload names no key: Global stores it under sha256:<hex>, and
        // says so in the response.
        ByteString stored = contentAddressed ? contentKey(whole) : key;
        assertThat(r.getKey()).isEqualTo(stored);
        t.model.putIfAbsent(stored, whole);
      } catch (ExecutionException e) {
        assertCleanRefusal(e.getCause());
      }
    }
  }

  record Read(ByteString key, Long offset, Long length, boolean streamed) implements Request {
    @Override
    public void run(RequestValidationPropertyTest t) {
      GetRequest.Builder b = GetRequest.newBuilder().setKey(key);
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
        ByteString expected = t.model.get(key);
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

  record Delete(ByteString key) implements Request {
    @Override
    public void run(RequestValidationPropertyTest t) {
      try {
        t.blocking().delete(DeleteRequest.newBuilder().setKey(key).build());
        assertThat(t.model.remove(key)).isNotNull();
      } catch (StatusRuntimeException e) {
        assertCleanRefusal(e);
      }
    }
  }

  static ByteString contentKey(ByteString value) {
    return ByteString.copyFromUtf8("sha256:" + HEX.formatHex(sha(value, 1).toByteArray()));
  }

  /** shaMode 1: right; 2: wrong; 3: 31 bytes; 4: 33 bytes. */
  static ByteString sha(ByteString value, int shaMode) {
    byte[] right;
    try {
      right = MessageDigest.getInstance("SHA-256").digest(value.toByteArray());
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

  private static final ByteString CONTENT_KEY_OF_ABC = contentKey(ByteString.copyFromUtf8("abc"));

  /** Mostly a few shared keys (so requests collide), plus hostile ones. */
  static ByteString key(Random r) {
    return switch (Gen.weighted(r, 6, 1, 1, 1, 1, 1, 2)) {
      case 0 -> ByteString.copyFromUtf8(Gen.pick(r, "a", "b", "k\0nul"));
      case 1 -> ByteString.EMPTY;
      case 2 -> ByteString.copyFrom(new byte[1025]);
      case 3 -> ByteString.copyFrom(new byte[1024]);
      case 4 -> CONTENT_KEY_OF_ABC;
      case 5 -> ByteString.copyFromUtf8("sha256:nothex");
      default -> validKey(r);
    };
  }

  static ByteString validKey(Random r) {
    return ByteString.copyFrom(Gen.bytes(r, 1, 1024));
  }

  static ByteString value(Random r) {
    return Gen.chance(r, 0.5)
        ? ByteString.copyFromUtf8("abc")
        : ByteString.copyFrom(Gen.bytes(r, 0, 300));
  }

  /** None, right (most often), wrong, 31 bytes, 33 bytes. */
  static int shaMode(Random r) {
    return Gen.weighted(r, 1, 5, 1, 1, 1);
  }

  static Long position(Random r) {
    if (Gen.chance(r, 0.5)) {
      return null;
    }
    return Gen.chance(r, 0.8)
        ? (long) (-3 + r.nextInt(314))
        : Gen.pick(r, Long.MIN_VALUE, Long.MAX_VALUE, (long) Integer.MAX_VALUE + 1);
  }

  static List<Request> requestList(Random r) {
    return Gen.list(r, 1, 6, RequestValidationPropertyTest::request);
  }

  static Request request(Random r) {
    return switch (Gen.weighted(r, 3, 3, 3, 1)) {
      case 0 -> new UnaryPut(key(r), value(r), shaMode(r));
      case 1 -> {
        // A content-addressed upload must name no key; mostly it does, sometimes it breaks that.
        boolean contentAddressed = Gen.chance(r, 0.15);
        yield new StreamPut(
            contentAddressed && Gen.chance(r, 0.8) ? ByteString.EMPTY : key(r),
            Gen.list(r, 0, 4, RequestValidationPropertyTest::value),
            Gen.weighted(r, 4, 2, 1, 1, 1, 1), // mostly a true or unknown size
            shaMode(r),
            r.nextBoolean(),
            Gen.weighted(r, 5, 1, 1, 1),
            contentAddressed);
      }
      case 2 -> new Read(key(r), position(r), position(r), r.nextBoolean());
      default -> new Delete(key(r));
    };
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
