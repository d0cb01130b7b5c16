package io.dstore.server.internal.cluster;

import io.dstore.server.ClusterConfig;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpConfigurationOption;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.utils.AttributeMap;

/**
 * The etcd and S3 clients of one gateway, built from a {@link ClusterConfig}, and the {@link
 * ClusterStats} their calls are timed into. Closing closes both clients. Thread-safe (both clients
 * are).
 *
 * <p>etcd: every endpoint, TLS when the endpoints are {@code https://} (the CA, and the client
 * certificate and key for mutual TLS, when configured), HTTP/2 keep-alive every 10 s (a dead member
 * is noticed within 15 s), a 5 s connect timeout. S3: credentials from the SDK's default chain
 * (environment, system properties, profile, container or instance role), the endpoint override and
 * path style, the region; the Apache 5 HTTP client with a 5 s connect and 60 s read timeout.
 */
public final class ClusterClients implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterClients.class);

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private final ClusterConfig config;
  private final Client etcd;
  private final S3Client s3;
  private final ClusterStats stats = new ClusterStats();

  private ClusterClients(ClusterConfig config, Client etcd, S3Client s3) {
    this.config = config;
    this.etcd = etcd;
    this.s3 = s3;
  }

  /**
   * Builds both clients. Connects lazily: an unreachable etcd or S3 shows at the first call.
   *
   * @throws IOException if a TLS file cannot be loaded
   */
  public static ClusterClients open(ClusterConfig config) throws IOException {
    return open(config, DefaultCredentialsProvider.builder().build());
  }

  /** As {@link #open(ClusterConfig)}, with S3 credentials from {@code credentials}. */
  public static ClusterClients open(ClusterConfig config, AwsCredentialsProvider credentials)
      throws IOException {
    Client etcd = etcdClient(config);
    try {
      return new ClusterClients(config, etcd, s3Client(config, credentials));
    } catch (RuntimeException e) {
      etcd.close();
      throw e;
    }
  }

  static Client etcdClient(ClusterConfig config) throws IOException {
    ClientBuilder builder =
        Client.builder()
            .endpoints(config.etcdEndpoints().toArray(URI[]::new))
            .connectTimeout(CONNECT_TIMEOUT)
            .keepaliveTime(Duration.ofSeconds(10))
            .keepaliveTimeout(Duration.ofSeconds(5))
            .keepaliveWithoutCalls(true)
            .retryMaxDuration(Duration.ofSeconds(15));
    if (config.etcdTls()) {
      try {
        builder.sslContext(
            ssl -> {
              config.etcdCa().ifPresent(ca -> ssl.trustManager(ca.toFile()));
              if (config.etcdCert().isPresent() && config.etcdKey().isPresent()) {
                ssl.keyManager(config.etcdCert().get().toFile(), config.etcdKey().get().toFile());
              }
            });
      } catch (SSLException | IllegalArgumentException e) {
        throw new IOException("cannot load etcd TLS files: " + e.getMessage(), e);
      }
    }
    return builder.build();
  }

  static S3Client s3Client(ClusterConfig config, AwsCredentialsProvider credentials) {
    S3ClientBuilder builder =
        S3Client.builder()
            .credentialsProvider(credentials)
            .region(Region.of(config.region()))
            .forcePathStyle(config.pathStyle())
            // S3-compatible stores differ in the checksums they understand; SHA-256 is ours.
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .overrideConfiguration(
                o ->
                    o.apiCallAttemptTimeout(Duration.ofMinutes(2))
                        .apiCallTimeout(Duration.ofMinutes(5)));
    config.s3Endpoint().ifPresent(builder::endpointOverride);
    SdkHttpClient.Builder<?> http = apache5();
    if (http != null) {
      AttributeMap ours =
          AttributeMap.builder()
              .put(SdkHttpConfigurationOption.CONNECTION_TIMEOUT, CONNECT_TIMEOUT)
              .put(SdkHttpConfigurationOption.READ_TIMEOUT, Duration.ofSeconds(60))
              .put(SdkHttpConfigurationOption.MAX_CONNECTIONS, 64)
              .build();
      builder.httpClientBuilder(defaults -> http.buildWithDefaults(ours.merge(defaults)));
    }
    return builder.build();
  }

  /**
   * The Apache 5 client's builder, found by name: dstore-server has it at runtime only (through the
   * SDK), so it is not compiled against. Null if absent; the SDK then picks its default client.
   */
  private static SdkHttpClient.Builder<?> apache5() {
    try {
      Object builder =
          Class.forName("software.amazon.awssdk.http.apache5.Apache5HttpClient")
              .getMethod("builder")
              .invoke(null);
      return (SdkHttpClient.Builder<?>) builder;
    } catch (ReflectiveOperationException | ClassCastException e) {
      LOG.debug("no Apache 5 HTTP client for S3; the SDK picks its default", e);
      return null;
    }
  }

  public ClusterConfig config() {
    return config;
  }

  public Client etcd() {
    return etcd;
  }

  public S3Client s3() {
    return s3;
  }

  public ClusterStats stats() {
    return stats;
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
