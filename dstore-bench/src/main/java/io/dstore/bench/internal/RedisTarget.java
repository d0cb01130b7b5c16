package io.dstore.bench.internal;

import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.lettuce.core.support.caching.CacheAccessor;
import io.lettuce.core.support.caching.CacheFrontend;
import io.lettuce.core.support.caching.ClientSideCaching;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Redis as the harness runs it: a real {@code redis-server} child process on 127.0.0.1 (no
 * persistence), and Lettuce clients in this JVM, with or without server-assisted client-side
 * caching (RESP3 tracking). Thread-safe. {@link #close()} stops the server by its PID.
 */
final class RedisTarget implements AutoCloseable {
  /** What to tell the user when redis-server is missing. */
  static final String INSTALL_HINT =
      "redis-server is not on PATH; install it with `apt-get install redis-server`"
          + " (or scripts/install-redis.sh)";

  private static final RedisCodec<String, byte[]> CODEC =
      RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

  private final Process process;
  private final RedisClient client;
  private final int port;

  private RedisTarget(Process process, RedisClient client, int port) {
    this.process = process;
    this.client = client;
    this.port = port;
  }

  /** redis-server on PATH, if installed. */
  static Optional<Path> findServer() {
    return Procs.findOnPath("redis-server");
  }

  /** Starts {@code redis-server} on a free loopback port and waits until it answers PING. */
  static RedisTarget start(Path server, Duration timeout) throws IOException, InterruptedException {
    int port = Procs.freePort();
    Process process =
        new ProcessBuilder(
                server.toString(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    RedisClient client =
        RedisClient.create(
            RedisURI.builder()
                .withHost("127.0.0.1")
                .withPort(port)
                .withTimeout(Duration.ofSeconds(60))
                .build());
    client.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP3).build());
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (StatefulRedisConnection<String, byte[]> c = client.connect(CODEC)) {
        c.sync().ping();
        return new RedisTarget(process, client, port);
      } catch (RuntimeException e) {
        if (!process.isAlive() || System.nanoTime() - deadline > 0) {
          client.shutdown();
          Procs.stop(process, 2000);
          throw new BenchException(
              "redis-server did not answer on 127.0.0.1:"
                  + port
                  + " within "
                  + timeout.toSeconds()
                  + " s: "
                  + e.getMessage(),
              e);
        }
        Thread.sleep(20); // polling for the server to come up, with a deadline
      }
    }
  }

  /** A Lettuce client for the server on 127.0.0.1:{@code port}, speaking RESP3 (for tracking). */
  static RedisClient client(int port) {
    RedisClient client =
        RedisClient.create(
            RedisURI.builder()
                .withHost("127.0.0.1")
                .withPort(port)
                .withTimeout(Duration.ofSeconds(60))
                .build());
    client.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP3).build());
    return client;
  }

  long pid() {
    return process.pid();
  }

  /** The port the server listens on (127.0.0.1). */
  int port() {
    return port;
  }

  OptionalLong rssBytes() {
    return Procs.rssBytes(process.pid());
  }

  /** A plain connection: every get and put goes to the server. */
  RedisClientConn plain() {
    return new RedisClientConn(client.connect(CODEC));
  }

  /**
   * A plain connection for values of hundreds of MiB (the large scenario), on a Lettuce client of
   * its own that {@link RedisClientConn#close()} shuts down. Its buffers grow by doubling past 4
   * MiB ({@link DoublingAllocator}), and its commands time out after 5 minutes, not 1.
   */
  RedisClientConn plainForLargeValues() {
    DoublingAllocator allocator = new DoublingAllocator();
    ClientResources resources =
        ClientResources.builder()
            .nettyCustomizer(
                new NettyCustomizer() {
                  @Override
                  public void afterBootstrapInitialized(Bootstrap bootstrap) {
                    bootstrap.option(ChannelOption.ALLOCATOR, allocator);
                  }
                })
            .build();
    RedisClient large =
        RedisClient.create(
            resources,
            RedisURI.builder()
                .withHost("127.0.0.1")
                .withPort(port)
                .withTimeout(Duration.ofMinutes(5))
                .build());
    large.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP3).build());
    try {
      return new RedisClientConn(
          large.connect(CODEC),
          () -> {
            large.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, java.util.concurrent.TimeUnit.SECONDS);
          });
    } catch (RuntimeException e) {
      large.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      resources.shutdown(0, 2, java.util.concurrent.TimeUnit.SECONDS);
      throw e;
    }
  }

  /**
   * Netty's buffers, growing by doubling instead of Netty's 4 MiB steps once past 4 MiB. Lettuce
   * gathers a whole reply in one buffer: Netty's default growth re-allocates (and, with Netty 4.2
   * on Java 25, zeroes) the buffer every 4 MiB, which makes a 512 MiB GET quadratic (108 s here,
   * against 5 to 10 s with doubling). Unpooled; thread-safe, as Netty requires of an allocator.
   */
  static final class DoublingAllocator extends AbstractByteBufAllocator {
    private static final int STEP_THRESHOLD = 4 << 20;

    DoublingAllocator() {
      super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      return new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    @Override
    public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
      if (minNewCapacity <= STEP_THRESHOLD) {
        return super.calculateNewCapacity(minNewCapacity, maxCapacity);
      }
      if (minNewCapacity > maxCapacity) {
        throw new IllegalArgumentException(
            "minNewCapacity " + minNewCapacity + " exceeds maxCapacity " + maxCapacity);
      }
      long doubled = Long.highestOneBit(minNewCapacity - 1L) << 1;
      return (int) Math.min(doubled, maxCapacity);
    }
  }

  /**
   * A connection with Lettuce's client-side caching: reads go through a local map that the server
   * invalidates (CLIENT TRACKING on, RESP3 pushes). The map is a Caffeine cache bounded to {@code
   * maxEntries} entries.
   */
  RedisCachingClient caching(long maxEntries) {
    return caching(client, maxEntries);
  }

  /** As {@link #caching(long)}, on a connection of {@code client}. */
  static RedisCachingClient caching(RedisClient client, long maxEntries) {
    Map<String, byte[]> map =
        Caffeine.newBuilder().maximumSize(maxEntries).<String, byte[]>build().asMap();
    StatefulRedisConnection<String, byte[]> connection = client.connect(CODEC);
    CountingAccessor accessor = new CountingAccessor(map);
    CacheFrontend<String, byte[]> frontend =
        ClientSideCaching.enable(accessor, connection, TrackingArgs.Builder.enabled());
    return new RedisCachingClient(connection, frontend, accessor);
  }

  @Override
  public void close() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    Procs.stop(process, 5000);
  }

  /** Stops the server at once; for the shutdown hook. */
  void kill() {
    Procs.stop(process, 1000);
  }

  /** A plain Lettuce connection as a {@link KvClient}; Lettuce connections are thread-safe. */
  static final class RedisClientConn implements KvClient {
    private final StatefulRedisConnection<String, byte[]> connection;
    private final RedisCommands<String, byte[]> sync;
    private final Runnable afterClose;

    RedisClientConn(StatefulRedisConnection<String, byte[]> connection) {
      this(connection, () -> {});
    }

    /** A connection that runs {@code afterClose} once it is closed (to stop its own client). */
    RedisClientConn(StatefulRedisConnection<String, byte[]> connection, Runnable afterClose) {
      this.connection = connection;
      this.sync = connection.sync();
      this.afterClose = afterClose;
    }

    @Override
    public byte[] get(BenchKey key) {
      return sync.get(key.text());
    }

    @Override
    public void put(BenchKey key, byte[] value) {
      sync.set(key.text(), value);
    }

    @Override
    public void delete(BenchKey key) {
      sync.del(key.text());
    }

    /** Deletes many keys in one command (cleanup between cells). */
    void deleteAll(List<BenchKey> keys) {
      for (int i = 0; i < keys.size(); i += 1000) {
        List<BenchKey> slice = keys.subList(i, Math.min(keys.size(), i + 1000));
        sync.del(slice.stream().map(BenchKey::text).toArray(String[]::new));
      }
    }

    @Override
    public void close() {
      try {
        connection.close();
      } finally {
        afterClose.run();
      }
    }
  }

  /** A Lettuce client-side-caching frontend as a {@link KvClient}. */
  static final class RedisCachingClient implements KvClient {
    private final StatefulRedisConnection<String, byte[]> connection;
    private final CacheFrontend<String, byte[]> frontend;
    private final CountingAccessor accessor;

    RedisCachingClient(
        StatefulRedisConnection<String, byte[]> connection,
        CacheFrontend<String, byte[]> frontend,
        CountingAccessor accessor) {
      this.connection = connection;
      this.frontend = frontend;
      this.accessor = accessor;
    }

    @Override
    public byte[] get(BenchKey key) {
      return frontend.get(key.text());
    }

    @Override
    public void put(BenchKey key, byte[] value) {
      connection.sync().set(key.text(), value);
    }

    @Override
    public void delete(BenchKey key) {
      connection.sync().del(key.text());
    }

    @Override
    public boolean isCached(BenchKey key) {
      return accessor.map.containsKey(key.text());
    }

    @Override
    public CacheCounts cacheCounts() {
      return new CacheCounts(accessor.hits.sum(), accessor.misses.sum());
    }

    @Override
    public void close() {
      frontend.close(); // closes the connection too
    }
  }

  /** {@link CacheAccessor#forMap} plus hit and miss counters. */
  static final class CountingAccessor implements CacheAccessor<String, byte[]> {
    final Map<String, byte[]> map;
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();

    CountingAccessor(Map<String, byte[]> map) {
      this.map = map;
    }

    @Override
    public byte[] get(String key) {
      byte[] v = map.get(key);
      if (v != null) {
        hits.increment();
      } else {
        misses.increment();
      }
      return v;
    }

    @Override
    public void put(String key, byte[] value) {
      map.put(key, value);
    }

    @Override
    public void evict(String key) {
      map.remove(key);
    }
  }
}
