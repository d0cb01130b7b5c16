package io.dstore.bench.jmh;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A Local cache hit ({@code Dstore.get} of a cached 100-byte value, Local and Global in this JVM,
 * connected over loopback; a hit does not touch the connection) against raw Caffeine {@code
 * getIfPresent} of the same data, the ceiling. 1,024 keys, read round-robin from a per-thread
 * cursor. {@code getBuffer}, {@code isCached} and {@code System.nanoTime()} break the cost of a hit
 * down.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LocalHitBenchmark {
  static final int KEYS = 1024;

  private GlobalServer server;
  private Dstore local;
  private Cache<String, byte[]> caffeine;
  private Cache<BytesKey, byte[]> byteKeyed;
  private byte[][] keys;
  private String[] textKeys;

  /** Each thread's position in the key array. */
  @State(Scope.Thread)
  public static class Cursor {
    int next = new SplittableRandom().nextInt(KEYS);
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException, InterruptedException {
    server =
        GlobalServer.builder()
            .listen("127.0.0.1", 0)
            .storage(Storage.memory())
            .startupGrace(Duration.ZERO)
            .build()
            .start();
    local = Dstore.connect(server.address(), DstoreOptions.defaults());
    caffeine =
        Caffeine.newBuilder()
            .maximumWeight(DstoreOptions.DEFAULT_CACHE_SIZE)
            .weigher((String k, byte[] v) -> v.length + k.length() + 96)
            .build();
    byteKeyed =
        Caffeine.newBuilder()
            .maximumWeight(DstoreOptions.DEFAULT_CACHE_SIZE)
            .weigher((BytesKey k, byte[] v) -> v.length + k.bytes.length + 96)
            .build();
    Jmh.awaitLease(local);
    keys = new byte[KEYS][];
    textKeys = new String[KEYS];
    byte[] value = new byte[100];
    new SplittableRandom(1).nextBytes(value);
    for (int i = 0; i < KEYS; i++) {
      textKeys[i] = "jmh-hit-" + i;
      keys[i] = textKeys[i].getBytes(StandardCharsets.UTF_8);
      local.put(keys[i], value);
      caffeine.put(textKeys[i], value);
      byteKeyed.put(new BytesKey(keys[i]), value);
    }
    Jmh.awaitCached(local, keys);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    local.close();
    server.close();
  }

  @Benchmark
  public byte[] dstoreLocalGet(Cursor c) {
    int i = c.next;
    c.next = (i + 1) & (KEYS - 1);
    return local.get(keys[i]);
  }

  /** {@code getBuffer}: the same hit without copying the value (a read-only view instead). */
  @Benchmark
  public ByteBuffer dstoreLocalGetBuffer(Cursor c) {
    int i = c.next;
    c.next = (i + 1) & (KEYS - 1);
    return local.getBuffer(keys[i]);
  }

  /** {@code isCached}: key copy, lease check and cache lookup only; what a hit costs at least. */
  @Benchmark
  public boolean dstoreIsCached(Cursor c) {
    int i = c.next;
    c.next = (i + 1) & (KEYS - 1);
    return local.isCached(keys[i]);
  }

  /** The monotonic clock a lease check reads on every hit. */
  @Benchmark
  public long nanoTime() {
    return System.nanoTime();
  }

  @Benchmark
  public byte[] caffeineGetIfPresent(Cursor c) {
    int i = c.next;
    c.next = (i + 1) & (KEYS - 1);
    return caffeine.getIfPresent(textKeys[i]);
  }

  /** Caffeine's hit plus a copy of the value: what {@link #dstoreLocalGet} compares with. */
  @Benchmark
  public byte[] caffeineGetIfPresentCopy(Cursor c) {
    int i = c.next;
    c.next = (i + 1) & (KEYS - 1);
    byte[] v = caffeine.getIfPresent(textKeys[i]);
    return v == null ? null : v.clone();
  }

  /**
   * Caffeine's hit on a key given as bytes, as dstore's API takes it: the key is wrapped and hashed
   * on every read (a String key caches its hash). What a hit costs before the lease check.
   */
  @Benchmark
  public byte[] caffeineGetIfPresentByteKey(Cursor c) {
    int i = c.next;
    c.next = (i + 1) & (KEYS - 1);
    return byteKeyed.getIfPresent(new BytesKey(keys[i]));
  }

  /** A byte-array key with an equality of content, hashed when made. */
  private static final class BytesKey {
    private final byte[] bytes;
    private final int hash;

    BytesKey(byte[] bytes) {
      this.bytes = bytes;
      this.hash = Arrays.hashCode(bytes);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof BytesKey k && hash == k.hash && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
