package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.dstore.server.ClusterConfig;
import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The cluster backend: metadata and small values in etcd, the bytes of larger values in S3. Any
 * number of gateways share one cluster store; each opens its own {@code ClusterStore} on it.
 *
 * <p><b>Design.</b> A key's value is the etcd key {@code k/<key>} holding a {@link Meta}; its
 * {@code create_revision} is the generation, so generations come from etcd's revision and strictly
 * increase across all keys and gateways. An upload holds its bytes in memory up to the inline
 * threshold; past it, it first puts its intent {@code u/<upload id>} under the gateway's lease, and
 * only then streams the bytes to the S3 object {@code <s3 prefix>v/<upload id>} (parts of {@code
 * partSize}). The commit is one etcd txn: if {@code k/<key>} does not exist (and, for an S3 value,
 * the intent still does) it puts the meta and deletes the intent; otherwise it reads the key's
 * current value for {@link KeyExistsException}. So a value is visible whole or not at all, exactly
 * one of concurrent commits of a key wins, and a commit can reference an object only while its
 * intent exists: the invariant {@link BlobCollector} relies on. Deleting a key removes {@code
 * k/<key>} and nothing else; objects are reclaimed only by the collector, after its grace, which is
 * why a {@link Reader} opened before a delete keeps reading (for at most the grace: a read taking
 * longer than the collector's grace may fail with an {@link IOException} saying so).
 *
 * <p>Thread-safe. Failures of etcd or S3 are {@link IOException}s naming which and where; the store
 * stays usable after them. A commit whose txn failed in transit (the outcome unknown) throws an
 * IOException and may nevertheless have committed; its request id ({@link #createdBy}) lets a retry
 * find out.
 */
public final class ClusterStore implements Storage {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterStore.class);
  private static final java.util.HexFormat HEX = java.util.HexFormat.of();

  private final ClusterConfig config;
  private final EtcdLayout layout;
  private final LongSupplier gatewayLease;
  private final ClusterStats stats;
  private final EtcdCalls etcd;
  private final Blobs blobs;
  private final AutoCloseable owned;
  private final Object statsLock = new Object();
  private volatile boolean closed;

  private long cachedValueBytes;
  private long cachedAt;
  private boolean cached;

  /**
   * A store over clients the gateway owns (closing the store closes neither).
   *
   * @param gatewayLeaseId the gateway's etcd lease, under which upload intents are put
   */
  public ClusterStore(
      Client etcd, S3Client s3, ClusterConfig cfg, EtcdLayout layout, LongSupplier gatewayLeaseId) {
    this(etcd, s3, cfg, layout, gatewayLeaseId, new ClusterStats(), null);
  }

  /** As above, timing its calls into {@code stats} (the gateway's, published on /metrics). */
  public ClusterStore(
      Client etcd,
      S3Client s3,
      ClusterConfig cfg,
      EtcdLayout layout,
      LongSupplier gatewayLeaseId,
      ClusterStats stats) {
    this(etcd, s3, cfg, layout, gatewayLeaseId, stats, null);
  }

  private ClusterStore(
      Client etcd,
      S3Client s3,
      ClusterConfig cfg,
      EtcdLayout layout,
      LongSupplier gatewayLeaseId,
      ClusterStats stats,
      AutoCloseable owned) {
    this.config = cfg;
    this.layout = layout;
    this.gatewayLease = gatewayLeaseId;
    this.stats = stats;
    this.etcd =
        new EtcdCalls(
            etcd.getKVClient(), cfg.etcdEndpoints(), cfg.etcdTimeout(), stats, () -> closed);
    this.blobs = new Blobs(s3, cfg, stats);
    this.owned = owned;
    this.records = new RecordLease(etcd.getLeaseClient());
  }

  /** The lease put records live under (5 to 10 minutes). */
  private final RecordLease records;

  /**
   * A put's record {@code r/<request id>}: written in the same transaction as the value it created
   * ({@code CREATED}: size and SHA-256; its create_revision is the value's generation), or by a
   * retry that found the key taken ({@code REFUSED}). Either way a later attempt of the same put
   * fails its commit, whose condition is that no record exists: a put counts at most once.
   */
  private static final byte CREATED = 1;

  private static final byte REFUSED = 2;

  private static byte[] createdRecord(long size, String sha256) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(2 + 8 + 32);
    b.put((byte) 'P').put(CREATED).putLong(size).put(HEX.parseHex(sha256));
    return b.array();
  }

  /** The value a put's record says it created, or empty for a refused put (or no put record). */
  private static Optional<StoredInfo> createdBy(KeyValue record) {
    byte[] v = record.getValue().getBytes();
    if (v.length != 2 + 8 + 32 || v[0] != 'P' || v[1] != CREATED) {
      return Optional.empty();
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(v, 2, 40);
    long size = b.getLong();
    byte[] sha = new byte[32];
    b.get(sha);
    return Optional.of(new StoredInfo(size, record.getCreateRevision(), HEX.formatHex(sha)));
  }

  @Override
  public Optional<StoredInfo> settleRefused(byte[] key, byte[] requestId) throws IOException {
    checkOpen();
    ByteSequence r = layout.request(requestId);
    long lease = records.current();
    TxnResponse t =
        etcd.call(
            "settle",
            () ->
                etcd.kv()
                    .txn()
                    .If(new Cmp(r, Cmp.Op.EQUAL, CmpTarget.version(0)))
                    .Then(
                        Op.put(
                            r,
                            ByteSequence.from(new byte[] {'P', REFUSED}),
                            lease == 0
                                ? PutOption.DEFAULT
                                : PutOption.builder().withLeaseId(lease).build()))
                    .Else(Op.get(r, GetOption.DEFAULT))
                    .commit());
    if (t.isSucceeded() || t.getGetResponses().get(0).getKvs().isEmpty()) {
      return Optional.empty();
    }
    return createdBy(t.getGetResponses().get(0).getKvs().get(0));
  }

  /**
   * A store with clients and an etcd lease of its own (kept alive until it is closed, then revoked,
   * so its uploads' intents vanish as a killed gateway's would); for tests and tools.
   */
  public static ClusterStore openStandalone(ClusterConfig cfg) throws IOException {
    return openStandalone(cfg, DefaultCredentialsProvider.builder().build());
  }

  /** As {@link #openStandalone(ClusterConfig)}, with S3 credentials from {@code credentials}. */
  public static ClusterStore openStandalone(ClusterConfig cfg, AwsCredentialsProvider credentials)
      throws IOException {
    ClusterClients clients = ClusterClients.open(cfg, credentials);
    try {
      long lease =
          clients
              .etcd()
              .getLeaseClient()
              .grant(cfg.leaseTtl().toSeconds())
              .get(EtcdCalls.DEADLINE.toSeconds(), TimeUnit.SECONDS)
              .getID();
      CloseableClient keepAlive =
          clients
              .etcd()
              .getLeaseClient()
              .keepAlive(
                  lease,
                  new StreamObserver<LeaseKeepAliveResponse>() {
                    @Override
                    public void onNext(LeaseKeepAliveResponse value) {}

                    @Override
                    public void onError(Throwable t) {
                      LOG.debug("lease keep-alive: {}", t.toString());
                    }

                    @Override
                    public void onCompleted() {}
                  });
      AutoCloseable owned =
          () -> {
            try {
              keepAlive.close();
              clients.etcd().getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
              LOG.debug("could not revoke lease {}: {}", lease, e.toString());
            } finally {
              clients.close();
            }
          };
      return new ClusterStore(
          clients.etcd(),
          clients.s3(),
          cfg,
          new EtcdLayout(cfg.etcdPrefix()),
          () -> lease,
          clients.stats(),
          owned);
    } catch (Exception e) {
      clients.close();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("etcd (" + cfg.etcdEndpoints() + ") could not grant a lease: " + e, e);
    }
  }

  public ClusterStats stats() {
    return stats;
  }

  ClusterConfig config() {
    return config;
  }

  Blobs blobs() {
    return blobs;
  }

  EtcdCalls etcdCalls() {
    return etcd;
  }

  EtcdLayout layout() {
    return layout;
  }

  private void checkOpen() throws IOException {
    if (closed) {
      throw etcd.closedException();
    }
  }

  private static String hexKey(ByteSequence key) {
    return key.toString(UTF_8);
  }

  private Optional<KeyValue> getMeta(byte[] key, String operation) throws IOException {
    ByteSequence k = layout.meta(key);
    GetResponse r = etcd.read(operation, () -> etcd.kv().get(k));
    return r.getKvs().isEmpty() ? Optional.empty() : Optional.of(r.getKvs().get(0));
  }

  private static Meta metaOf(KeyValue kv) throws IOException {
    return Meta.decode(hexKey(kv.getKey()), kv.getValue().getBytes());
  }

  private static StoredInfo infoOf(KeyValue kv) throws IOException {
    return metaOf(kv).info(kv.getCreateRevision());
  }

  /** A linearizable read of {@code k/<key>}. */
  @Override
  public Optional<StoredInfo> stat(byte[] key) throws IOException {
    Optional<KeyValue> kv = getMeta(key, "get");
    return kv.isEmpty() ? Optional.empty() : Optional.of(infoOf(kv.get()));
  }

  @Override
  public Upload create(byte[] key, long declaredSize) throws IOException {
    return create(key, declaredSize, new byte[0]);
  }

  @Override
  public Upload create(byte[] key, long declaredSize, byte[] requestId) throws IOException {
    checkOpen();
    return new ClusterUpload(key.clone(), declaredSize, requestId.clone());
  }

  @Override
  public Optional<byte[]> createdBy(byte[] key, long generation) throws IOException {
    Optional<KeyValue> kv = getMeta(key, "get");
    if (kv.isEmpty() || kv.get().getCreateRevision() != generation) {
      return Optional.empty();
    }
    byte[] id = metaOf(kv.get()).requestId();
    return id.length == 0 ? Optional.empty() : Optional.of(id.clone());
  }

  @Override
  public Optional<Reader> open(byte[] key) throws IOException {
    Optional<KeyValue> kv = getMeta(key, "get");
    if (kv.isEmpty()) {
      return Optional.empty();
    }
    Meta meta = metaOf(kv.get());
    return Optional.of(new ClusterReader(meta, meta.info(kv.get().getCreateRevision())));
  }

  /**
   * Removes {@code k/<key>} (one etcd request, returning what it held). The S3 object of the value,
   * if any, stays until the collector reclaims it.
   */
  @Override
  public Optional<StoredInfo> delete(byte[] key) throws IOException {
    ByteSequence k = layout.meta(key);
    List<KeyValue> prev =
        etcd.call(
                "delete",
                () -> etcd.kv().delete(k, DeleteOption.builder().withPrevKV(true).build()))
            .getPrevKvs();
    return prev.isEmpty() ? Optional.empty() : Optional.of(infoOf(prev.get(0)));
  }

  /** Keys in the whole cluster: one counting range read in etcd (exact). */
  @Override
  public long keyCount() {
    try {
      ByteSequence prefix = layout.metaPrefix();
      return etcd.read(
              "count",
              () ->
                  etcd.kv()
                      .get(
                          prefix,
                          GetOption.builder()
                              .withRange(EtcdCalls.prefixEnd(prefix))
                              .withCountOnly(true)
                              .build()))
          .getCount();
    } catch (IOException e) {
      LOG.warn("could not count keys: {}", e.getMessage());
      return -1;
    }
  }

  /**
   * Bytes of values in the whole cluster. It takes a scan of every {@code k/} key, so the answer is
   * cached for {@link ClusterConfig#statsMaxAge()} (10 s by default: a metrics scrape costs at most
   * one scan per 10 s); with a max age of zero it is exact at every call. -1 if etcd failed.
   */
  @Override
  public long valueBytes() {
    synchronized (statsLock) {
      long now = System.nanoTime();
      if (cached && now - cachedAt < config.statsMaxAge().toNanos()) {
        return cachedValueBytes;
      }
      try {
        long[] sum = {0};
        etcd.scan(layout.metaPrefix(), 0, false, kv -> sum[0] += metaOf(kv).size());
        cachedValueBytes = sum[0];
        cachedAt = now;
        cached = true;
        return sum[0];
      } catch (IOException e) {
        LOG.warn("could not sum value sizes: {}", e.getMessage());
        return cached ? cachedValueBytes : -1;
      }
    }
  }

  @Override
  public String describe() {
    return "etcd:"
        + String.join(",", config.etcdEndpoints().stream().map(Object::toString).toList())
        + " + "
        + config.blobsUrl();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (owned != null) {
      try {
        owned.close();
      } catch (Exception e) {
        LOG.warn("closing the cluster store's clients: {}", e.toString());
      }
    }
  }

  private static String checkDigest(String sha256) {
    if (sha256.length() != 64) {
      throw new IllegalArgumentException("sha256 must be 64 hex digits, got " + sha256.length());
    }
    for (int i = 0; i < 64; i++) {
      if (Character.digit(sha256.charAt(i), 16) < 0) {
        throw new IllegalArgumentException("sha256 is not hex: " + sha256);
      }
    }
    return sha256.toLowerCase(Locale.ROOT);
  }

  /**
   * One upload; see the class design note. Not thread-safe (one writer), except that {@link #abort}
   * may race with the store's close.
   */
  private final class ClusterUpload implements Upload {
    private final byte[] key;
    private final long declaredSize;
    private final byte[] requestId;
    private byte[] small = new byte[0];
    private int smallLength;
    private String uploadId;
    private Blobs.Writer writer;
    private long written;
    private boolean ended;

    ClusterUpload(byte[] key, long declaredSize, byte[] requestId) {
      this.key = key;
      this.declaredSize = declaredSize;
      this.requestId = requestId;
    }

    private void checkWritable() throws IOException {
      if (ended) {
        throw new IllegalStateException("upload already ended");
      }
      checkOpen();
    }

    @Override
    public void write(ByteBuffer bytes) throws IOException {
      checkWritable();
      try {
        if (writer == null && (long) smallLength + bytes.remaining() <= config.inlineThreshold()) {
          int n = bytes.remaining();
          if (smallLength + n > small.length) {
            int grow =
                Math.max(smallLength + n, Math.min(config.inlineThreshold(), small.length * 2));
            small = Arrays.copyOf(small, grow);
          }
          bytes.get(small, smallLength, n);
          smallLength += n;
          written += n;
          return;
        }
        if (writer == null) {
          startS3();
        }
        int n = bytes.remaining();
        writer.write(bytes);
        written += n;
      } catch (IOException | RuntimeException e) {
        abort();
        if (closed) {
          throw etcd.closedException();
        }
        throw e;
      }
    }

    /** Registers the intent, then (and only then) may bytes go to S3. */
    private void startS3() throws IOException {
      long lease = gatewayLease.getAsLong();
      if (lease == 0) {
        // an intent without a lease would outlive a crash of this gateway, and keep its bytes
        throw new IOException("no etcd lease for this gateway yet: cannot upload to S3");
      }
      String id = Blobs.newUploadId();
      String name = blobs.objectName(id);
      ByteSequence intent = layout.upload(id);
      uploadId = id; // set first: if the put's answer is lost, abort() still deletes the intent
      etcd.call(
          "put-intent",
          () ->
              etcd.kv()
                  .put(
                      intent,
                      ByteSequence.from(name, UTF_8),
                      PutOption.builder().withLeaseId(lease).build()));
      writer = blobs.writer(name, declaredSize);
      writer.write(small, 0, smallLength);
      small = null;
    }

    @Override
    public long written() {
      return written;
    }

    @Override
    public StoredInfo commit(String sha256) throws KeyExistsException, IOException {
      return commitAs(key, sha256);
    }

    @Override
    public StoredInfo commitAs(byte[] finalKey, String sha256)
        throws KeyExistsException, IOException {
      String digest = checkDigest(sha256);
      if (ended) {
        throw new IllegalStateException("upload already ended");
      }
      if (closed) {
        abort();
        throw etcd.closedException();
      }
      ByteSequence k = layout.meta(finalKey);
      Meta meta;
      if (writer == null) {
        meta = Meta.inline(Arrays.copyOf(small, smallLength), digest, requestId);
      } else {
        try {
          writer.finish();
        } catch (IOException | RuntimeException e) {
          abort();
          if (closed) {
            throw etcd.closedException();
          }
          throw e;
        }
        meta = Meta.s3(written, digest, requestId, writer.name());
      }
      ended = true;
      small = null;
      ByteSequence value = ByteSequence.from(meta.encode());
      ByteSequence intent = writer == null ? null : layout.upload(uploadId);
      ByteSequence record = requestId.length == 0 ? null : layout.request(requestId);
      List<Cmp> conditions = new java.util.ArrayList<>();
      List<Op> writes = new java.util.ArrayList<>();
      conditions.add(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0)));
      writes.add(Op.put(k, value, PutOption.DEFAULT));
      if (intent != null) {
        conditions.add(new Cmp(intent, Cmp.Op.GREATER, CmpTarget.version(0)));
        writes.add(Op.delete(intent, DeleteOption.DEFAULT));
      }
      List<Op> reads = new java.util.ArrayList<>();
      reads.add(Op.get(k, GetOption.DEFAULT));
      if (record != null) {
        long lease = records.current();
        conditions.add(new Cmp(record, Cmp.Op.EQUAL, CmpTarget.version(0)));
        writes.add(
            Op.put(
                record,
                ByteSequence.from(createdRecord(meta.size(), digest)),
                lease == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(lease).build()));
        reads.add(Op.get(record, GetOption.DEFAULT));
      }
      TxnResponse r;
      try {
        r =
            etcd.call(
                "commit",
                () ->
                    etcd.kv()
                        .txn()
                        .If(conditions.toArray(Cmp[]::new))
                        .Then(writes.toArray(Op[]::new))
                        .Else(reads.toArray(Op[]::new))
                        .commit());
      } catch (IOException e) {
        // The outcome is unknown: the object may now be referenced, so it stays (the collector
        // decides). Dropping the intent is always safe: a commit still in flight then fails.
        dropIntent();
        throw e;
      }
      if (r.isSucceeded()) {
        return meta.info(r.getHeader().getRevision());
      }
      List<KeyValue> existing =
          r.getGetResponses().isEmpty() ? List.of() : r.getGetResponses().get(0).getKvs();
      List<KeyValue> recorded =
          r.getGetResponses().size() < 2 ? List.of() : r.getGetResponses().get(1).getKvs();
      if (writer != null) {
        // Definitely not committed: the object is referenced by nothing and never will be.
        blobs.deleteQuietly(writer.name());
        dropIntent();
      }
      if (!recorded.isEmpty()) {
        Optional<StoredInfo> earlier = createdBy(recorded.get(0));
        if (earlier.isPresent()) {
          return earlier.get(); // another attempt of this very put committed: answer as it did
        }
        throw new IOException(
            "this put was answered already (a retry of it found the key taken); nothing stored");
      }
      if (!existing.isEmpty()) {
        throw new KeyExistsException(infoOf(existing.get(0)));
      }
      if (closed) { // a standalone store revokes its lease when closed: that is why
        throw etcd.closedException();
      }
      throw new IOException(
          "upload expired: its intent "
              + layout.upload(uploadId).toString(UTF_8)
              + " is gone (the gateway's etcd lease ran out or was revoked), so its bytes may"
              + " already be condemned; nothing was stored");
    }

    private void dropIntent() {
      if (uploadId == null || closed) {
        return;
      }
      ByteSequence intent = layout.upload(uploadId);
      try {
        etcd.call("delete-intent", () -> etcd.kv().delete(intent));
      } catch (IOException e) {
        LOG.debug("could not drop intent {} (its lease will): {}", uploadId, e.getMessage());
      }
    }

    @Override
    public void abort() {
      if (ended) {
        return;
      }
      ended = true;
      small = null;
      if (writer != null) {
        writer.abort();
      }
      dropIntent(); // also when the intent's put failed in transit
    }
  }

  /** A value as opened: its meta never changes, so deletes do not disturb it. Thread-safe. */
  private final class ClusterReader implements Reader {
    private final Meta meta;
    private final StoredInfo info;
    private volatile boolean readerClosed;

    ClusterReader(Meta meta, StoredInfo info) {
      this.meta = meta;
      this.info = info;
    }

    @Override
    public StoredInfo info() {
      return info;
    }

    @Override
    public int read(long position, ByteBuffer dst) throws IOException {
      if (position < 0) {
        throw new IllegalArgumentException("negative position: " + position);
      }
      if (readerClosed) {
        throw new IOException("reader closed");
      }
      checkOpen();
      if (position >= info.size() || !dst.hasRemaining()) {
        return 0;
      }
      if (meta.isInline()) {
        int n = (int) Math.min(dst.remaining(), info.size() - position);
        dst.put(meta.inline(), (int) position, n);
        return n;
      }
      try {
        return blobs.read(meta.object(), info.size(), position, dst);
      } catch (IOException | RuntimeException e) {
        if (closed || readerClosed) {
          throw new IOException("cluster store closed", e);
        }
        if (e instanceof RuntimeException re) {
          throw re;
        }
        if (e.getCause() instanceof software.amazon.awssdk.services.s3.model.NoSuchKeyException) {
          throw new IOException(
              "the bytes of this value (generation "
                  + info.generation()
                  + ") are gone from S3: it was deleted and the read outlasted the collector's"
                  + " grace ("
                  + config.collectorGrace()
                  + ")",
              e);
        }
        throw e;
      }
    }

    @Override
    public void close() {
      readerClosed = true;
    }
  }

  /** For logs and tests: the hex of a request id. */
  static String hex(byte[] bytes) {
    return HEX.formatHex(bytes);
  }

  /** For tests: every object name referenced by a {@code k/} meta now. */
  List<String> referencedObjects() throws IOException {
    List<String> names = new ArrayList<>();
    etcd.scan(
        layout.metaPrefix(),
        0,
        false,
        kv -> {
          Meta m = metaOf(kv);
          if (!m.isInline()) {
            names.add(m.object());
          }
        });
    return names;
  }
}
