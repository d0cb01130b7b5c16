package io.dstore.cli;

import io.dstore.server.ClusterConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The options of {@code dstore global --store etcd}: where the cluster store's etcd and S3 are, and
 * how this gateway uses them. Turned into a {@link ClusterConfig}; each option is refused with a
 * message of its own when it is wrong, or when it is given without {@code --store etcd}.
 */
final class ClusterOptions {
  @Option(
      names = "--etcd",
      paramLabel = "URL[,URL...]",
      description =
          "etcd: the cluster's etcd endpoints, e.g. http://10.0.0.1:2379,http://10.0.0.2:2379"
              + " (https:// with --etcd-ca). Required with --store etcd.")
  String etcd;

  @Option(
      names = "--etcd-prefix",
      paramLabel = "PREFIX",
      description =
          "etcd: the key prefix every gateway of this cluster shares; ends with '/' (default:"
              + " /dstore/).")
  String etcdPrefix;

  @Option(
      names = "--etcd-ca",
      paramLabel = "FILE",
      description = "etcd: trust etcd's server certificates signed by the CA in this PEM file.")
  Path etcdCa;

  @Option(
      names = "--etcd-cert",
      paramLabel = "FILE",
      description = "etcd: client certificate (PEM) for etcd's client-cert auth; needs --etcd-key.")
  Path etcdCert;

  @Option(
      names = "--etcd-key",
      paramLabel = "FILE",
      description = "etcd: private key of --etcd-cert (PEM, PKCS#8).")
  Path etcdKey;

  @Option(
      names = "--blobs",
      paramLabel = "s3://BUCKET[/PREFIX]",
      description =
          "etcd: where values larger than --inline-limit go, in S3-compatible storage;"
              + " credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and"
              + " AWS_SECRET_ACCESS_KEY, or a profile). Required with --store etcd.")
  String blobs;

  @Option(
      names = "--s3-endpoint",
      paramLabel = "URL",
      description =
          "etcd: the S3 endpoint, for S3-compatible storage (MinIO, Ceph RGW, s3proxy);"
              + " default: AWS. Path-style addressing is used with it.")
  String s3Endpoint;

  @Option(
      names = "--s3-region",
      paramLabel = "REGION",
      description = "etcd: the S3 region (default: the AWS SDK's, else us-east-1).")
  String s3Region;

  @Option(
      names = "--inline-limit",
      paramLabel = "SIZE",
      converter = Sizes.IntConverter.class,
      description =
          "etcd: values up to SIZE live in etcd itself, larger ones in S3 (default: 64KiB;"
              + " at most 1MiB).")
  Integer inlineLimit;

  @Option(
      names = "--gateway-lease",
      paramLabel = "DURATION",
      converter = Durations.Converter.class,
      description =
          "etcd: this gateway's etcd lease: how long a dead or cut-off gateway can hold up"
              + " deletes through the others, plus one --lease (default: 10s; at least twice"
              + " --lease).")
  Duration gatewayLease;

  @Option(
      names = "--blob-grace",
      paramLabel = "DURATION",
      converter = Durations.Converter.class,
      description =
          "etcd: S3 objects no value refers to any more are removed after this long (default:"
              + " 10m); a read of a deleted value may run this long.")
  Duration blobGrace;

  /** Whether any of these options was given. */
  boolean anyGiven() {
    return etcd != null
        || etcdPrefix != null
        || etcdCa != null
        || etcdCert != null
        || etcdKey != null
        || blobs != null
        || s3Endpoint != null
        || s3Region != null
        || inlineLimit != null
        || gatewayLease != null
        || blobGrace != null;
  }

  /** The cluster store's configuration; {@code usage} makes the error for a wrong option. */
  ClusterConfig config(Function<String, ParameterException> usage) {
    if (etcd == null) {
      throw usage.apply("--store etcd needs --etcd URL[,URL...]: the cluster's etcd endpoints");
    }
    if (blobs == null) {
      throw usage.apply(
          "--store etcd needs --blobs s3://BUCKET[/PREFIX]: where larger values are stored");
    }
    if ((etcdCert == null) != (etcdKey == null)) {
      throw usage.apply("--etcd-cert and --etcd-key go together");
    }
    try {
      ClusterConfig.Builder b = ClusterConfig.builder().etcd(etcd).blobs(blobs);
      if (etcdPrefix != null) {
        b.etcdPrefix(etcdPrefix);
      }
      if (etcdCa != null || etcdCert != null) {
        b.etcdTls(etcdCa, etcdCert, etcdKey);
      }
      if (s3Endpoint != null) {
        b.s3Endpoint(URI.create(s3Endpoint));
      }
      if (s3Region != null) {
        b.region(s3Region);
      }
      if (inlineLimit != null) {
        b.inlineThreshold(inlineLimit);
      }
      if (gatewayLease != null) {
        b.leaseTtl(gatewayLease);
      }
      if (blobGrace != null) {
        b.collectorGrace(blobGrace);
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw usage.apply(e.getMessage());
    }
  }
}
