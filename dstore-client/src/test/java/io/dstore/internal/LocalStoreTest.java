package io.dstore.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import io.dstore.DstoreOptions;
import io.dstore.Entry;
import io.dstore.LocalStats;
import io.dstore.server.Coherence;
import io.dstore.server.internal.ServerInternals;
import io.dstore.testing.Await;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Local's behaviour a user can see: caching, coherence, errors, transfers. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LocalStoreTest {
  private LocalFixture fixture;

  @BeforeEach
  void start() throws Exception {
    fixture = new LocalFixture(Coherence.STRICT);
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static void assertCode(ThrowingCallable call, ErrorCode code) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(DstoreException.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  @Test
  void aPutValueIsServedFromThisLocalsCache() {
    LocalStore local = fixture.leasedLocal();
    long generation = local.put(b("k"), b("hello world"));
    Entry entry = local.getEntry(b("k"));
    assertThat(entry.fromCache()).isTrue();
    assertThat(new String(entry.value(), UTF_8)).isEqualTo("hello world");
    assertThat(entry.info().generation()).isEqualTo(generation);
    assertThat(entry.info().size()).isEqualTo(11);
    assertThat(local.stats().cacheHits()).isEqualTo(1);
  }

  @Test
  void theArrayAMissReturnsIsTheCallersOwnAndChangingItChangesNoLaterRead() {
    LocalStore writer = fixture.leasedLocal();
    LocalStore reader = fixture.leasedLocal();
    writer.put(b("k"), b("value"));
    byte[] missed = reader.get(b("k")); // a miss that fills the cache
    missed[0] = 'X';
    assertThat(reader.isCached(b("k"))).isTrue();
    byte[] hit = reader.get(b("k"));
    assertThat(hit).isEqualTo(b("value"));
    hit[0] = 'Y';
    assertThat(reader.get(b("k"))).isEqualTo(b("value"));
  }

  @Test
  void anotherLocalFetchesOnceFromGlobalThenServesLocally() {
    LocalStore writer = fixture.leasedLocal();
    LocalStore reader = fixture.leasedLocal();
    writer.put(b("k"), b("v"));
    Entry first = reader.getEntry(b("k"));
    assertThat(first.fromCache()).isFalse();
    Entry second = reader.getEntry(b("k"));
    assertThat(second.fromCache()).isTrue();
    assertThat(second.value()).isEqualTo(b("v"));
    assertThat(reader.stats().cacheMisses()).isEqualTo(1);
    assertThat(reader.stats().cacheHits()).isEqualTo(1);
  }

  @Test
  void onceADeleteReturnsNoLocalServesTheValue() {
    LocalStore a = fixture.leasedLocal();
    LocalStore b = fixture.leasedLocal();
    LocalStore c = fixture.leasedLocal();
    a.put(b("k"), b("v"));
    assertThat(b.get(b("k"))).isEqualTo(b("v"));
    assertThat(b.isCached(b("k"))).isTrue();

    c.delete(b("k"));
    // No waiting: strict mode promises this the moment delete returns.
    assertThat(a.isCached(b("k"))).isFalse();
    assertThat(b.isCached(b("k"))).isFalse();
    assertCode(() -> a.get(b("k")), ErrorCode.NOT_FOUND);
    assertCode(() -> b.get(b("k")), ErrorCode.NOT_FOUND);
    assertThat(b.stats().invalidationsApplied()).isEqualTo(1);
  }

  @Test
  void theDeleteGuaranteeHoldsOnFreshClustersWhereAcksRaceTheFanOut() throws Exception {
    // Acks from fast Locals arrive while Global is still queueing the invalidation to slower
    // ones; a delete must not return on a partial wait set. Fresh clusters make that race likely.
    for (int i = 0; i < 50; i++) {
      try (LocalFixture cluster = new LocalFixture(Coherence.STRICT)) {
        LocalStore a = cluster.leasedLocal();
        LocalStore b = cluster.leasedLocal();
        LocalStore c = cluster.leasedLocal();
        a.put(b("k"), b("v"));
        b.get(b("k"));
        c.delete(b("k"));
        assertThat(a.isCached(b("k"))).as("round %d: the writer's copy", i).isFalse();
        assertThat(b.isCached(b("k"))).as("round %d: the reader's copy", i).isFalse();
      }
    }
  }

  @Test
  void aPutOfAKeyCachedHereIsRefusedWithoutAskingGlobal() {
    LocalStore local = fixture.leasedLocal();
    local.put(b("k"), b("v"));
    int opens = fixture.storage.opens.get();
    fixture.stopGlobal(); // nothing to ask now; the lease still runs
    assertThatThrownBy(() -> local.put(b("k"), b("other")))
        .isInstanceOfSatisfying(
            DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS))
        .hasMessageContaining("cached here");
    assertThat(fixture.storage.opens.get()).isEqualTo(opens);
  }

  @Test
  void aPutOfAKeyOnlyGlobalHasCachesTheExistingValue() {
    LocalStore a = fixture.leasedLocal();
    LocalStore b = fixture.leasedLocal();
    a.put(b("k"), b("first"));
    assertThat(b.isCached(b("k"))).isFalse();
    assertThatThrownBy(() -> b.put(b("k"), b("second")))
        .isInstanceOfSatisfying(
            DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS))
        .hasMessageContaining("now cached here");
    assertThat(b.isCached(b("k"))).isTrue();
    Entry entry = b.getEntry(b("k"));
    assertThat(entry.fromCache()).isTrue();
    assertThat(entry.value()).isEqualTo(b("first"));
  }

  @Test
  void concurrentMissesForOneKeyMakeOneFetch() throws Exception {
    LocalStore writer = fixture.leasedLocal();
    LocalStore reader = fixture.leasedLocal();
    writer.put(b("k"), b("v"));
    int before = fixture.storage.opens.get();
    fixture.storage.arm();
    int readers = 16;
    ExecutorService pool = Executors.newFixedThreadPool(readers);
    try {
      List<CompletableFuture<byte[]>> reads = new ArrayList<>();
      for (int i = 0; i < readers; i++) {
        reads.add(CompletableFuture.supplyAsync(() -> reader.get(b("k")), pool));
      }
      Await.until("all readers to miss", () -> reader.stats().cacheMisses() == readers);
      Await.until("the fetch to reach Global", () -> fixture.storage.held.get() == 1);
      fixture.storage.release();
      for (CompletableFuture<byte[]> r : reads) {
        assertThat(r.get(20, TimeUnit.SECONDS)).isEqualTo(b("v"));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fixture.storage.opens.get() - before).isEqualTo(1);
  }

  @Test
  void aValueFetchedWhileItsDeleteIsInFlightIsNotCached() throws Exception {
    LocalStore reader = fixture.leasedLocal();
    LocalStore writer = fixture.leasedLocal();
    writer.put(b("k"), b("old"));
    fixture.storage.arm();
    CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> reader.get(b("k")));
    Await.until("the read to be taken and held", () -> fixture.storage.held.get() == 1);
    // The value was read; before it reaches the reader, the key is deleted everywhere.
    writer.delete(b("k"));
    fixture.storage.release();
    // The read overlapped the delete, so the old value is a fair answer to it...
    assertThat(read.get(20, TimeUnit.SECONDS)).isEqualTo(b("old"));
    // ...but it must not have been cached.
    assertThat(reader.isCached(b("k"))).isFalse();
    assertCode(() -> reader.get(b("k")), ErrorCode.NOT_FOUND);
  }

  @Test
  void aReadArrivingAfterADeleteReturnedDoesNotShareAFetchThatSawTheDeleteUnderWay()
      throws Exception {
    LocalStore reader = fixture.leasedLocal();
    LocalStore writer = fixture.leasedLocal();
    Partition partition = new Partition();
    LocalStore holdout = fixture.local(DstoreOptions.defaults(), Ticker.systemTicker(), partition);
    LocalFixture.awaitLease(holdout);
    writer.put(b("k"), b("old"));
    // The holdout is cut off with a lease: the delete must wait for that lease to run out.
    partition.cut();
    ServerInternals.hub(fixture.server).dropSubscriptions();
    reader.awaitReady(Duration.ofSeconds(20)); // its new subscription
    CompletableFuture<Long> delete = writer.deleteAsync(b("k"));
    Await.until(
        "the reader to apply the invalidation", () -> reader.stats().invalidationsApplied() == 1);
    // A read while the delete is under way: Global still answers the old value (flagged).
    fixture.storage.arm();
    ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
    CompletableFuture<byte[]> first =
        CompletableFuture.supplyAsync(() -> reader.get(b("k")), readers);
    Await.until("the first read to be held at Global", () -> fixture.storage.held.get() == 1);
    delete.get(20, TimeUnit.SECONDS);
    // The delete has returned: a read that begins now must not be handed the old value.
    CompletableFuture<byte[]> second =
        CompletableFuture.supplyAsync(() -> reader.get(b("k")), readers);
    Await.until("the second read to miss", () -> reader.stats().cacheMisses() == 2);
    fixture.storage.release();
    assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo(b("old"));
    assertThatThrownBy(() -> second.get(20, TimeUnit.SECONDS))
        .hasCauseInstanceOf(DstoreException.class)
        .cause()
        .extracting(e -> ((DstoreException) e).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
    readers.shutdown();
  }

  @Test
  void aLocalCutOffFromGlobalStopsServingHitsWhenItsLeaseEnds() throws Exception {
    AtomicLong nanos = new AtomicLong(System.nanoTime());
    Ticker ticker = nanos::get;
    LocalStore local = fixture.local(DstoreOptions.defaults(), ticker);
    LocalFixture.awaitLease(local);
    local.put(b("k"), b("v"));
    fixture.stopGlobal();
    assertThat(local.isCached(b("k"))).as("within its lease").isTrue();
    nanos.addAndGet(Duration.ofSeconds(2).toNanos()); // one whole lease
    assertThat(local.isCached(b("k"))).as("after its lease").isFalse();
    assertCode(() -> local.get(b("k")), ErrorCode.UNAVAILABLE);
  }

  @Test
  void aReconnectingLocalIsReplayedTheDeletesItMissed() throws Exception {
    LocalStore a = fixture.leasedLocal();
    Partition partition = new Partition();
    LocalStore b = fixture.local(DstoreOptions.defaults(), Ticker.systemTicker(), partition);
    LocalFixture.awaitLease(b);
    a.put(b("gone"), b("1"));
    a.put(b("kept"), b("2"));
    b.get(b("gone"));
    b.get(b("kept"));

    partition.cut();
    ServerInternals.hub(fixture.server).dropSubscriptions();
    CompletableFuture<Long> delete = a.deleteAsync(b("gone"));
    Await.until(
        "the delete to be published", () -> ServerInternals.hub(fixture.server).currentSeq() == 1);
    assertThat(delete).as("strict: waits for b, which may still serve it").isNotDone();
    partition.heal();

    assertThat(delete.get(20, TimeUnit.SECONDS)).isPositive();
    assertThat(b.stats().replays()).isEqualTo(1);
    assertThat(b.isCached(b("gone"))).isFalse();
    b.awaitReady(Duration.ofSeconds(20));
    assertThat(b.isCached(b("kept"))).as("kept without a wipe").isTrue();
    assertThat(b.stats().revalidations()).isZero();
  }

  @Test
  void whenTheLogNoLongerReachesBackALocalRevalidatesInsteadOfWiping() throws Exception {
    try (LocalFixture small = new LocalFixture(Coherence.STRICT, 1)) {
      LocalStore a = small.leasedLocal();
      Partition partition = new Partition();
      LocalStore b = small.local(DstoreOptions.defaults(), Ticker.systemTicker(), partition);
      LocalFixture.awaitLease(b);
      for (String k : List.of("gone1", "gone2", "kept")) {
        a.put(b(k), b(k));
        b.get(b(k));
      }
      partition.cut();
      ServerInternals.hub(small.server).dropSubscriptions();
      CompletableFuture<Long> first = a.deleteAsync(b("gone1"));
      CompletableFuture<Long> second = a.deleteAsync(b("gone2"));
      Await.until(
          "both deletes published", () -> ServerInternals.hub(small.server).currentSeq() == 2);
      partition.heal(); // b missed seq 1 and 2; the log now holds only 2

      first.get(20, TimeUnit.SECONDS);
      second.get(20, TimeUnit.SECONDS);
      Await.until("b to revalidate", () -> b.stats().revalidations() == 1);
      b.awaitReady(Duration.ofSeconds(20));
      assertThat(b.stats().replays()).isZero();
      assertThat(b.isCached(b("gone1"))).isFalse();
      assertThat(b.isCached(b("gone2"))).isFalse();
      assertThat(b.isCached(b("kept"))).as("still valid, so kept").isTrue();
    }
  }

  @Test
  void afterAGlobalRestartALocalKeepsWhatIsStillValid() throws Exception {
    LocalStore local = fixture.leasedLocal();
    LocalStore writer = fixture.leasedLocal();
    int n = 200;
    for (int i = 0; i < n; i++) {
      writer.put(b("k" + i), b("v" + i));
      local.get(b("k" + i));
    }
    fixture.stopGlobal();
    fixture.storage.delete(b("k0")); // deleted while the Local could not hear of it
    fixture.restartGlobal();
    Await.until("the Local to revalidate", () -> local.stats().revalidations() == 1);
    local.awaitReady(Duration.ofSeconds(20));
    LocalStats before = local.stats();
    for (int i = 1; i < n; i++) {
      assertThat(local.getEntry(b("k" + i)).fromCache()).as("k" + i + " kept").isTrue();
    }
    assertThat(local.stats().cacheHits() - before.cacheHits()).isEqualTo(n - 1);
    assertCode(() -> local.get(b("k0")), ErrorCode.NOT_FOUND);
  }

  @Test
  void aThinClientCachesNothing() {
    LocalStore writer = fixture.leasedLocal();
    LocalStore thin =
        fixture.local(DstoreOptions.builder().coherentCache(false).build(), Ticker.systemTicker());
    writer.put(b("k"), b("v"));
    assertThat(thin.getEntry(b("k")).fromCache()).isFalse();
    assertThat(thin.getEntry(b("k")).fromCache()).isFalse();
    assertThat(thin.stats().connected()).isFalse();
  }

  @Test
  void largeValuesStreamThroughAndRangesMoveOnlyTheirBytes() {
    LocalStore local = fixture.leasedLocal();
    byte[] value = new byte[5 << 20];
    new Random(1).nextBytes(value);
    long generation = local.put(b("big"), new ByteArrayInputStream(value), value.length);
    assertThat(generation).isPositive();

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    var info = local.get(b("big"), out);
    assertThat(out.toByteArray()).isEqualTo(value);
    assertThat(info.size()).isEqualTo(value.length);
    assertThat(local.stat(b("big")).sha256()).isEqualTo(info.sha256());

    byte[] slice = local.get(b("big"), 4_000_000, 1000);
    assertThat(slice).isEqualTo(java.util.Arrays.copyOfRange(value, 4_000_000, 4_001_000));
    assertCode(() -> local.get(b("big"), value.length - 10, 11), ErrorCode.INVALID_ARGUMENT);
  }

  @Test
  void contentAddressedPutsAreIdempotentAndNamedByTheirDigest() throws Exception {
    LocalStore local = fixture.leasedLocal();
    String key = local.putContent(b("blob"));
    assertThat(key)
        .isEqualTo(
            "sha256:"
                + java.util.HexFormat.of()
                    .formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(b("blob"))));
    assertThat(local.putContent(b("blob"))).isEqualTo(key);
    assertThat(local.get(b(key))).isEqualTo(b("blob"));

    // Streamed, in several chunks: the key is derived once the last byte is in.
    byte[] large = new byte[3 * DstoreOptions.DEFAULT_CHUNK_SIZE + 7];
    new Random(3).nextBytes(large);
    String largeKey = local.putContent(new ByteArrayInputStream(large), large.length);
    assertThat(largeKey)
        .isEqualTo(
            "sha256:"
                + java.util.HexFormat.of()
                    .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(large)));
    assertThat(local.putContent(new ByteArrayInputStream(large), -1)).isEqualTo(largeKey);
    assertThat(local.putContent(large)).isEqualTo(largeKey);
    ByteArrayOutputStream back = new ByteArrayOutputStream();
    local.get(b(largeKey), back);
    assertThat(back.toByteArray()).isEqualTo(large);
    assertThat(fixture.storage.keyCount()).isEqualTo(2);
  }

  @Test
  void errorsSayWhatWentWrong() {
    LocalStore local = fixture.leasedLocal();
    assertCode(() -> local.get(b("missing")), ErrorCode.NOT_FOUND);
    assertCode(() -> local.delete(b("missing")), ErrorCode.NOT_FOUND);
    assertCode(() -> local.get(new byte[0]), ErrorCode.INVALID_ARGUMENT);
    assertCode(() -> local.put(b("x".repeat(1025)), b("v")), ErrorCode.TOO_LARGE);
    local.close();
    assertCode(() -> local.get(b("k")), ErrorCode.UNAVAILABLE);
  }

  @Test
  void binaryKeysAndValuesRoundTrip() {
    LocalStore local = fixture.leasedLocal();
    byte[] key = {0, (byte) 0xff, 10, 0};
    byte[] value = {0, 1, 2, (byte) 0x80, 0};
    local.put(key, value);
    LocalStore other = fixture.leasedLocal();
    assertThat(other.get(key)).isEqualTo(value);
  }
}
