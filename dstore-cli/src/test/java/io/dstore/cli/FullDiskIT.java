package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.GetChunk;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.StatRequest;
import io.dstore.testing.Await;
import io.dstore.testing.Child;
import io.dstore.testing.MetricsPage;
import io.dstore.testing.SmallFilesystem;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real full disk (issue 13, item 1): {@code dstore global} on RocksDB with {@code --sync}, its
 * data directory on a 64 MiB tmpfs ({@link SmallFilesystem}: skipped, with the reason, where the
 * test cannot mount one), and the watermark off ({@code --min-free-disk 0}) so that RocksDB itself
 * hits ENOSPC. The test is the other process that fills the disk, with a filler file. What a user
 * sees is asserted over gRPC, as any client would see it: the status and the dstore error code.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class FullDiskIT {
  private static final long MIB = 1 << 20;
  private static final long DISK = 64 * MIB;
  private static final Duration RECOVERY = Duration.ofSeconds(60);
  private static final Pattern LISTENING =
      Pattern.compile("Dstore server listening on (127\\.0\\.0\\.1:\\d+)");
  private static final Pattern METRICS =
      Pattern.compile("Metrics on (http://127\\.0\\.0\\.1:\\d+/metrics)");
  private static final Pattern WRITE_BLOCKED =
      Pattern.compile("(?m)^dstore_storage_write_blocked(?:\\{[^}]*\\})? (\\S+)");
  private static final Pattern NO_SPACE_REFUSALS =
      Pattern.compile("(?m)^dstore_writes_refused_total\\{[^}]*reason=\"no_space\"[^}]*\\} (\\S+)");

  private SmallFilesystem disk;
  private Path data;
  private Child global;
  private String metrics;
  private ManagedChannel channel;
  private GlobalGrpc.GlobalBlockingStub stub;
  private GlobalGrpc.GlobalStub async;

  /** Every acknowledged put: key -> SHA-256 (hex) of the bytes sent. */
  private final Map<String, String> acknowledged = new LinkedHashMap<>();

  @BeforeEach
  void mountTheSmallDisk() throws IOException {
    disk = SmallFilesystem.mountOrSkip(DISK);
    data = disk.directory().resolve("data");
  }

  @AfterEach
  void stopGlobalAndUnmount() throws Exception {
    try {
      stopGlobal(false);
    } finally {
      disk.close();
    }
  }

  @Test
  void aDiskFilledByAnotherProcessRefusesPutsServesReadsAndRecoversWithoutARestart()
      throws Exception {
    startGlobal();
    for (int i = 0; i < 12; i++) {
      put("before-" + i, value(i, 1000 + i * 37_000));
    }
    long blockedBefore = metric(WRITE_BLOCKED);
    assertThat(blockedBefore).isZero();

    Path filler = disk.fill("filler");
    assertThat(disk.freeBytes()).isLessThan(4096);

    // Puts fail with NO_SPACE once RocksDB hits ENOSPC (a small one may still fit in the last page
    // of the write-ahead log: those are acknowledged and must survive).
    // RocksDB preallocates its log file, so puts go on succeeding into it for a few MiB.
    StatusRuntimeException refused = null;
    for (int i = 0; i < 200 && refused == null; i++) {
      refused = tryPut("full-" + i, value(100 + i, 256 * 1024));
    }
    assertThat(refused).as("a put failed within 200 attempts (50 MiB) on a full disk").isNotNull();
    assertNoSpace(refused);
    for (int i = 0; i < 3; i++) {
      StatusRuntimeException again = tryPut("again-" + i, value(200 + i, 1000));
      assertThat(again).as("a put while RocksDB refuses writes").isNotNull();
      assertNoSpace(again);
    }
    assertThat(global.isAlive()).isTrue();
    assertThat(metric(WRITE_BLOCKED)).as("dstore_storage_write_blocked").isEqualTo(1);
    assertThat(metric(NO_SPACE_REFUSALS)).isPositive();

    // Reads are never affected.
    assertEveryAcknowledgedKeyReadsBack();

    // A delete at a real ENOSPC: RocksDB refuses the write-ahead log write, so the delete is
    // refused with NO_SPACE as well, and the key stays whole (the watermark, not a full disk, is
    // where deletes free space: DiskSpaceTest).
    String victim = "before-3";
    StatusRuntimeException deleteRefused = tryDelete(victim);
    assertThat(deleteRefused).as("a delete on a disk RocksDB cannot write to").isNotNull();
    assertNoSpace(deleteRefused);
    assertThat(read(victim)).isEqualTo(acknowledged.get(victim));

    // The cli says so, with the exit code of its own.
    Cli.Result cli = Cli.run("put", "cli-key", "cli-value", "--global", address());
    assertThat(cli.exit()).as(cli.toString()).isEqualTo(ExitCodes.NO_SPACE);
    assertThat(cli.err()).startsWith("Global is out of space: ").doesNotContain("unreachable");

    // Space back: puts succeed again without a restart.
    Files.delete(filler);
    long t0 = System.nanoTime();
    awaitOrDiagnose(
        "a put to succeed after the filler was removed",
        () -> tryPut("after", value(300, 5000)) == null);
    System.out.printf(
        "[full-disk] writes resumed %d ms after the filler was removed%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    assertThat(global.stderr()).contains("resumed writes after running out of disk space");
    assertThat(metric(WRITE_BLOCKED)).as("dstore_storage_write_blocked").isZero();
    assertThat(tryDelete(victim)).as("a delete once space is back").isNull();
    acknowledged.remove(victim);
    put("after-2", value(301, 300_000));
    assertEveryAcknowledgedKeyReadsBack();
    assertThat(stat(victim)).isEqualTo(Status.Code.NOT_FOUND);

    // A graceful restart keeps every acknowledged key.
    stopGlobal(true);
    startGlobal();
    assertEveryAcknowledgedKeyReadsBack();
    assertThat(stat(victim)).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void aDiskThatFillsDuringALargeStreamedPutFailsItCleanlyAndTheDiskIsUsableAgain()
      throws Exception {
    startGlobal();
    for (int i = 0; i < 4; i++) {
      put("small-" + i, value(i, 20_000));
    }
    Path filler = disk.fillLeaving("filler", 6 * MIB);

    byte[] big = value(77, (int) (16 * MIB));
    Throwable failure = streamPut("big", big);
    assertThat(failure).as("a 16 MiB put onto 6 MiB of free space").isNotNull();
    assertNoSpace(failure);
    assertThat(stat("big"))
        .as("nothing of the failed put is visible")
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(global.isAlive()).isTrue();
    assertEveryAcknowledgedKeyReadsBack();

    Files.delete(filler);
    awaitOrDiagnose(
        "a put to succeed after the filler was removed",
        () -> tryPut("after", value(9, 5000)) == null);
    // The disk is usable again: the same 16 MiB goes in under another key. (The failed upload's
    // chunks are deleted once writes resume; the blob file bytes they held come back when
    // RocksDB's blob garbage collection rewrites that file, which this test does not wait for.)
    assertThat(streamPut("big-again", big)).as("the 16 MiB put once space is back").isNull();
    acknowledged.put("big-again", Sha256.hex(Sha256.of(big)));
    assertThat(stat("big")).isEqualTo(Status.Code.NOT_FOUND);

    stopGlobal(true);
    startGlobal();
    assertEveryAcknowledgedKeyReadsBack();
    assertThat(stat("big")).isEqualTo(Status.Code.NOT_FOUND);
  }

  /**
   * {@link Await#until} within {@link #RECOVERY}; on a timeout, says what Global and RocksDB said.
   */
  private void awaitOrDiagnose(String what, java.util.function.BooleanSupplier condition) {
    try {
      Await.until(what, RECOVERY, condition);
    } catch (AssertionError e) {
      StringBuilder why = new StringBuilder(e.getMessage());
      why.append("\nfree: ").append(freeBytes()).append(" bytes\n--- Global's stderr\n");
      why.append(global.stderr());
      try (Stream<Path> files = Files.list(data)) {
        why.append("--- files: ");
        files.forEach(
            f -> why.append(f.getFileName()).append(' ').append(f.toFile().length()).append("; "));
        why.append("\n--- RocksDB LOG (space and errors)\n");
        for (String line : Files.readAllLines(data.resolve("LOG"))) {
          if (line.matches("(?i).*(space|error|recover|resum|buffer).*")) {
            why.append(line).append('\n');
          }
        }
      } catch (IOException | RuntimeException x) {
        why.append("[cannot list the data directory: ").append(x).append("]");
      }
      throw new AssertionError(why.toString(), e);
    }
  }

  // ---- Global, as a process ----

  private void startGlobal() throws Exception {
    global =
        Child.start(
            "global",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.toString(),
            "--sync",
            "--min-free-disk",
            "0",
            "--metrics-listen",
            "127.0.0.1:0");
    String line = firstLine(global);
    Matcher m = LISTENING.matcher(line);
    assertThat(m.matches()).as(line + "\n" + global.stderr()).isTrue();
    Matcher mm = METRICS.matcher(global.stderr());
    assertThat(mm.find()).as(global.stderr()).isTrue();
    metrics = mm.group(1);
    channel = NettyChannelBuilder.forTarget(m.group(1)).usePlaintext().build();
    stub = GlobalGrpc.newBlockingStub(channel);
    async = GlobalGrpc.newStub(channel);
  }

  /**
   * The first line Global prints, waiting up to {@link #RECOVERY}: on a loaded machine a JVM may
   * take longer to start than one {@link Child#nextLine} deadline.
   */
  private static String firstLine(Child child) throws InterruptedException {
    long deadline = System.nanoTime() + RECOVERY.toNanos();
    while (true) {
      try {
        return child.nextLine();
      } catch (AssertionError e) {
        if (!child.isAlive() || System.nanoTime() - deadline > 0) {
          throw e;
        }
      }
    }
  }

  private String address() {
    return channel.authority();
  }

  private void stopGlobal(boolean mustExitCleanly) throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      channel = null;
    }
    if (global != null) {
      Child g = global;
      global = null;
      try {
        g.terminate();
        int exit = g.awaitExit();
        if (mustExitCleanly) {
          assertThat(exit).as(g.stderr()).isZero();
        }
      } finally {
        g.close();
      }
    }
  }

  private long metric(Pattern pattern) throws IOException {
    String body = MetricsPage.fetch(metrics).body();
    Matcher m = pattern.matcher(body);
    assertThat(m.find()).as(pattern + " in:\n" + body).isTrue();
    return (long) Double.parseDouble(m.group(1));
  }

  // ---- what a client sees ----

  private void put(String key, byte[] bytes) {
    StatusRuntimeException failure = tryPut(key, bytes);
    assertThat(failure).as("put " + key).isNull();
  }

  /** Null when acknowledged (and remembered as such), else the failure. */
  private StatusRuntimeException tryPut(String key, byte[] bytes) {
    try {
      PutResponse r =
          stub.withDeadlineAfter(30, TimeUnit.SECONDS)
              .put(
                  PutRequest.newBuilder()
                      .setKey(ByteString.copyFromUtf8(key))
                      .setValue(ByteString.copyFrom(bytes))
                      .build());
      assertThat(r.getCreated()).isTrue();
      acknowledged.put(key, Sha256.hex(Sha256.of(bytes)));
      return null;
    } catch (StatusRuntimeException e) {
      return e;
    }
  }

  private StatusRuntimeException tryDelete(String key) {
    try {
      stub.withDeadlineAfter(30, TimeUnit.SECONDS)
          .delete(DeleteRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build());
      return null;
    } catch (StatusRuntimeException e) {
      return e;
    }
  }

  private Status.Code stat(String key) {
    try {
      stub.withDeadlineAfter(30, TimeUnit.SECONDS)
          .stat(StatRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /** The SHA-256 (hex) of the bytes Global answers for {@code key}, read as a stream. */
  private String read(String key) {
    var digest = Sha256.newDigest();
    Iterator<GetChunk> chunks =
        stub.withDeadlineAfter(30, TimeUnit.SECONDS)
            .getStream(GetRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build());
    while (chunks.hasNext()) {
      Sha256.update(digest, chunks.next().getData());
    }
    return Sha256.hex(digest.digest());
  }

  private void assertEveryAcknowledgedKeyReadsBack() {
    for (Map.Entry<String, String> e : acknowledged.entrySet()) {
      assertThat(read(e.getKey())).as("the bytes of " + e.getKey()).isEqualTo(e.getValue());
    }
  }

  /** Streams {@code bytes} in 1 MiB messages; returns null when acknowledged, else the failure. */
  private Throwable streamPut(String key, byte[] bytes) throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> requests =
        async
            .withDeadlineAfter(120, TimeUnit.SECONDS)
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
    requests.onNext(
        PutChunk.newBuilder()
            .setHeader(
                PutHeader.newBuilder()
                    .setKey(ByteString.copyFromUtf8(key))
                    .setSize(bytes.length)
                    .setSha256(ByteString.copyFrom(Sha256.of(bytes))))
            .build());
    for (int off = 0; off < bytes.length && !result.isDone(); off += (int) MIB) {
      int n = (int) Math.min(MIB, bytes.length - off);
      requests.onNext(PutChunk.newBuilder().setData(ByteString.copyFrom(bytes, off, n)).build());
    }
    requests.onCompleted();
    try {
      result.get(120, TimeUnit.SECONDS);
      acknowledged.put(key, Sha256.hex(Sha256.of(bytes)));
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  private static void assertNoSpace(Throwable failure) {
    assertThat(Status.fromThrowable(failure).getCode())
        .as("status of: " + failure)
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(GrpcErrors.codeOf(failure)).as("code of: " + failure).isEqualTo(ErrorCode.NO_SPACE);
  }

  private static byte[] value(int seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private long freeBytes() {
    try {
      return disk.freeBytes();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
