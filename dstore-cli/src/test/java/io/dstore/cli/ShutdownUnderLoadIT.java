package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.testing.Await;
import io.dstore.testing.Child;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to {@code dstore global --store rocksdb} while uploads (two large streamed ones mid-way),
 * downloads and strict deletes are in flight from Locals in this JVM. The process must exit 0
 * within {@link SignalStop#CLOSE_LIMIT}; restarted on the same data directory and port, every
 * acknowledged put must be there whole, every acknowledged delete gone, no upload that was not
 * acknowledged may have left anything, and the Locals that were connected before work again.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ShutdownUnderLoadIT {
  private static final Pattern LISTENING =
      Pattern.compile("Dstore server listening on (127\\.0\\.0\\.1:\\d+)");
  private static final int DELETE_KEYS = 300;
  private static final int DOWNLOAD_KEYS = 40;
  private static final long LARGE = 48L << 20;
  private static final long MID_WAY = 8L << 20;

  @TempDir Path dataDir;

  @Test
  void sigtermUnderLoadKeepsEveryAcknowledgedWriteAndNothingElseAndExitsInTime() throws Exception {
    int port = freePort();
    String address = "127.0.0.1:" + port;
    Map<String, String> ackedPuts = new ConcurrentHashMap<>(); // key -> sha256 of what was sent
    Map<String, String> triedPuts = new ConcurrentHashMap<>();
    Set<String> ackedDeletes = ConcurrentHashMap.newKeySet();
    Map<String, String> preloaded = new ConcurrentHashMap<>();
    AtomicInteger wrongReads = new AtomicInteger();
    AtomicReference<String> wrongRead = new AtomicReference<>();
    AtomicBoolean stopLoad = new AtomicBoolean();
    CountDownLatch terminated = new CountDownLatch(1);
    CountDownLatch exited = new CountDownLatch(1);
    GatedStream resumes = new GatedStream(1, LARGE, terminated);
    GatedStream stalls = new GatedStream(2, LARGE, exited);
    AtomicReference<Object> resumeOutcome = new AtomicReference<>();
    AtomicReference<Object> stallOutcome = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();

    Child global = startGlobal(port);
    try (Dstore loader = local(address, "loader");
        Dstore observer = local(address, "observer")) {
      // Acknowledged before the load: keys to delete (cached by the observer, so each strict
      // delete waits for its acknowledgement) and keys to download.
      for (int i = 0; i < DELETE_KEYS; i++) {
        preloaded.put(putSmall(loader, "del-" + i, i), "del-" + i);
      }
      for (int i = 0; i < DOWNLOAD_KEYS; i++) {
        putSmall(loader, "dl-" + i, 10_000 + i);
      }
      for (int i = 0; i < DELETE_KEYS; i++) {
        observer.get(key("del-" + i));
      }

      for (int t = 0; t < 2; t++) {
        int id = t;
        threads.add(
            Thread.ofPlatform()
                .name("putter-" + t)
                .start(
                    () -> {
                      for (int n = 0; !stopLoad.get(); n++) {
                        String k = "p-" + id + "-" + n;
                        byte[] v = value(k.hashCode(), 1_024 + (n % 64) * 1_024);
                        triedPuts.put(k, sha256(v));
                        try {
                          loader.put(key(k), v);
                          ackedPuts.put(k, sha256(v));
                        } catch (DstoreException e) {
                          // not acknowledged: the key may be absent or whole, nothing between
                        }
                      }
                    }));
      }
      threads.add(
          Thread.ofPlatform()
              .name("deleter")
              .start(
                  () -> {
                    for (int i = 0; i < DELETE_KEYS && !stopLoad.get(); i++) {
                      try {
                        loader.delete(key("del-" + i));
                        ackedDeletes.add("del-" + i);
                      } catch (DstoreException e) {
                        // not acknowledged: the key may stay
                      }
                    }
                  }));
      for (int t = 0; t < 2; t++) {
        int id = t;
        threads.add(
            Thread.ofPlatform()
                .name("reader-" + t)
                .start(
                    () -> {
                      SplittableRandom random = new SplittableRandom(id);
                      while (!stopLoad.get()) {
                        int i = random.nextInt(DOWNLOAD_KEYS);
                        try {
                          byte[] got = observer.get(key("dl-" + i));
                          if (!sha256(got).equals(sha256(value(10_000 + i, size(10_000 + i))))) {
                            wrongReads.incrementAndGet();
                            wrongRead.set("dl-" + i);
                          }
                        } catch (DstoreException e) {
                          // Global is going away: a failed read is fine, a wrong one is not
                        }
                      }
                    }));
      }
      threads.add(upload(loader, "big-resumes", resumes, resumeOutcome));
      threads.add(upload(loader, "big-stalls", stalls, stallOutcome));

      // Mid-flight: both large uploads have sent 8 MiB, and small puts and deletes are answering.
      assertThat(resumes.midWay.await(60, TimeUnit.SECONDS)).as("upload 1 mid-way").isTrue();
      assertThat(stalls.midWay.await(60, TimeUnit.SECONDS)).as("upload 2 mid-way").isTrue();
      Await.until(
          "puts and deletes acknowledged under load",
          Duration.ofSeconds(60),
          () -> ackedPuts.size() >= 20 && ackedDeletes.size() >= 5);

      long sent = System.nanoTime();
      global.terminate(); // SIGTERM
      terminated.countDown(); // one large upload goes on sending; the other stays stalled
      int exit = global.awaitExit();
      Duration took = Duration.ofNanos(System.nanoTime() - sent);
      exited.countDown();
      stopLoad.set(true);
      String stderr = global.stderr();
      global.close();
      assertThat(exit).as(stderr).isZero();
      assertThat(took)
          .as("exit after SIGTERM; stderr:\n" + stderr)
          .isLessThan(SignalStop.CLOSE_LIMIT);
      assertThat(stderr).contains("Global stopped");
      String stopped =
          stderr.lines().filter(l -> l.contains("Global stopped")).findFirst().orElse("");
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
        assertThat(t.isAlive()).as(t.getName() + " still running").isFalse();
      }
      assertThat(wrongReads.get()).as("wrong bytes read, e.g. " + wrongRead.get()).isZero();
      assertThat(stallOutcome.get())
          .as("an upload stalled until after the exit cannot have been acknowledged")
          .isInstanceOf(DstoreException.class);

      global = startGlobal(port);
      try (Dstore check = Dstore.connect(address, DstoreOptions.builder().name("check").build())) {
        for (Map.Entry<String, String> e : ackedPuts.entrySet()) {
          assertThat(digestOf(check, e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        }
        for (Map.Entry<String, String> e : triedPuts.entrySet()) {
          String stored = digestOf(check, e.getKey());
          if (stored != null) {
            assertThat(stored)
                .as("an unacknowledged put is whole or absent")
                .isEqualTo(e.getValue());
          }
        }
        for (int i = 0; i < DELETE_KEYS; i++) {
          String k = "del-" + i;
          String stored = digestOf(check, k);
          if (ackedDeletes.contains(k)) {
            assertThat(stored).as("acknowledged delete of " + k).isNull();
          } else if (stored != null) {
            assertThat(stored).isEqualTo(sha256(value(i, size(i))));
          }
        }
        for (int i = 0; i < DOWNLOAD_KEYS; i++) {
          assertThat(digestOf(check, "dl-" + i))
              .isEqualTo(sha256(value(10_000 + i, size(10_000 + i))));
        }
        if (resumeOutcome.get() instanceof Long) {
          assertThat(digestOf(check, "big-resumes")).isEqualTo(resumes.sentSha256());
        } else {
          assertThat(digestOf(check, "big-resumes")).as("unacknowledged upload").isNull();
        }
        assertThat(digestOf(check, "big-stalls")).as("cut upload").isNull();

        // The Locals connected before the stop reconnect on their own and serve again.
        observer.awaitReady(Duration.ofSeconds(60));
        loader.awaitReady(Duration.ofSeconds(60));
        assertThat(observer.get(key("dl-0"))).isEqualTo(value(10_000, size(10_000)));
        loader.put(key("after-restart"), value(99, 100));
        assertThat(observer.get(key("after-restart"))).isEqualTo(value(99, 100));
        loader.delete(key("after-restart"));
        assertThat(digestOf(check, "after-restart")).isNull();
        System.out.printf(
            "shutdown under load: exit after %d ms (%s); %d puts acknowledged (%d tried), %d of %d"
                + " deletes acknowledged, large upload resumed after SIGTERM: %s%n",
            took.toMillis(),
            stopped.strip(),
            ackedPuts.size(),
            triedPuts.size(),
            ackedDeletes.size(),
            DELETE_KEYS,
            resumeOutcome.get() instanceof Long ? "acknowledged" : resumeOutcome.get());
      }
    } finally {
      stopLoad.set(true);
      terminated.countDown();
      exited.countDown();
      global.terminate();
      global.awaitExit();
      global.close();
    }
  }

  private Child startGlobal(int port) throws IOException, InterruptedException {
    Child global =
        Child.start(
            "global",
            "--listen",
            "127.0.0.1:" + port,
            "--store",
            "rocksdb",
            "--data-dir",
            dataDir.toString());
    Matcher m = LISTENING.matcher(global.nextLine());
    assertThat(m.matches()).as(global.stderr()).isTrue();
    return global;
  }

  private static Dstore local(String address, String name) {
    Dstore d =
        Dstore.connect(
            address,
            DstoreOptions.builder()
                .name(name)
                .cacheSizeBytes(16L << 20)
                .requestTimeout(Duration.ofSeconds(20))
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                .build());
    d.awaitReady(Duration.ofSeconds(30));
    return d;
  }

  private static Thread upload(
      Dstore d, String k, GatedStream stream, AtomicReference<Object> outcome) {
    return Thread.ofPlatform()
        .name("upload-" + k)
        .start(
            () -> {
              try {
                outcome.set(d.put(key(k), stream, LARGE));
              } catch (DstoreException e) {
                outcome.set(e);
              }
            });
  }

  private static String putSmall(Dstore d, String k, int seed) {
    byte[] v = value(seed, size(seed));
    d.put(key(k), v);
    return sha256(v);
  }

  private static int size(int seed) {
    return 512 + (seed % 16) * 512;
  }

  private static byte[] key(String k) {
    return k.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] value(int seed, int size) {
    byte[] v = new byte[size];
    new SplittableRandom(seed).nextBytes(v);
    return v;
  }

  /** The SHA-256 of the value stored under {@code k}, read whole, or null if there is none. */
  private static String digestOf(Dstore d, String k) {
    MessageDigest md = sha();
    try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), md)) {
      d.get(key(k), out);
    } catch (DstoreException e) {
      if (e.code() == ErrorCode.NOT_FOUND) {
        return null;
      }
      throw e;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static String sha256(byte[] v) {
    return HexFormat.of().formatHex(sha().digest(v));
  }

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * {@code size} seeded random bytes that stop after {@link #MID_WAY} (counting down {@code
   * midWay}) until {@code gate} opens. Its SHA-256 is computed as it is read.
   */
  private static final class GatedStream extends InputStream {
    final CountDownLatch midWay = new CountDownLatch(1);
    private final CountDownLatch gate;
    private final SplittableRandom random;
    private final long size;
    private final MessageDigest md = sha();
    private long sent;

    GatedStream(int seed, long size, CountDownLatch gate) {
      this.random = new SplittableRandom(seed);
      this.size = size;
      this.gate = gate;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (sent >= size) {
        return -1;
      }
      if (sent >= MID_WAY) {
        midWay.countDown();
        try {
          gate.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
      int n = (int) Math.min(Math.min(len, 64 * 1024), size - sent);
      byte[] chunk = new byte[n];
      random.nextBytes(chunk);
      System.arraycopy(chunk, 0, b, off, n);
      md.update(chunk);
      sent += n;
      return n;
    }

    /** The SHA-256 of everything read; for a stream read to its end, the whole value's. */
    String sentSha256() {
      return HexFormat.of().formatHex(md.digest());
    }
  }
}
