package io.dstore.bench.jmh;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A get that must go to Global: a Local with a zero-byte cache reading preloaded values from a
 * Global on 127.0.0.1 (same JVM, real socket), so the figure is the client and server cost of one
 * round trip over loopback. {@link #thinRemoteGet} is the same read from a thin client, the bar a
 * subscribed Local's miss is held to.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RemoteGetBenchmark {
  static final int KEYS = 1024;

  @Param({"100", "65536"})
  public int valueSize;

  private GlobalServer server;
  private Dstore local;
  private Dstore thin;
  private byte[][] keys;

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
    local =
        Dstore.connect(
            server.address(),
            DstoreOptions.builder().cacheSizeBytes(0).name("jmh-remote-get").build());
    thin =
        Dstore.connect(
            server.address(),
            DstoreOptions.builder().coherentCache(false).name("jmh-remote-get-thin").build());
    Jmh.awaitLease(local);
    thin.awaitReady(Duration.ofSeconds(30));
    keys = new byte[KEYS][];
    byte[] value = new byte[valueSize];
    new SplittableRandom(2).nextBytes(value);
    for (int i = 0; i < KEYS; i++) {
      keys[i] = ("jmh-remote-" + valueSize + "-" + i).getBytes(StandardCharsets.UTF_8);
      local.put(keys[i], value);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    local.close();
    thin.close();
    server.close();
  }

  @Benchmark
  public byte[] dstoreRemoteGet(Cursor c) {
    int i = c.next;
    c.next = (i + 1) & (KEYS - 1);
    return local.get(keys[i]);
  }

  /**
   * The same get from a thin client (no cache, no subscription): what a subscribed Local's miss is
   * measured against (it should cost no more).
   */
  @Benchmark
  public byte[] thinRemoteGet(Cursor c) {
    int i = c.next;
    c.next = (i + 1) & (KEYS - 1);
    return thin.get(keys[i]);
  }
}
