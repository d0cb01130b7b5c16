package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.server.ClusterConfig;
import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.server.ValuePattern;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster store on real etcd and s3proxy, beyond the shared contract: uploads whose intent
 * vanished, request ids, generations shared by gateways, failures of S3 and of the etcd leader.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterStoreIT {
  private static final int MIB = 1 << 20;

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

  private static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(ValuePattern.newSha256().digest(bytes));
  }

  private static StoredInfo put(Storage store, String key, byte[] value) throws Exception {
    try (Storage.Upload upload = store.create(key.getBytes(UTF_8), value.length)) {
      upload.write(ByteBuffer.wrap(value));
      return upload.commit(sha256(value));
    }
  }

  private static byte[] read(Storage store, String key) throws IOException {
    try (Storage.Reader reader = store.open(key.getBytes(UTF_8)).orElseThrow()) {
      ByteBuffer dst = ByteBuffer.allocate((int) reader.info().size());
      while (dst.hasRemaining()) {
        assertThat(reader.read(dst.position(), dst)).isPositive();
      }
      return dst.array();
    }
  }

  @Test
  void anUploadWhoseIntentVanishedFailsAtCommitAndLeavesNothingVisible() throws Exception {
    ClusterConfig config = cluster.config(b -> b.inlineThreshold(1024));
    try (ClusterClients clients = ClusterClients.open(config, cluster.credentials())) {
      long lease = clients.etcd().getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
      try (ClusterStore store =
          new ClusterStore(
              clients.etcd(),
              clients.s3(),
              config,
              new EtcdLayout(config.etcdPrefix()),
              () -> lease)) {
        byte[] value = new ValuePattern(1).bytes(0, 3 * MIB);
        Storage.Upload upload = store.create("k".getBytes(UTF_8), value.length);
        upload.write(ByteBuffer.wrap(value));

        clients.etcd().getLeaseClient().revoke(lease).get(10, TimeUnit.SECONDS);

        assertThatThrownBy(() -> upload.commit(sha256(value)))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("upload expired");
        assertThat(store.stat("k".getBytes(UTF_8))).isEmpty();
        assertThat(store.keyCount()).isZero();
        assertThatThrownBy(() -> upload.write(ByteBuffer.allocate(1)))
            .isInstanceOf(IllegalStateException.class);
        BlobCollector collector = new BlobCollector(store, null, () -> Instant.EPOCH);
        collector.runOnce();
        collector.runOnce();
        assertThat(store.blobs().list()).as("objects left").isEmpty();
      }
    }
  }

  @Test
  void anInlineUploadNeedsNoIntentAndSurvivesTheLeaseEnding() throws Exception {
    ClusterConfig config = cluster.config(b -> b);
    try (ClusterClients clients = ClusterClients.open(config, cluster.credentials())) {
      long lease = clients.etcd().getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
      try (ClusterStore store =
          new ClusterStore(
              clients.etcd(),
              clients.s3(),
              config,
              new EtcdLayout(config.etcdPrefix()),
              () -> lease)) {
        clients.etcd().getLeaseClient().revoke(lease).get(10, TimeUnit.SECONDS);
        assertThat(put(store, "small", new byte[100]).size()).isEqualTo(100);
        assertThat(store.stat("small".getBytes(UTF_8))).isPresent();
      }
    }
  }

  @Test
  void theCreatingRequestIdIsKeptForThatGenerationOnly() throws Exception {
    try (ClusterStore store = cluster.open(cluster.config(b -> b.inlineThreshold(1024)))) {
      for (int size : new int[] {10, 2 * MIB}) {
        byte[] id = {7, 7, 7, (byte) (size >>> 20)};
        byte[] key = ("k" + size).getBytes(UTF_8);
        StoredInfo info;
        try (Storage.Upload upload = store.create(key, size, id)) {
          upload.write(ByteBuffer.wrap(new byte[size]));
          info = upload.commit(sha256(new byte[size]));
        }
        assertThat(store.createdBy(key, info.generation())).as("size %d", size).contains(id);
        assertThat(store.createdBy(key, info.generation() + 1)).isEmpty();
        store.delete(key);
        assertThat(store.createdBy(key, info.generation())).isEmpty();
      }
      StoredInfo anonymous = put(store, "anonymous", new byte[1]);
      assertThat(store.createdBy("anonymous".getBytes(UTF_8), anonymous.generation())).isEmpty();
    }
  }

  @Test
  void aPutCommittedByOneAttemptIsAnsweredToEveryOtherAttemptAndStoredOnce() throws Exception {
    try (ClusterStore store = cluster.open(cluster.config(b -> b.inlineThreshold(1024)))) {
      for (int size : new int[] {10, 2 * MIB}) {
        byte[] id = ("once-" + size).getBytes(UTF_8);
        byte[] key = ("once" + size).getBytes(UTF_8);
        byte[] value = new byte[size];
        Storage.Upload first = store.create(key, size, id);
        Storage.Upload retry = store.create(key, size, id);
        first.write(ByteBuffer.wrap(value));
        retry.write(ByteBuffer.wrap(value));

        StoredInfo applied = retry.commit(sha256(value)); // the retry lands first
        store.delete(key); // and someone deletes the value
        StoredInfo late = first.commit(sha256(value)); // then the first attempt arrives

        assertThat(late).as("size %d", size).isEqualTo(applied);
        assertThat(store.stat(key)).as("the late attempt stored nothing").isEmpty();
      }
    }
  }

  @Test
  void aLateFirstAttemptOfAPutCannotLandOnceARetryWasRefused() throws Exception {
    try (ClusterStore store = cluster.open(cluster.config(b -> b))) {
      byte[] key = "taken".getBytes(UTF_8);
      byte[] id = "refused-once".getBytes(UTF_8);
      StoredInfo other = put(store, "taken", new byte[3]);
      Storage.Upload first = store.create(key, 5, id);
      first.write(ByteBuffer.wrap(new byte[5]));

      // The retry found the key taken by someone else: settled as refused.
      assertThat(store.settleRefused(key, id)).isEmpty();
      store.delete(key);

      assertThatThrownBy(() -> first.commit(sha256(new byte[5])))
          .isInstanceOf(java.io.IOException.class)
          .hasMessageContaining("answered already");
      assertThat(store.stat(key)).isEmpty();
      assertThat(store.settleRefused(key, id)).isEmpty();
      assertThat(other.generation()).isPositive();
    }
  }

  @Test
  void aRetryThatFindsTheKeyCreatedByItsFirstAttemptLearnsWhatItCreated() throws Exception {
    try (ClusterStore store = cluster.open(cluster.config(b -> b))) {
      byte[] key = "mine".getBytes(UTF_8);
      byte[] id = "mine-first".getBytes(UTF_8);
      StoredInfo created;
      try (Storage.Upload first = store.create(key, 4, id)) {
        first.write(ByteBuffer.wrap(new byte[4]));
        created = first.commit(sha256(new byte[4]));
      }

      assertThat(store.settleRefused(key, id)).contains(created);
    }
  }

  @Test
  void twoGatewaysShareKeysGenerationsAndTheFirstCommitWins() throws Exception {
    ClusterConfig config = cluster.config(b -> b.inlineThreshold(1024));
    try (ClusterStore a = cluster.open(config);
        ClusterStore b = cluster.open(config)) {
      StoredInfo one = put(a, "one", new byte[2 * MIB]);
      assertThat(b.stat("one".getBytes(UTF_8))).contains(one);
      assertThat(read(b, "one")).hasSize(2 * MIB);
      StoredInfo two = put(b, "two", new byte[5]);
      assertThat(two.generation()).isGreaterThan(one.generation());
      assertThatThrownBy(() -> put(b, "one", new byte[3]))
          .isInstanceOf(KeyExistsException.class)
          .satisfies(e -> assertThat(((KeyExistsException) e).existing()).isEqualTo(one));
      assertThat(a.keyCount()).isEqualTo(2);
      assertThat(b.valueBytes()).isEqualTo(2L * MIB + 5);
    }
  }

  @Test
  void aReaderKeepsItsBytesThroughADeleteUntilTheGraceHasPassed() throws Exception {
    ClusterConfig config =
        cluster.config(b -> b.inlineThreshold(1024).collectorGrace(Duration.ofMinutes(10)));
    try (ClusterStore store = cluster.open(config)) {
      Instant[] now = {Instant.parse("2026-01-01T00:00:00Z")};
      BlobCollector collector = new BlobCollector(store, null, () -> now[0]);
      ValuePattern pattern = new ValuePattern(3);
      byte[] value = pattern.bytes(0, 3 * MIB);
      put(store, "k", value);
      try (Storage.Reader reader = store.open("k".getBytes(UTF_8)).orElseThrow()) {
        store.delete("k".getBytes(UTF_8));
        collector.runOnce();
        now[0] = now[0].plus(Duration.ofMinutes(9));
        assertThat(collector.runOnce().deleted()).isZero();
        ByteBuffer dst = ByteBuffer.allocate(MIB);
        assertThat(reader.read(MIB, dst)).isEqualTo(MIB);
        assertThat(dst.array()).isEqualTo(pattern.bytes(MIB, MIB));

        now[0] = now[0].plus(Duration.ofMinutes(1));
        assertThat(collector.runOnce().deleted()).isEqualTo(1);
        assertThatThrownBy(() -> reader.read(0, ByteBuffer.allocate(10)))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("grace");
      }
    }
  }

  @Test
  void s3DownFailsOnlyLargeValuesNamingS3AndTheStoreRecovers() throws Exception {
    try (ClusterStore store = cluster.open(cluster.config(b -> b.inlineThreshold(1024)))) {
      put(store, "large", new byte[2 * MIB]);
      cluster.s3.kill();
      try {
        assertThatThrownBy(() -> read(store, "large"))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("S3 (" + cluster.s3.endpoint() + ")");
        assertThatThrownBy(() -> put(store, "large2", new byte[2 * MIB]))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("S3 (");
        assertThat(put(store, "small", new byte[10]).size()).as("inline still works").isEqualTo(10);
      } finally {
        cluster.s3.restart();
      }
      assertThat(read(store, "large")).hasSize(2 * MIB);
      assertThat(put(store, "large2", new byte[2 * MIB]).size()).isEqualTo(2 * MIB);
    }
  }

  @Test
  void etcdUnreachableFailsNamingEtcdAndWhere() throws Exception {
    ClusterConfig config =
        ClusterConfig.builder()
            .etcd("http://127.0.0.1:" + freePort())
            .blobs("s3://" + cluster.s3.bucket() + "/nowhere/")
            .s3Endpoint(java.net.URI.create(cluster.s3.endpoint()))
            .region("us-east-1")
            .etcdTimeout(Duration.ofSeconds(2))
            .build();
    try (ClusterClients clients = ClusterClients.open(config, cluster.credentials());
        ClusterStore store =
            new ClusterStore(
                clients.etcd(),
                clients.s3(),
                config,
                new EtcdLayout(config.etcdPrefix()),
                () -> 1)) {
      assertThatThrownBy(() -> store.stat(new byte[] {1}))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("etcd (" + config.etcdEndpoints().get(0) + ")");
      assertThatThrownBy(() -> put(store, "k", new byte[1]))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("etcd (");
    }
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Kills the etcd leader while a reader and a writer run. Reads never fail (jetcd's retries and
   * the store's own); writes may fail while there is no leader and work again once one is elected.
   */
  @Test
  void operationsContinueAfterTheEtcdLeaderIsKilled() throws Exception {
    try (ClusterStore store = cluster.open(cluster.config(b -> b.inlineThreshold(1024)))) {
      byte[] large = new ValuePattern(5).bytes(0, 2 * MIB);
      put(store, "large", large);
      put(store, "small", "small".getBytes(UTF_8));
      int leader = cluster.etcd.leader();
      long killedAt = System.nanoTime();
      cluster.etcd.kill(leader);
      try {
        List<String> writeFailures = new ArrayList<>();
        long firstWriteAfterKill = -1;
        for (int i = 0; i < 40; i++) {
          assertThat(read(store, "small")).isEqualTo("small".getBytes(UTF_8));
          assertThat(read(store, "large")).isEqualTo(large);
          try {
            put(store, "after-" + i, new byte[i * 100]);
            if (firstWriteAfterKill < 0) {
              firstWriteAfterKill = System.nanoTime() - killedAt;
            }
          } catch (IOException e) {
            writeFailures.add(e.getMessage());
          }
        }
        assertThat(firstWriteAfterKill).as("some write succeeded after the kill").isPositive();
        assertThat(writeFailures).as("write failures").hasSizeLessThan(10);
        System.out.printf(
            "etcd leader killed: first write after %d ms, %d of 40 writes failed%n",
            TimeUnit.NANOSECONDS.toMillis(firstWriteAfterKill), writeFailures.size());
      } finally {
        cluster.etcd.restart(leader);
      }
      assertThat(store.keyCount()).isGreaterThanOrEqualTo(32);
    }
  }

  @Test
  void aStartedCollectorReclaimsTheObjectOfADeletedKeyOnItsOwn() throws Exception {
    ClusterConfig config =
        cluster.config(b -> b.inlineThreshold(1024).collectorInterval(Duration.ofMillis(200)));
    java.util.concurrent.ScheduledExecutorService scheduler =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try (ClusterStore store = cluster.open(config);
        BlobCollector collector =
            new BlobCollector(store, scheduler, java.time.Clock.systemUTC())) {
      put(store, "kept", new byte[2 * MIB]);
      put(store, "deleted", new byte[2 * MIB]);
      store.delete("deleted".getBytes(UTF_8));
      collector.start();
      io.dstore.testing.Await.until(
          "the deleted key's object to be collected",
          Duration.ofSeconds(30),
          () -> {
            try {
              return store.blobs().list().size() == 1;
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
      assertThat(store.blobs().list().get(0).name()).isEqualTo(store.referencedObjects().get(0));
      assertThat(read(store, "kept")).hasSize(2 * MIB);
    } finally {
      scheduler.shutdownNow();
    }
  }

  @Test
  void everyEtcdAndS3CallIsTimedByOperation() throws Exception {
    try (ClusterStore store = cluster.open(cluster.config(b -> b.inlineThreshold(1024)))) {
      for (int i = 0; i < 200; i++) {
        put(store, "small-" + i, new byte[100]);
        store.stat(("small-" + i).getBytes(UTF_8));
      }
      for (int i = 0; i < 5; i++) {
        put(store, "large-" + i, new byte[2 * MIB]);
        assertThat(read(store, "large-" + i)).hasSize(2 * MIB);
      }
      java.util.Map<String, ClusterStats.Timer> timers = store.stats().timers();
      assertThat(timers.get("etcd.commit").count()).isEqualTo(205);
      assertThat(timers.get("etcd.get").count()).isGreaterThanOrEqualTo(205);
      assertThat(timers.get("etcd.put-intent").count()).isEqualTo(5);
      assertThat(timers.get("s3.put").count()).isEqualTo(5);
      assertThat(timers.get("s3.get").count()).isGreaterThanOrEqualTo(5);
      for (var e : timers.entrySet()) {
        ClusterStats.Timer t = e.getValue();
        assertThat(t.maxNanos()).as(e.getKey()).isGreaterThanOrEqualTo(t.totalNanos() / t.count());
        System.out.println("cluster store " + e.getKey() + ": " + t);
      }
    }
  }

  @Test
  void withoutAGatewayLeaseLargeUploadsAreRefusedAndSmallOnesWork() throws Exception {
    ClusterConfig config = cluster.config(b -> b.inlineThreshold(1024));
    try (ClusterClients clients = ClusterClients.open(config, cluster.credentials());
        ClusterStore store =
            new ClusterStore(
                clients.etcd(),
                clients.s3(),
                config,
                new EtcdLayout(config.etcdPrefix()),
                () -> 0)) {
      assertThatThrownBy(() -> put(store, "large", new byte[2 * MIB]))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("no etcd lease");
      assertThat(put(store, "small", new byte[10]).size()).isEqualTo(10);
      assertThat(store.blobs().list()).isEmpty();
    }
  }
}
