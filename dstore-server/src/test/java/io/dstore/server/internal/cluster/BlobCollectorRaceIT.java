package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.server.ClusterConfig;
import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.ValuePattern;
import io.dstore.testing.Await;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Races uploads (inline, single-put and multipart S3 values; some aborted; some cut off by closing
 * their gateway's store mid-upload, as a killed gateway would), deletes, readers and collector
 * passes on two gateways, then checks that every visible key reads back whole with its SHA-256, and
 * that once all settles two passes past the grace leave exactly the referenced objects and no
 * unfinished multipart upload.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class BlobCollectorRaceIT {
  private static final int KIB = 1024;
  private static final int MIB = 1024 * KIB;
  private static final int KEYS = 24;
  private static final int[] SIZES = {100, 3 * KIB, 300 * KIB, 2 * MIB, 6 * MIB};

  @TempDir static Path temp;
  static ClusterFixture cluster;

  @BeforeAll
  static void startCluster() throws IOException {
    cluster = ClusterFixture.start(temp);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void withGraceZeroNoVisibleKeyLosesItsBytesAndNothingUnreferencedIsLeft() throws Exception {
    RaceResult r = race(Duration.ZERO, false);
    assertThat(r.commits).as("commits").isGreaterThan(20);
    assertThat(r.collectorPasses).isGreaterThan(3);
  }

  @Test
  void withAGraceOnAFakeClockReadersThroughDeletesNeverFailAndAllIsReclaimedAfterIt()
      throws Exception {
    RaceResult r = race(Duration.ofMinutes(10), true);
    assertThat(r.commits).isGreaterThan(20);
    // settle() advanced the clock past the grace; the reads during the race never failed
    assertThat(r.readFailures).as("reads that failed during the race").isEmpty();
  }

  record RaceResult(int commits, int collectorPasses, List<String> readFailures) {}

  /**
   * @param readsMustNotFail with a grace longer than the race, no read may fail; with grace zero a
   *     read of a value deleted meanwhile may fail saying its bytes are gone
   */
  private RaceResult race(Duration grace, boolean readsMustNotFail) throws Exception {
    ClusterConfig config =
        cluster.config(b -> b.inlineThreshold(KIB).partSize(5 * MIB).collectorGrace(grace));
    // the collectors' clock stands still during the race, and moves only in the settling
    AtomicReference<Instant> fake = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    java.time.InstantSource testClock = fake::get;
    AtomicInteger commits = new AtomicInteger();
    AtomicInteger passes = new AtomicInteger();
    List<String> readFailures = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (ClusterStore a = cluster.open(config);
        ClusterStore b = cluster.open(config)) {
      ClusterStore killed = cluster.open(config);
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        ClusterStore store = t % 2 == 0 ? a : b;
        long seed = t;
        workers.add(pool.submit(() -> uploader(store, new Random(seed), stop, commits)));
      }
      workers.add(
          pool.submit(() -> reader(b, new Random(98), stop, readFailures, readsMustNotFail)));
      BlobCollector ca = new BlobCollector(a, null, testClock);
      BlobCollector cb = new BlobCollector(b, null, testClock);
      workers.add(
          pool.submit(
              () -> {
                while (!stop.get()) {
                  (passes.get() % 2 == 0 ? ca : cb).runOnce();
                  passes.incrementAndGet();
                }
                return null;
              }));

      // A gateway killed mid-upload: one upload with a part already in S3, one before any.
      CountDownLatch midway = new CountDownLatch(2);
      Future<Throwable> cutMultipart =
          pool.submit(() -> cutOff(killed, "cut-multipart", 12 * MIB, midway));
      Future<Throwable> cutSingle =
          pool.submit(() -> cutOff(killed, "cut-single", 2 * MIB, midway));
      assertThat(midway.await(60, TimeUnit.SECONDS)).isTrue();
      killed.close();
      assertThat(cutMultipart.get(60, TimeUnit.SECONDS)).isInstanceOf(IOException.class);
      assertThat(cutSingle.get(60, TimeUnit.SECONDS)).isInstanceOf(IOException.class);

      io.dstore.testing.Await.until(
          "40 commits and 6 collector passes",
          Duration.ofSeconds(120),
          () -> commits.get() >= 40 && passes.get() >= 6);
      stop.set(true);
      for (Future<?> w : workers) {
        w.get(120, TimeUnit.SECONDS); // rethrows a worker's failure
      }

      // every visible key reads back whole, with its SHA-256
      int visible = 0;
      for (int k = 0; k < KEYS; k++) {
        Optional<Storage.Reader> reader = a.open(key(k));
        if (reader.isPresent()) {
          try (Storage.Reader r = reader.get()) {
            assertThat(sha256Of(r)).as("key %d", k).isEqualTo(r.info().sha256());
          }
          visible++;
        }
      }
      assertThat(a.stat("cut-multipart".getBytes(UTF_8))).isEmpty();
      assertThat(a.stat("cut-single".getBytes(UTF_8))).isEmpty();

      // A cut-off upload's intent goes with its gateway's lease: at once when the closed store
      // revoked it, else when etcd expires it (a revoke can time out on a loaded machine).
      Await.until(
          "the intents of every ended upload are gone",
          Duration.ofSeconds(60),
          () -> {
            try {
              long[] n = {0};
              a.etcdCalls().scan(a.layout().uploadPrefix(), 0, true, kv -> n[0]++);
              return n[0] == 0;
            } catch (java.io.IOException e) {
              return false;
            }
          });

      // settled: two passes of one collector past the grace leave exactly the referenced objects
      // (each collector counts its own candidates: an object left unreferenced by the race's last
      // moments is first a candidate, then removed, by the same collector); the other then finds
      // nothing to do
      fake.set(fake.get().plus(grace));
      ca.runOnce();
      fake.set(fake.get().plus(grace));
      ca.runOnce();
      fake.set(fake.get().plus(grace));
      BlobCollector.Pass last = cb.runOnce();
      Set<String> objects = new HashSet<>();
      for (Blobs.Blob blob : a.blobs().list()) {
        objects.add(blob.name());
      }
      assertThat(objects).containsExactlyInAnyOrderElementsOf(a.referencedObjects());
      assertThat(a.blobs().listIncomplete()).as("unfinished multipart uploads").isEmpty();
      assertThat(last.candidates()).isZero();
      for (int k = 0; k < KEYS; k++) {
        Optional<Storage.Reader> reader = a.open(key(k));
        if (reader.isPresent()) {
          try (Storage.Reader r = reader.get()) {
            assertThat(sha256Of(r)).as("key %d after collection", k).isEqualTo(r.info().sha256());
          }
        }
      }
      System.out.printf(
          "race (grace %s): %d commits, %d collector passes, %d keys visible, %d objects, %d"
              + " read failures%n",
          grace, commits.get(), passes.get(), visible, objects.size(), readFailures.size());
      return new RaceResult(commits.get(), passes.get(), List.copyOf(readFailures));
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
  }

  private static byte[] key(int k) {
    return ("key-" + k).getBytes(UTF_8);
  }

  private static Void uploader(
      ClusterStore store, Random random, AtomicBoolean stop, AtomicInteger commits)
      throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(MIB);
    while (!stop.get()) {
      int size = SIZES[random.nextInt(SIZES.length)];
      ValuePattern pattern = new ValuePattern(random.nextLong());
      boolean abort = random.nextInt(5) == 0;
      MessageDigest digest = ValuePattern.newSha256();
      try (Storage.Upload upload = store.create(key(random.nextInt(KEYS)), size)) {
        for (long p = 0; p < size; ) {
          buffer.clear().limit((int) Math.min(buffer.capacity(), size - p));
          pattern.fill(p, buffer);
          buffer.flip();
          digest.update(buffer.duplicate());
          p += buffer.remaining();
          upload.write(buffer);
          if (abort && p > size / 2) {
            break;
          }
        }
        if (abort) {
          upload.abort();
          continue;
        }
        upload.commit(HexFormat.of().formatHex(digest.digest()));
        commits.incrementAndGet();
      } catch (KeyExistsException e) {
        // another writer won that key: fine
      }
      if (random.nextInt(3) > 0) { // deletes race with the other gateway's uploads and reads
        store.delete(key(random.nextInt(KEYS)));
      }
    }
    return null;
  }

  private static Void reader(
      ClusterStore store,
      Random random,
      AtomicBoolean stop,
      List<String> failures,
      boolean mustNotFail)
      throws IOException {
    while (!stop.get()) {
      Optional<Storage.Reader> reader = store.open(key(random.nextInt(KEYS)));
      if (reader.isEmpty()) {
        continue;
      }
      try (Storage.Reader r = reader.get()) {
        assertThat(sha256Of(r)).isEqualTo(r.info().sha256());
      } catch (IOException e) {
        if (mustNotFail || !e.getMessage().contains("grace")) {
          throw e;
        }
        failures.add(e.getMessage());
      }
    }
    return null;
  }

  /** Writes part of a value, says so, and keeps writing (into a store about to close). */
  private static Throwable cutOff(ClusterStore store, String key, int size, CountDownLatch midway) {
    try (Storage.Upload upload = store.create(key.getBytes(UTF_8), -1)) {
      ValuePattern pattern = new ValuePattern(size);
      int half = size / 2 + MIB;
      upload.write(ByteBuffer.wrap(pattern.bytes(0, half)));
      midway.countDown();
      io.dstore.testing.Await.until(
          "the store to close", Duration.ofSeconds(60), () -> isClosed(store));
      upload.write(ByteBuffer.wrap(pattern.bytes(half, size - half)));
      upload.commit("0".repeat(64));
      return null;
    } catch (IOException | KeyExistsException | RuntimeException e) {
      return e;
    }
  }

  private static boolean isClosed(ClusterStore store) {
    try {
      store.stat(new byte[] {0});
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static String sha256Of(Storage.Reader reader) throws IOException {
    MessageDigest digest = ValuePattern.newSha256();
    ByteBuffer buffer = ByteBuffer.allocate(MIB);
    long size = reader.info().size();
    for (long p = 0; p < size; ) {
      buffer.clear();
      int n = reader.read(p, buffer);
      if (n <= 0) {
        throw new AssertionError("short read at " + p + " of " + size);
      }
      buffer.flip();
      digest.update(buffer);
      p += n;
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
