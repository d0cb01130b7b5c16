package io.dstore.server;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Everything a gateway needs to reach the cluster store: etcd (metadata, small values) and an
 * S3-compatible bucket (the bytes of larger values). Immutable; build it with {@link #builder()},
 * which checks every field and says which one is wrong.
 *
 * @param etcdEndpoints etcd client URLs, {@code http://} or {@code https://}, at least one
 * @param etcdCa CA certificate (PEM) to trust for etcd's TLS, if any
 * @param etcdCert client certificate (PEM) for etcd's mutual TLS, with {@code etcdKey}
 * @param etcdKey client private key (PKCS#8 PEM) for etcd's mutual TLS, with {@code etcdCert}
 * @param etcdPrefix where the cluster's keys live in etcd; ends with {@code /}
 * @param s3Endpoint S3 endpoint override (MinIO, s3proxy, ...); empty for AWS
 * @param bucket the bucket holding the values' bytes
 * @param s3Prefix prefix of every object name; empty or ending with {@code /}
 * @param region the S3 region
 * @param pathStyle path-style addressing ({@code endpoint/bucket/key}) instead of virtual hosts
 * @param inlineThreshold values of at most this many bytes live inline in etcd
 * @param partSize bytes per part of a multipart upload (S3 wants at least 5 MiB)
 * @param collectorGrace how long an unreferenced object is kept before the collector deletes it
 * @param collectorInterval how often the collector runs
 * @param leaseTtl TTL of a gateway's etcd lease
 * @param statsMaxAge how stale {@code valueBytes()} may be (it scans every key); zero: exact
 * @param etcdTimeout the longest one etcd call may take, retries of reads included
 */
public record ClusterConfig(
    List<URI> etcdEndpoints,
    Optional<Path> etcdCa,
    Optional<Path> etcdCert,
    Optional<Path> etcdKey,
    String etcdPrefix,
    Optional<URI> s3Endpoint,
    String bucket,
    String s3Prefix,
    String region,
    boolean pathStyle,
    int inlineThreshold,
    int partSize,
    Duration collectorGrace,
    Duration collectorInterval,
    Duration leaseTtl,
    Duration statsMaxAge,
    Duration etcdTimeout) {

  public static final int KIB = 1024;
  public static final int MIB = 1024 * KIB;

  /** S3's smallest part but the last. */
  public static final int MIN_PART_SIZE = 5 * MIB;

  /** The largest inline value: etcd's default request limit is 1.5 MiB. */
  public static final int MAX_INLINE_THRESHOLD = MIB;

  public ClusterConfig {
    etcdEndpoints = List.copyOf(etcdEndpoints);
    requireNonNull(etcdCa);
    requireNonNull(etcdCert);
    requireNonNull(etcdKey);
    requireNonNull(etcdPrefix);
    requireNonNull(s3Endpoint);
    requireNonNull(bucket);
    requireNonNull(s3Prefix);
    requireNonNull(region);
    requireNonNull(collectorGrace);
    requireNonNull(collectorInterval);
    requireNonNull(leaseTtl);
    requireNonNull(statsMaxAge);
    requireNonNull(etcdTimeout);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code s3://bucket/prefix/}, as given to {@link Builder#blobs(String)}. */
  public String blobsUrl() {
    return "s3://" + bucket + "/" + s3Prefix;
  }

  /** A bucket and an object-name prefix, as parsed from {@code s3://BUCKET[/PREFIX]}. */
  public record BlobLocation(String bucket, String prefix) {}

  /**
   * Parses {@code s3://BUCKET[/PREFIX]}. The prefix gets a trailing {@code /} if it lacks one;
   * {@code s3://b}, {@code s3://b/} have the empty prefix.
   *
   * @throws IllegalArgumentException naming what is wrong: not {@code s3://}, no bucket, a bucket
   *     name S3 would refuse, a query, a fragment, a user, a port, or {@code //} in the prefix
   */
  public static BlobLocation parseBlobs(String url) {
    requireNonNull(url, "url");
    String what = "bad --blobs URL '" + url + "': ";
    if (!url.startsWith("s3://")) {
      throw new IllegalArgumentException(what + "must start with s3:// (s3://BUCKET[/PREFIX])");
    }
    String rest = url.substring("s3://".length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String prefix = slash < 0 ? "" : rest.substring(slash + 1);
    if (bucket.isEmpty()) {
      throw new IllegalArgumentException(what + "no bucket name after s3://");
    }
    if (bucket.contains("@") || bucket.contains(":")) {
      throw new IllegalArgumentException(
          what + "a bucket name has no user or port; set the endpoint with --s3-endpoint");
    }
    if (bucket.length() < 3
        || bucket.length() > 63
        || !bucket.matches("[a-z0-9][a-z0-9.-]*[a-z0-9]")
        || bucket.contains("..")) {
      throw new IllegalArgumentException(
          what
              + "bucket '"
              + bucket
              + "' is not a valid S3 bucket name (3 to 63 characters: a-z, 0-9, '.', '-',"
              + " starting and ending with a letter or digit)");
    }
    if (prefix.contains("?") || prefix.contains("#")) {
      throw new IllegalArgumentException(what + "no query or fragment allowed");
    }
    if (prefix.startsWith("/") || prefix.contains("//")) {
      throw new IllegalArgumentException(what + "the prefix has an empty segment ('//')");
    }
    if (!prefix.isEmpty() && !prefix.endsWith("/")) {
      prefix = prefix + "/";
    }
    if (prefix.length() > 512) {
      throw new IllegalArgumentException(what + "prefix longer than 512 characters");
    }
    return new BlobLocation(bucket, prefix);
  }

  /**
   * Parses one etcd endpoint: {@code http://host:port} or {@code https://host:port}, nothing else.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static URI parseEndpoint(String endpoint) {
    requireNonNull(endpoint, "endpoint");
    String what = "bad etcd endpoint '" + endpoint + "': ";
    URI uri;
    try {
      uri = new URI(endpoint.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(what + e.getReason(), e);
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
      throw new IllegalArgumentException(what + "must be http://HOST:PORT or https://HOST:PORT");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException(what + "no host");
    }
    if (uri.getPort() <= 0 || uri.getPort() > 65_535) {
      throw new IllegalArgumentException(what + "no port (etcd's client port is usually 2379)");
    }
    if ((uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null
        || uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException(what + "no path, query, fragment or user allowed");
    }
    return URI.create(scheme + "://" + uri.getHost() + ":" + uri.getPort());
  }

  /** Parses a comma-separated list of etcd endpoints; see {@link #parseEndpoint}. */
  public static List<URI> parseEndpoints(String endpoints) {
    List<URI> uris = new ArrayList<>();
    for (String s : endpoints.split(",", -1)) {
      if (s.isBlank()) {
        throw new IllegalArgumentException(
            "bad etcd endpoints '" + endpoints + "': an empty entry between commas");
      }
      uris.add(parseEndpoint(s));
    }
    return uris;
  }

  /** Whether etcd is reached over TLS. */
  public boolean etcdTls() {
    return etcdEndpoints.get(0).getScheme().equals("https");
  }

  /** Builds a {@link ClusterConfig}; every setter checks its argument. Not thread-safe. */
  public static final class Builder {
    private final List<URI> etcdEndpoints = new ArrayList<>();
    private Optional<Path> etcdCa = Optional.empty();
    private Optional<Path> etcdCert = Optional.empty();
    private Optional<Path> etcdKey = Optional.empty();
    private String etcdPrefix = "/dstore/";
    private Optional<URI> s3Endpoint = Optional.empty();
    private @Nullable String bucket;
    private String s3Prefix = "";
    private @Nullable String region;
    private @Nullable Boolean pathStyle;
    private int inlineThreshold = 64 * KIB;
    private int partSize = 8 * MIB;
    private Duration collectorGrace = Duration.ofMinutes(10);
    private Duration collectorInterval = Duration.ofMinutes(1);
    private Duration leaseTtl = Duration.ofSeconds(10);
    private Duration statsMaxAge = Duration.ofSeconds(10);
    private Duration etcdTimeout = Duration.ofSeconds(20);

    private Builder() {}

    /** Comma-separated {@code http(s)://host:port} URLs; see {@link #parseEndpoint}. */
    public Builder etcd(String endpoints) {
      etcdEndpoints.clear();
      etcdEndpoints.addAll(parseEndpoints(endpoints));
      return this;
    }

    public Builder etcd(List<URI> endpoints) {
      etcdEndpoints.clear();
      for (URI uri : endpoints) {
        etcdEndpoints.add(parseEndpoint(uri.toString()));
      }
      return this;
    }

    public Builder etcdTls(@Nullable Path ca, @Nullable Path cert, @Nullable Path key) {
      this.etcdCa = Optional.ofNullable(ca);
      this.etcdCert = Optional.ofNullable(cert);
      this.etcdKey = Optional.ofNullable(key);
      return this;
    }

    public Builder etcdPrefix(String prefix) {
      if (prefix.isEmpty() || !prefix.endsWith("/")) {
        throw new IllegalArgumentException("the etcd prefix must end with '/': " + prefix);
      }
      this.etcdPrefix = prefix;
      return this;
    }

    /** {@code s3://BUCKET[/PREFIX]}; see {@link #parseBlobs}. */
    public Builder blobs(String url) {
      BlobLocation location = parseBlobs(url);
      this.bucket = location.bucket();
      this.s3Prefix = location.prefix();
      return this;
    }

    /** An S3-compatible endpoint ({@code http(s)://host[:port]}) instead of AWS. */
    public Builder s3Endpoint(URI endpoint) {
      if (endpoint != null) {
        String scheme = endpoint.getScheme();
        if (scheme == null
            || !(scheme.equals("http") || scheme.equals("https"))
            || endpoint.getHost() == null) {
          throw new IllegalArgumentException(
              "bad S3 endpoint '" + endpoint + "': must be http(s)://HOST[:PORT]");
        }
      }
      this.s3Endpoint = Optional.ofNullable(endpoint);
      return this;
    }

    public Builder region(String region) {
      if (region != null && region.isBlank()) {
        throw new IllegalArgumentException("the S3 region is blank");
      }
      this.region = region;
      return this;
    }

    public Builder pathStyle(boolean pathStyle) {
      this.pathStyle = pathStyle;
      return this;
    }

    public Builder inlineThreshold(int bytes) {
      if (bytes < 0 || bytes > MAX_INLINE_THRESHOLD) {
        throw new IllegalArgumentException(
            "inline threshold must be 0 to " + MAX_INLINE_THRESHOLD + " bytes, got " + bytes);
      }
      this.inlineThreshold = bytes;
      return this;
    }

    public Builder partSize(int bytes) {
      if (bytes < MIN_PART_SIZE || bytes > 512 * MIB) {
        throw new IllegalArgumentException(
            "part size must be 5 MiB (S3's minimum) to 512 MiB, got " + bytes);
      }
      this.partSize = bytes;
      return this;
    }

    public Builder collectorGrace(Duration grace) {
      if (grace.isNegative()) {
        throw new IllegalArgumentException("collector grace is negative: " + grace);
      }
      this.collectorGrace = grace;
      return this;
    }

    public Builder collectorInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("collector interval must be positive: " + interval);
      }
      this.collectorInterval = interval;
      return this;
    }

    public Builder leaseTtl(Duration ttl) {
      if (ttl.compareTo(Duration.ofSeconds(2)) < 0) {
        throw new IllegalArgumentException("gateway lease TTL must be at least 2 s: " + ttl);
      }
      this.leaseTtl = ttl;
      return this;
    }

    public Builder statsMaxAge(Duration age) {
      if (age.isNegative()) {
        throw new IllegalArgumentException("stats max age is negative: " + age);
      }
      this.statsMaxAge = age;
      return this;
    }

    /** The longest one etcd call may take, retries of reads included (default 20 s). */
    public Builder etcdTimeout(Duration timeout) {
      if (timeout.compareTo(Duration.ofMillis(100)) < 0) {
        throw new IllegalArgumentException("etcd timeout must be at least 100 ms: " + timeout);
      }
      this.etcdTimeout = timeout;
      return this;
    }

    /**
     * @throws IllegalArgumentException if etcd endpoints or the bucket are missing, endpoints mix
     *     http and https, a TLS file is missing or unreadable, or a client cert comes without key
     */
    public ClusterConfig build() {
      if (etcdEndpoints.isEmpty()) {
        throw new IllegalArgumentException("no etcd endpoints (--etcd http://HOST:2379,...)");
      }
      long https = etcdEndpoints.stream().filter(u -> u.getScheme().equals("https")).count();
      if (https != 0 && https != etcdEndpoints.size()) {
        throw new IllegalArgumentException(
            "etcd endpoints mix http and https: " + etcdEndpoints + "; use one scheme");
      }
      if (bucket == null) {
        throw new IllegalArgumentException("no bucket (--blobs s3://BUCKET[/PREFIX])");
      }
      if (etcdCert.isPresent() != etcdKey.isPresent()) {
        throw new IllegalArgumentException(
            "an etcd client certificate needs its key and the other way round");
      }
      if (https == 0 && (etcdCa.isPresent() || etcdCert.isPresent())) {
        throw new IllegalArgumentException(
            "etcd TLS files given but the endpoints are http://; use https://");
      }
      for (Optional<Path> file : List.of(etcdCa, etcdCert, etcdKey)) {
        if (file.isPresent() && !Files.isReadable(file.get())) {
          throw new IllegalArgumentException("cannot read etcd TLS file " + file.get());
        }
      }
      String r = region != null ? region : defaultRegion();
      boolean ps = pathStyle != null ? pathStyle : s3Endpoint.isPresent();
      return new ClusterConfig(
          etcdEndpoints,
          etcdCa,
          etcdCert,
          etcdKey,
          etcdPrefix,
          s3Endpoint,
          bucket,
          s3Prefix,
          r,
          ps,
          inlineThreshold,
          partSize,
          collectorGrace,
          collectorInterval,
          leaseTtl,
          statsMaxAge,
          etcdTimeout);
    }

    private static String defaultRegion() {
      try {
        return software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain.builder()
            .build()
            .getRegion()
            .id();
      } catch (RuntimeException e) { // no region anywhere in the chain
        return "us-east-1";
      }
    }
  }
}
