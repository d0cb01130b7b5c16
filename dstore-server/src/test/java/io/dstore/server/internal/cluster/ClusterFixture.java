package io.dstore.server.internal.cluster;

import io.dstore.server.ClusterConfig;
import io.dstore.testing.EtcdCluster;
import io.dstore.testing.S3Proxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A real 3-member etcd cluster and a real s3proxy for the cluster-store ITs, and stores on them.
 * Each {@link #config} gets its own etcd and S3 prefix, so stores made from different configs share
 * nothing and start empty.
 */
final class ClusterFixture implements AutoCloseable {
  private static final AtomicInteger SPACES = new AtomicInteger();

  final EtcdCluster etcd;
  final S3Proxy s3;

  private ClusterFixture(EtcdCluster etcd, S3Proxy s3) {
    this.etcd = etcd;
    this.s3 = s3;
  }

  static ClusterFixture start(Path dir) throws IOException {
    EtcdCluster etcd = EtcdCluster.start(dir.resolve("etcd"), 3);
    try {
      return new ClusterFixture(etcd, S3Proxy.start(dir.resolve("s3")));
    } catch (IOException | RuntimeException e) {
      etcd.close();
      throw e;
    }
  }

  AwsCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(
        AwsBasicCredentials.create(s3.accessKey(), s3.secretKey()));
  }

  /** A config on a new, empty space of its own; collector grace zero; exact stats. */
  ClusterConfig config(UnaryOperator<ClusterConfig.Builder> tweak) {
    int space = SPACES.incrementAndGet();
    ClusterConfig.Builder b =
        ClusterConfig.builder()
            .etcd(etcd.endpointsCsv())
            .etcdPrefix("/t" + space + "/")
            .blobs("s3://" + s3.bucket() + "/t" + space + "/")
            .s3Endpoint(URI.create(s3.endpoint()))
            .region("us-east-1")
            .collectorGrace(Duration.ZERO)
            .statsMaxAge(Duration.ZERO);
    return tweak.apply(b).build();
  }

  ClusterStore open(ClusterConfig config) throws IOException {
    return ClusterStore.openStandalone(config, credentials());
  }

  /** Bytes of every file s3proxy holds for the bucket (objects and multipart parts). */
  long bucketBytesOnDisk() {
    try (Stream<Path> files = Files.walk(s3.dataDir())) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              f -> {
                try {
                  return Files.size(f);
                } catch (IOException e) {
                  return 0; // removed while walking
                }
              })
          .sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      s3.close();
    } finally {
      etcd.close();
    }
  }
}
