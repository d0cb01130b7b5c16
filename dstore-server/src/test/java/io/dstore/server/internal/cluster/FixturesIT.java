package io.dstore.server.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.EtcdCluster;
import io.dstore.testing.S3Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The test fixtures the cluster-store tests stand on work: a real 3-member etcd cluster elects a
 * leader, replaces a killed one and takes the member back on restart; a real s3proxy stores and
 * returns an object through the AWS SDK, also across a restart.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FixturesIT {
  @TempDir Path temp;

  @Test
  void aThreeMemberEtcdClusterReplacesAKilledLeaderAndTakesTheMemberBack() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(temp.resolve("etcd"), 3)) {
      assertThat(etcd.endpoints()).hasSize(3).allMatch(e -> e.startsWith("http://127.0.0.1:"));
      assertThat(etcd.endpointsCsv()).isEqualTo(String.join(",", etcd.endpoints()));
      etcd.etcdctl("put", "/fixtures/a", "1");

      int leader = etcd.leader();
      long leaderPid = etcd.pid(leader);
      etcd.kill(leader);
      assertThat(ProcessHandle.of(leaderPid)).isEmpty();

      int next = etcd.leader();
      assertThat(next).isNotEqualTo(leader);
      etcd.etcdctl("put", "/fixtures/b", "2");
      assertThat(etcd.etcdctl("get", "/fixtures/a", "--print-value-only")).isEqualTo("1\n");

      etcd.restart(leader);
      assertThat(etcd.pid(leader)).isNotEqualTo(leaderPid);
      // The restarted member caught up: it serves the write made while it was dead, alone.
      assertThat(
              etcd.etcdctlOn(leader, "get", "/fixtures/b", "--print-value-only", "--consistency=s"))
          .isEqualTo("2\n");
    }
  }

  @Test
  void closingAClusterStopsEveryMemberEvenAfterAKill() throws Exception {
    EtcdCluster etcd = EtcdCluster.start(temp.resolve("etcd"), 3);
    long[] pids = {etcd.pid(0), etcd.pid(1), etcd.pid(2)};
    etcd.kill(1);
    etcd.close();
    etcd.close();
    for (long pid : pids) {
      assertThat(ProcessHandle.of(pid)).as("pid %d", pid).isEmpty();
    }
  }

  @Test
  void s3proxyStoresAndReturnsAnObjectAlsoAfterARestart() throws Exception {
    try (S3Proxy s3 = S3Proxy.start(temp.resolve("s3"))) {
      assertThat(s3.endpoint()).startsWith("http://127.0.0.1:");
      byte[] value = "the bytes of a large value".getBytes(StandardCharsets.UTF_8);
      try (S3Client client = client(s3)) {
        client.putObject(b -> b.bucket(s3.bucket()).key("blobs/one"), RequestBody.fromBytes(value));
        assertThat(
                client.getObjectAsBytes(b -> b.bucket(s3.bucket()).key("blobs/one")).asByteArray())
            .isEqualTo(value);
      }
      long pid = s3.pid();
      s3.restart();
      assertThat(s3.pid()).isNotEqualTo(pid);
      assertThat(ProcessHandle.of(pid)).isEmpty();
      try (S3Client client = client(s3)) {
        assertThat(
                client.getObjectAsBytes(b -> b.bucket(s3.bucket()).key("blobs/one")).asByteArray())
            .isEqualTo(value);
      }
      long last = s3.pid();
      s3.close();
      s3.close();
      assertThat(ProcessHandle.of(last)).isEmpty();
    }
  }

  /**
   * With the SDK's default (a CRC trailer on every put), s3proxy 2.6.0 refuses a PutObject with 400
   * "The provided 'x-amz-content-sha256' header does not match": checksums only when required.
   */
  private static S3Client client(S3Proxy s3) {
    return S3Client.builder()
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .endpointOverride(URI.create(s3.endpoint()))
        .region(Region.US_EAST_1)
        .forcePathStyle(true)
        .credentialsProvider(
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())))
        .build();
  }
}
