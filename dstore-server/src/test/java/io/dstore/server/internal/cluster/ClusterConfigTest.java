package io.dstore.server.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.server.ClusterConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClusterConfigTest {
  private static ClusterConfig.Builder minimal() {
    return ClusterConfig.builder()
        .etcd("http://127.0.0.1:2379")
        .blobs("s3://bucket")
        .region("eu-west-1");
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    ClusterConfig c = minimal().build();
    assertThat(c.etcdPrefix()).isEqualTo("/dstore/");
    assertThat(c.inlineThreshold()).isEqualTo(64 * 1024);
    assertThat(c.partSize()).isEqualTo(8 << 20);
    assertThat(c.collectorGrace()).isEqualTo(Duration.ofMinutes(10));
    assertThat(c.leaseTtl()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.s3Endpoint()).isEmpty();
    assertThat(c.pathStyle()).as("AWS: virtual-host style").isFalse();
    assertThat(c.s3Prefix()).isEmpty();
    assertThat(c.blobsUrl()).isEqualTo("s3://bucket/");
  }

  @Test
  void anEndpointOverrideTurnsOnPathStyleUnlessSaidOtherwise() {
    assertThat(minimal().s3Endpoint(URI.create("http://127.0.0.1:9000")).build().pathStyle())
        .isTrue();
    assertThat(
            minimal()
                .s3Endpoint(URI.create("http://127.0.0.1:9000"))
                .pathStyle(false)
                .build()
                .pathStyle())
        .isFalse();
  }

  @Test
  void blobUrlsGiveBucketAndPrefix() {
    assertThat(ClusterConfig.parseBlobs("s3://my-bucket"))
        .isEqualTo(new ClusterConfig.BlobLocation("my-bucket", ""));
    assertThat(ClusterConfig.parseBlobs("s3://my-bucket/"))
        .isEqualTo(new ClusterConfig.BlobLocation("my-bucket", ""));
    assertThat(ClusterConfig.parseBlobs("s3://my.bucket/a/b"))
        .isEqualTo(new ClusterConfig.BlobLocation("my.bucket", "a/b/"));
    assertThat(ClusterConfig.parseBlobs("s3://b12/dstore/"))
        .isEqualTo(new ClusterConfig.BlobLocation("b12", "dstore/"));
  }

  @Test
  void badBlobUrlsAreRefusedSayingWhy() {
    assertRefused("http://bucket/x", "must start with s3://");
    assertRefused("bucket", "must start with s3://");
    assertRefused("s3://", "no bucket");
    assertRefused("s3:///prefix", "no bucket");
    assertRefused("s3://Bucket", "not a valid S3 bucket name");
    assertRefused("s3://ab", "not a valid S3 bucket name");
    assertRefused("s3://bad_bucket", "not a valid S3 bucket name");
    assertRefused("s3://a..b", "not a valid S3 bucket name");
    assertRefused("s3://bucket-/x", "not a valid S3 bucket name");
    assertRefused("s3://user@bucket", "no user or port");
    assertRefused("s3://bucket:9000/x", "no user or port");
    assertRefused("s3://bucket/a//b", "empty segment");
    assertRefused("s3://bucket//a", "empty segment");
    assertRefused("s3://bucket/a?versionId=1", "no query");
  }

  private static void assertRefused(String url, String why) {
    assertThatThrownBy(() -> ClusterConfig.parseBlobs(url))
        .as(url)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(url)
        .hasMessageContaining(why);
  }

  @Test
  void etcdEndpointsAreHttpOrHttpsWithHostAndPort() {
    assertThat(ClusterConfig.parseEndpoints("http://a:2379, http://b:2379"))
        .containsExactly(URI.create("http://a:2379"), URI.create("http://b:2379"));
    assertThat(ClusterConfig.parseEndpoint("https://10.0.0.1:2379/"))
        .isEqualTo(URI.create("https://10.0.0.1:2379"));
    for (String bad :
        List.of(
            "127.0.0.1:2379",
            "grpc://a:2379",
            "http://a",
            "http://:2379",
            "http://a:2379/v3",
            "http://a:2379?x=1",
            "http://u@a:2379",
            "http://a:99999",
            "http://a b:2379")) {
      assertThatThrownBy(() -> ClusterConfig.parseEndpoint(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bad etcd endpoint");
    }
    assertThatThrownBy(() -> ClusterConfig.parseEndpoints("http://a:1,,http://b:2"))
        .hasMessageContaining("empty entry");
  }

  @Test
  void aConfigNeedsEndpointsABucketAndOneScheme() {
    assertThatThrownBy(() -> ClusterConfig.builder().blobs("s3://bucket").build())
        .hasMessageContaining("no etcd endpoints");
    assertThatThrownBy(() -> ClusterConfig.builder().etcd("http://a:1").build())
        .hasMessageContaining("no bucket");
    assertThatThrownBy(() -> minimal().etcd("http://a:1,https://b:2").build())
        .hasMessageContaining("mix http and https");
  }

  @Test
  void tlsFilesMustExistAndMatchTheScheme() {
    assertThatThrownBy(
            () ->
                minimal()
                    .etcd("https://a:1")
                    .etcdTls(java.nio.file.Path.of("/nonexistent/ca.pem"), null, null)
                    .build())
        .hasMessageContaining("cannot read etcd TLS file /nonexistent/ca.pem");
    assertThatThrownBy(
            () -> minimal().etcdTls(java.nio.file.Path.of("/etc/hostname"), null, null).build())
        .hasMessageContaining("use https://");
    assertThatThrownBy(
            () ->
                minimal()
                    .etcd("https://a:1")
                    .etcdTls(null, java.nio.file.Path.of("/etc/hostname"), null)
                    .build())
        .hasMessageContaining("needs its key");
  }

  @Test
  void sizesAndDurationsOutOfRangeAreRefused() {
    assertThatThrownBy(() -> minimal().partSize(4 << 20)).hasMessageContaining("5 MiB");
    assertThatThrownBy(() -> minimal().inlineThreshold(-1)).hasMessageContaining("inline");
    assertThatThrownBy(() -> minimal().inlineThreshold(2 << 20)).hasMessageContaining("inline");
    assertThatThrownBy(() -> minimal().collectorGrace(Duration.ofSeconds(-1)))
        .hasMessageContaining("negative");
    assertThatThrownBy(() -> minimal().collectorInterval(Duration.ZERO))
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> minimal().leaseTtl(Duration.ofSeconds(1)))
        .hasMessageContaining("at least 2 s");
    assertThatThrownBy(() -> minimal().etcdPrefix("/dstore")).hasMessageContaining("end with '/'");
    assertThatThrownBy(() -> minimal().s3Endpoint(URI.create("ftp://x")))
        .hasMessageContaining("bad S3 endpoint");
  }
}
