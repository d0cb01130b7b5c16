package io.dstore.server.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.server.Storage;
import io.dstore.server.StorageConformanceTest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster store against the shared {@link Storage} contract, on a real 3-member etcd cluster
 * and a real s3proxy, with the default inline threshold (64 KiB): small values inline in etcd, the
 * suite's MiB-sized ones in S3 (multipart from 8 MiB on). (A second run with a 1 KiB threshold
 * added little coverage for a minute of CI time; {@code ClusterStoreIT} and {@code
 * BlobCollectorRaceIT} cover small values in S3.)
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterStoreConformanceIT extends StorageConformanceTest {
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

  /** The inline threshold of the stores under test. */
  protected int inlineThreshold() {
    return 64 * 1024;
  }

  @Override
  protected Storage newStorage() throws IOException {
    return cluster.open(cluster.config(b -> b.inlineThreshold(inlineThreshold())));
  }

  /**
   * The bytes s3proxy holds on disk (objects and parts of unfinished uploads), after two collector
   * passes with grace zero have reclaimed every unreferenced object; plus the inline bytes in etcd.
   */
  @Override
  protected long spaceInUse(Storage storage) throws IOException {
    ClusterStore store = (ClusterStore) storage;
    BlobCollector collector =
        new BlobCollector(store, null, () -> Instant.EPOCH); // grace 0: the second pass deletes
    collector.runOnce();
    collector.runOnce();
    return cluster.bucketBytesOnDisk() + inlineBytes(store);
  }

  private static long inlineBytes(ClusterStore store) throws IOException {
    long[] sum = {0};
    store
        .etcdCalls()
        .scan(
            store.layout().metaPrefix(),
            0,
            false,
            kv -> {
              Meta m = Meta.decode("k", kv.getValue().getBytes());
              sum[0] += m.isInline() ? m.size() : 0;
            });
    return sum[0];
  }

  @Test
  void describesItsEtcdEndpointsAndBucket() {
    assertThat(storage.describe())
        .startsWith("etcd:" + String.join(",", cluster.etcd.endpoints()) + " + s3://")
        .contains(cluster.s3.bucket());
  }

  @Test
  void bothInlineAndS3ValuesAreStored() throws Exception {
    ClusterStore store = (ClusterStore) storage;
    put(key("small"), new byte[10]);
    put(key("large"), new byte[2 * MIB]);
    assertThat(store.referencedObjects()).hasSize(1);
    assertThat(cluster.bucketBytesOnDisk()).isGreaterThanOrEqualTo(2L * MIB);
  }
}
