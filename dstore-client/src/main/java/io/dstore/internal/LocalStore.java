package io.dstore.internal;

import com.google.protobuf.ByteString;
import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.Entry;
import io.dstore.LocalStats;
import io.dstore.ValueInfo;
import io.dstore.proto.DeleteResponse;
import io.dstore.proto.GetResponse;
import io.dstore.proto.PutResponse;
import io.dstore.wire.ByteRange;
import io.dstore.wire.ContentKey;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.Sha256;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * The Local: {@link Dstore} over a {@link ValueCache}, a {@link Subscription} that keeps the cache
 * coherent, and {@link GlobalCalls} for everything the cache cannot answer.
 *
 * <p>A read is a hit only while the {@link Lease} is valid; otherwise it goes to Global. A fetched
 * value is cached only if the subscription was attached when the fetch began and no invalidation of
 * its stripe arrived meanwhile (see {@link ValueCache}). With {@code coherentCache(false)} the
 * Local neither caches nor subscribes: every call goes to its target (a thin client).
 *
 * <p><b>Gateways.</b> The target may list several gateways of one cluster store ({@link Gateways});
 * calls ({@link GlobalCalls}) and the subscription share the one in use and fail over together. A
 * call about to go to a gateway known to be another store revokes the lease and refuses fills in
 * flight, as a Resync does, until the subscription has revalidated the cache there.
 *
 * <p><b>Time.</b> The lease, and the renewal bookkeeping timed by it, read one monotonic clock:
 * {@link DstoreOptions#nanoClock()}. Waits (call deadlines, reconnection backoff, {@link
 * #awaitReady}) are waits on the real clock. The wall clock is read only to measure the
 * invalidation lag shown in {@link #stats()}, against Global's wall-clock time of the delete.
 */
public final class LocalStore implements Dstore {
  private static final HexFormat HEX = HexFormat.of();

  private final Gateways gateways;
  private final DstoreOptions options;
  private final GlobalCalls calls;
  private final ValueCache cache;
  private final Lease lease;
  private final Subscription subscription; // null for a thin client
  private final ScheduledExecutorService scheduler;
  private final ExecutorService async;
  private final Readiness readiness = new Readiness();
  private volatile boolean closed;

  private LocalStore(Gateways gateways, DstoreOptions options) {
    this.gateways = gateways;
    this.options = options;
    String target = gateways.all().get(0).target() + (gateways.several() ? ",..." : "");
    this.calls = new GlobalCalls(gateways, options.requestTimeout(), options.chunkSize());
    boolean coherent = options.coherentCache();
    this.cache =
        new ValueCache(coherent ? options.cacheSizeBytes() : 0, options.maxCachedValueBytes());
    this.lease = new Lease(options.nanoClock(), readiness::signal);
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "dstore-local-" + target);
              t.setDaemon(true);
              return t;
            });
    this.async = Executors.newVirtualThreadPerTaskExecutor();
    this.subscription =
        coherent
            ? new Subscription(
                calls,
                cache,
                lease,
                scheduler,
                async,
                () -> gateways.current().channel().resetConnectBackoff(),
                options.name(),
                options.reconnectInitialBackoff(),
                options.reconnectMaxBackoff(),
                Clock.systemUTC())
            : null;
    Runnable subscriptionNow = subscription != null ? subscription::connectNow : () -> {};
    for (Gateway g : gateways.all()) {
      g.reconnectBeforeCalls(new Reconnect(g.channel(), subscriptionNow));
    }
    // A call about to go to another store: as after a Resync, no hit and no fill is trusted until
    // the subscription has revalidated the cache there.
    calls.onForeignStore(
        () -> {
          lease.revoke();
          cache.refuseFillsInFlight();
        });
    calls.onUnverifiedStore(cache::refuseFillsInFlight);
  }

  /**
   * See {@link Dstore#connect(String, DstoreOptions)}.
   *
   * @throws DstoreException INVALID_ARGUMENT for a malformed target or options that cannot be used;
   *     nothing else
   */
  public static Dstore connect(String target, DstoreOptions options) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(options, "options");
    List<String> targets = Gateways.parse(target);
    List<Gateway> list = new ArrayList<>(targets.size());
    try {
      for (String t : targets) {
        list.add(new Gateway(t, Channels.open(t, options), true, list.size()));
      }
    } catch (DstoreException e) {
      list.forEach(g -> g.channel().shutdownNow());
      throw e;
    }
    return new LocalStore(new Gateways(list), options).start();
  }

  /**
   * A Local over a channel the caller made (in-process transport in this package's tests). The
   * caller keeps ownership of the channel. Its clock is the options' {@link
   * DstoreOptions#nanoClock()}, as for {@link #connect}.
   */
  static LocalStore create(String target, ManagedChannel channel, DstoreOptions options) {
    return create(List.of(target), List.of(channel), options);
  }

  /** As {@link #create(String, ManagedChannel, DstoreOptions)}, with several gateways, in order. */
  static LocalStore create(
      List<String> targets, List<ManagedChannel> channels, DstoreOptions options) {
    List<Gateway> list = new ArrayList<>(targets.size());
    for (int i = 0; i < targets.size(); i++) {
      list.add(new Gateway(targets.get(i), channels.get(i), false, i));
    }
    return new LocalStore(new Gateways(list), options).start();
  }

  private LocalStore start() {
    if (subscription != null) {
      subscription.start();
    }
    return this;
  }

  // ---- writes -------------------------------------------------------------

  @Override
  public long put(byte[] key, byte[] value) {
    Objects.requireNonNull(value, "value");
    return putBytes(Key.copyOf(key), value.clone());
  }

  @Override
  public long put(byte[] key, ByteBuffer value) {
    byte[] bytes = new byte[value.remaining()];
    value.get(bytes);
    return putBytes(Key.copyOf(key), bytes);
  }

  private long putBytes(Key k, byte[] value) {
    checkOpen();
    if (serving() && cache.peek(k) != null) {
      throw new DstoreException(ErrorCode.ALREADY_EXISTS, "key already exists (cached here)");
    }
    if (value.length > options.chunkSize()) {
      return putStreamed(k, Upload.of(value), value.length).getGeneration();
    }
    long version = cache.version(k);
    boolean attached = attached();
    PutResponse response;
    try {
      response = calls.put(k, value, Sha256.of(value));
    } catch (DstoreException e) {
      if (e.code() == ErrorCode.ALREADY_EXISTS) {
        cacheExisting(k);
        throw new DstoreException(
            ErrorCode.ALREADY_EXISTS, "key already exists in Global (now cached here)", e);
      }
      throw e;
    }
    ValueInfo info = GlobalCalls.toInfo(response.getInfo());
    if (attached) {
      cache.insertIfUnchanged(k, version, new CachedValue(value, info));
    }
    return info.generation();
  }

  @Override
  public long put(byte[] key, InputStream value, long size) {
    Objects.requireNonNull(value, "value");
    checkSize(size);
    Key k = Key.copyOf(key);
    checkOpen();
    if (serving() && cache.peek(k) != null) {
      throw new DstoreException(ErrorCode.ALREADY_EXISTS, "key already exists (cached here)");
    }
    return putStreamed(k, Upload.of(value), size).getGeneration();
  }

  @Override
  public long put(byte[] key, java.nio.file.Path file) {
    Objects.requireNonNull(file, "file");
    Key k = Key.copyOf(key);
    long size;
    try {
      size = java.nio.file.Files.size(file);
    } catch (IOException e) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "cannot read " + file + ": " + e.getMessage(), e);
    }
    checkOpen();
    if (serving() && cache.peek(k) != null) {
      throw new DstoreException(ErrorCode.ALREADY_EXISTS, "key already exists (cached here)");
    }
    return putStreamed(k, Upload.of(file), size).getGeneration();
  }

  private io.dstore.proto.ValueInfo putStreamed(Key k, Upload value, long size) {
    try {
      return calls.putStream(k, value, size).getInfo();
    } catch (DstoreException e) {
      if (e.code() == ErrorCode.ALREADY_EXISTS) {
        cacheExisting(k);
      }
      throw e;
    }
  }

  @Override
  public String putContent(byte[] value) {
    Objects.requireNonNull(value, "value");
    byte[] copy = value.clone();
    String key = ContentKey.of(Sha256.of(copy));
    Key k = Key.copyOf(key.getBytes(StandardCharsets.US_ASCII));
    checkOpen();
    if (serving() && cache.peek(k) != null) {
      return key; // already stored, and this Local can vouch for it
    }
    putBytes(k, copy);
    return key;
  }

  @Override
  public String putContent(InputStream value, long size) {
    Objects.requireNonNull(value, "value");
    checkSize(size);
    checkOpen();
    PutResponse response = calls.putStream(null, Upload.of(value), size);
    return response.getKey().toString(StandardCharsets.US_ASCII);
  }

  /** After ALREADY_EXISTS: bring the existing value into the cache, if it is small enough. */
  private void cacheExisting(Key k) {
    if (!attached()) {
      return;
    }
    try {
      fetch(k);
    } catch (DstoreException e) {
      // Deleted meanwhile, or Global went away: nothing to cache; the put's answer stands.
    }
  }

  // ---- reads --------------------------------------------------------------

  @Override
  public byte[] get(byte[] key) {
    Read r = read(key);
    return r.owned ? r.value.bytes : r.value.bytes.clone();
  }

  @Override
  public ByteBuffer getBuffer(byte[] key) {
    return read(key).value.view();
  }

  @Override
  public Entry getEntry(byte[] key) {
    Read r = read(key);
    return new Entry(r.value.bytes, r.value.info, r.fromCache);
  }

  /**
   * A value read, whether a Local daemon served it from its cache, and whether its bytes are this
   * read's alone (fetched, neither cached nor shared: the caller may have them without a copy).
   */
  private record Read(CachedValue value, boolean fromCache, boolean owned) {}

  /** A hit looks the caller's key up in place; only a miss copies it. */
  private Read read(byte[] key) {
    checkOpen();
    CachedValue hit = hit(Key.view(key));
    if (hit != null) {
      return new Read(hit, true, false);
    }
    Key k = Key.copyOf(key);
    cache.countMiss();
    if (subscription == null) {
      // A thin client: the answer says whether a Local daemon served it from its cache.
      Fetched f = fetchUncached(k);
      return new Read(f.value, f.fromCache, true);
    }
    return fetch(k);
  }

  /** The cached value if it may be served now (counted as a hit), else null. */
  private CachedValue hit(Key k) {
    if (!serving()) {
      return null;
    }
    CachedValue v = cache.peek(k);
    if (v != null) {
      cache.countHit();
    }
    return v;
  }

  /**
   * Fetches the whole value from Global, sharing one fetch among concurrent misses where that is
   * safe. A shared fetch may have been sent before this read began. Its value is still a correct
   * answer if Global did not flag it as being deleted and this Local holds a lease: a delete that
   * began after Global read the value cannot complete before this Local has applied its
   * invalidation, which also detaches the shared fetch. So only a reader that holds the lease may
   * join, and only a cacheable value is shared: a value read while its delete was under way may be
   * deleted by the time a later reader joins (the invalidation arrived before the fetch began, so
   * it detached nothing). "Not found" is never shared either: a put sends no invalidation, so
   * absence seen before this read began may already be over. A joiner left without a value asks
   * Global itself.
   */
  private Read fetch(Key k) {
    if (serving()) {
      SharedFetch shared = cache.inflight(k);
      // tryJoin() before waiting: a leader that claimed the bytes first keeps them (see
      // SharedFetch).
      if (shared != null && shared.tryJoin()) {
        try {
          CachedValue v = join(shared);
          if (v != null) {
            return new Read(v, false, false);
          }
        } catch (DstoreException e) {
          if (e.code() != ErrorCode.NOT_FOUND) {
            throw e;
          }
        }
      }
    }
    SharedFetch mine = new SharedFetch();
    boolean leading = cache.lead(k, mine);
    try {
      long version = cache.version(k);
      boolean attached = attached();
      Fetched f = fetchUncached(k);
      boolean cached = attached && f.cacheable && cache.insertIfUnchanged(k, version, f.value);
      mine.complete(f.cacheable ? f.value : null); // null: joiners must ask for themselves
      // Not cached and nobody joined: the bytes are this caller's alone, no copy needed.
      return new Read(f.value, false, !cached && mine.claim());
    } catch (RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      if (leading) {
        cache.finishFetch(k, mine);
      }
    }
  }

  /**
   * A value fetched from Global, whether it may be cached (not while being deleted), and whether a
   * Local daemon answered from its cache.
   */
  private record Fetched(CachedValue value, boolean cacheable, boolean fromCache) {}

  private Fetched fetchUncached(Key k) {
    GetResponse response = calls.get(k, ByteRange.WHOLE);
    ValueInfo info = GlobalCalls.toInfo(response.getInfo());
    boolean cacheable = !response.getDeleting();
    boolean fromCache = response.getFromCache();
    byte[] bytes;
    if (response.getStreamed()) {
      if (info.size() > Integer.MAX_VALUE - 8) {
        throw new DstoreException(
            ErrorCode.TOO_LARGE,
            "value is "
                + info.size()
                + " bytes, too large for one array: read it with get(key, OutputStream)");
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream((int) info.size());
      GlobalCalls.Download download = calls.getStream(k, ByteRange.WHOLE, GlobalCalls.to(out));
      info = download.info();
      cacheable = download.cacheable();
      fromCache = download.fromCache();
      bytes = out.toByteArray();
    } else {
      // Hashed in place (no copy), compared as bytes; copied out once, when found intact.
      ByteString value = response.getValue();
      MessageDigest digest = Sha256.newDigest();
      Sha256.update(digest, value);
      byte[] actual = digest.digest();
      if (!MessageDigest.isEqual(actual, response.getInfo().getSha256().toByteArray())) {
        throw new DstoreException(
            ErrorCode.INTEGRITY,
            "fetched bytes hash to " + HEX.formatHex(actual) + ", Global says " + info.sha256());
      }
      bytes = value.toByteArray();
    }
    return new Fetched(new CachedValue(bytes, info), cacheable, fromCache);
  }

  @Override
  public byte[] get(byte[] key, long offset, int length) {
    Key k = Key.copyOf(key);
    ByteRange range = ByteRange.of(offset, length);
    checkOpen();
    CachedValue hit = hit(k);
    if (hit != null) {
      range.within(hit.info.size());
      return java.util.Arrays.copyOfRange(hit.bytes, (int) offset, (int) offset + length);
    }
    cache.countMiss();
    GetResponse response = calls.get(k, range);
    if (!response.getStreamed()) {
      return response.getValue().toByteArray();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(length);
    calls.getStream(k, range, GlobalCalls.to(out));
    return out.toByteArray();
  }

  @Override
  public ValueInfo get(byte[] key, OutputStream out) {
    return get(key, 0, -1, out);
  }

  @Override
  public ValueInfo get(byte[] key, long offset, long length, OutputStream out) {
    Objects.requireNonNull(out, "out");
    Key k = Key.copyOf(key);
    if (length < -1) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "length must be >= 0, or -1 for the rest; got " + length);
    }
    ByteRange range = length == -1 ? ByteRange.from(offset) : ByteRange.of(offset, length);
    checkOpen();
    boolean whole = range.isWhole();
    CachedValue hit = hit(k);
    try {
      if (hit != null) {
        ByteRange.Span span = range.within(hit.info.size());
        out.write(hit.bytes, (int) span.offset(), (int) span.length());
        return hit.info;
      }
    } catch (IOException e) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "cannot write the value out: " + e.getMessage(), e);
    }
    cache.countMiss();
    if (!whole || !cache.admits(1)) {
      return calls.getStream(k, range, GlobalCalls.to(out)).info();
    }
    // Whole value: keep a copy for the cache only while it stays small enough to be admitted.
    long version = cache.version(k);
    boolean attached = attached();
    TeeSink sink = new TeeSink(out);
    GlobalCalls.Download download = calls.getStream(k, ByteRange.WHOLE, sink);
    byte[] copy = sink.copy();
    if (attached && download.cacheable() && copy != null) {
      cache.insertIfUnchanged(k, version, new CachedValue(copy, download.info()));
    }
    return download.info();
  }

  /** Writes through to {@code out}, keeping a copy while the value may still be cached. */
  private final class TeeSink implements GlobalCalls.ChunkSink {
    private final OutputStream out;
    private ByteArrayOutputStream copy;

    TeeSink(OutputStream out) {
      this.out = out;
    }

    @Override
    public void begin(ValueInfo info) {
      if (cache.admits(info.size())) {
        copy = new ByteArrayOutputStream((int) info.size());
      }
    }

    @Override
    public void write(com.google.protobuf.ByteString data) throws IOException {
      data.writeTo(out);
      if (copy != null) {
        data.writeTo(copy);
      }
    }

    byte[] copy() {
      return copy == null ? null : copy.toByteArray();
    }
  }

  @Override
  public ValueInfo stat(byte[] key) {
    Key k = Key.copyOf(key);
    checkOpen();
    if (serving()) {
      CachedValue v = cache.peek(k);
      if (v != null) {
        return v.info;
      }
    }
    return calls.stat(k);
  }

  @Override
  public long delete(byte[] key) {
    Key k = Key.copyOf(key);
    checkOpen();
    DeleteResponse response = calls.delete(k);
    cache.invalidate(k, response.getGeneration());
    return response.getGeneration();
  }

  @Override
  public boolean isCached(byte[] key) {
    return serving() && cache.peek(Key.view(key)) != null;
  }

  // ---- async --------------------------------------------------------------

  @Override
  public CompletableFuture<Long> putAsync(byte[] key, byte[] value) {
    byte[] k = key.clone();
    byte[] v = value.clone();
    return supply(() -> put(k, v));
  }

  @Override
  public CompletableFuture<byte[]> getAsync(byte[] key) {
    Key k = Key.copyOf(key);
    CachedValue hit = closed ? null : hit(k);
    if (hit != null) {
      return CompletableFuture.completedFuture(hit.bytes.clone());
    }
    return supply(() -> get(k.toByteString().toByteArray()));
  }

  @Override
  public CompletableFuture<ValueInfo> statAsync(byte[] key) {
    byte[] k = key.clone();
    return supply(() -> stat(k));
  }

  @Override
  public CompletableFuture<Long> deleteAsync(byte[] key) {
    byte[] k = key.clone();
    return supply(() -> delete(k));
  }

  private <T> CompletableFuture<T> supply(Supplier<T> body) {
    if (closed) {
      return CompletableFuture.failedFuture(
          new DstoreException(ErrorCode.UNAVAILABLE, "this Local is closed"));
    }
    return CompletableFuture.supplyAsync(body, async);
  }

  // ---- state --------------------------------------------------------------

  @Override
  public void awaitReady(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "timeout must not be negative, got " + timeout);
    }
    long nanos;
    try {
      nanos = timeout.toNanos();
    } catch (ArithmeticException e) {
      nanos = Long.MAX_VALUE; // centuries: as good as forever
    }
    boolean ready;
    try {
      ready = readiness.await(() -> closed || ready(), nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DstoreException(
          ErrorCode.UNAVAILABLE,
          "interrupted while waiting for this Local to be ready (" + waitingFor() + ")",
          e);
    }
    checkOpen();
    if (!ready) {
      throw new DstoreException(
          ErrorCode.UNAVAILABLE,
          "this Local is not ready after " + timeout.toMillis() + " ms: " + waitingFor());
    }
  }

  /**
   * Whether the Local can serve: subscribed, in sync and leased; for a thin client, connected.
   * Called by {@link Readiness} waiters: whatever makes it true signals {@link #readiness}.
   */
  private boolean ready() {
    if (subscription == null) {
      ManagedChannel channel = gateways.current().channel();
      ConnectivityState state = channel.getState(true); // true: connect if idle
      if (state == ConnectivityState.READY) {
        return true;
      }
      channel.notifyWhenStateChanged(state, readiness::signal);
      return false;
    }
    return subscription.connected() && lease.valid();
  }

  /** What {@link #ready()} still lacks, for the message of a wait that timed out. */
  private String waitingFor() {
    String target = gateways.describe();
    if (subscription == null) {
      return "still waiting for a connection to " + target;
    }
    if (!subscription.joined()) {
      return "still waiting to join Global at " + target;
    }
    if (!subscription.connected()) {
      return "joined Global at " + target + ", still waiting for its subscription to be in sync";
    }
    return "subscribed to Global at " + target + ", still waiting for a lease";
  }

  @Override
  public LocalStats stats() {
    LatencyHistogram lag = subscription != null ? subscription.lag() : new LatencyHistogram();
    return new StatsSnapshot(
        cache.hits(),
        cache.misses(),
        cache.evictions(),
        cache.entries(),
        cache.bytes(),
        cache.capacityBytes(),
        subscription != null && subscription.connected(),
        lease.valid(),
        lease.remainingMillis(),
        subscription != null ? subscription.appliedSeq() : 0,
        subscription != null ? subscription.invalidationsApplied() : 0,
        subscription != null ? subscription.gaps() : 0,
        subscription != null ? subscription.replays() : 0,
        subscription != null ? subscription.revalidations() : 0,
        subscription != null ? subscription.reconnects() : 0,
        lag.percentile(0.50),
        lag.percentile(0.99),
        lag.max());
  }

  /** The gateway this Local talks to now (one of those given to connect). */
  @Override
  public String target() {
    return gateways.describe();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (subscription != null) {
      subscription.close();
    }
    lease.revoke();
    calls.close();
    scheduler.shutdownNow();
    async.shutdown();
    gateways.close();
  }

  private boolean serving() {
    return subscription != null && lease.valid();
  }

  private boolean attached() {
    return subscription != null && subscription.attached();
  }

  private void checkOpen() {
    if (closed) {
      throw new DstoreException(ErrorCode.UNAVAILABLE, "this Local is closed");
    }
  }

  private static void checkSize(long size) {
    if (size < -1) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "size must be >= 0, or -1 when unknown; got " + size);
    }
  }

  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof DstoreException d) {
        throw d;
      }
      throw new DstoreException(ErrorCode.INTERNAL, "fetch failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DstoreException(ErrorCode.UNAVAILABLE, "interrupted while waiting for a fetch", e);
    } catch (CompletionException e) {
      throw new DstoreException(ErrorCode.INTERNAL, "fetch failed: " + e.getCause(), e);
    }
  }
}
