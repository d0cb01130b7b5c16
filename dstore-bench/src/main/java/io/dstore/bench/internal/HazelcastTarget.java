package io.dstore.bench.internal;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.client.map.impl.nearcache.NearCachedClientMapProxy;
import com.hazelcast.config.Config;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.config.NearCacheConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.nearcache.NearCacheStats;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Hazelcast as the harness runs it: one member embedded in this JVM, on 127.0.0.1 only (multicast
 * and auto-detection off, TCP-IP join with itself, phone-home off, a cluster name of its own so it
 * never meets another cluster on the machine), and clients in this JVM that talk to it over
 * loopback, with or without a near cache. Near caches use Hazelcast's defaults (BINARY format,
 * invalidate-on-change) apart from their size bound; the member batches invalidations (its default)
 * unless started with {@link #start(boolean) start(false)}. Thread-safe.
 */
final class HazelcastTarget implements AutoCloseable {
  private final HazelcastInstance member;
  private final String clusterName;
  private final int port;
  private final List<HazelcastClientHandle> clients = new CopyOnWriteArrayList<>();

  private HazelcastTarget(HazelcastInstance member, String clusterName, int port) {
    this.member = member;
    this.clusterName = clusterName;
    this.port = port;
  }

  /** A member with Hazelcast's default batched near-cache invalidation. */
  static HazelcastTarget start() throws IOException {
    return start(true);
  }

  /**
   * A member that batches near-cache invalidations ({@code true}: Hazelcast's default, sent when
   * 100 are queued or every 10 s) or sends each one as it happens ({@code false}: {@code
   * hazelcast.map.invalidation.batch.enabled=false}, its fastest setting for an isolated write).
   */
  static HazelcastTarget start(boolean batchInvalidation) throws IOException {
    System.setProperty("hazelcast.phone.home.enabled", "false");
    int port = Procs.freePort();
    String clusterName = "dstore-bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "none");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.local.localAddress", "127.0.0.1");
    config.setProperty(
        "hazelcast.map.invalidation.batch.enabled", Boolean.toString(batchInvalidation));
    config.getJetConfig().setEnabled(false);
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(port).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + port);
    try {
      return new HazelcastTarget(Hazelcast.newHazelcastInstance(config), clusterName, port);
    } catch (RuntimeException e) {
      throw new BenchException("the embedded Hazelcast member did not start: " + e.getMessage(), e);
    }
  }

  /** The member itself (writes through it send no client near-cache invalidations of their own). */
  <V> IMap<String, V> memberMap(String name) {
    return member.getMap(name);
  }

  /** A client without a near cache. */
  HazelcastClientHandle plainClient() {
    return track(
        new HazelcastClientHandle(
            HazelcastClient.newHazelcastClient(clientConfig(clusterName, port, List.of()))));
  }

  /**
   * A client whose maps named {@code mapPattern} (a Hazelcast name pattern, {@code *} wildcards)
   * have a near cache bounded to {@code maxEntries} entries.
   */
  HazelcastClientHandle nearCachedClient(String mapPattern, int maxEntries) {
    return track(nearCachedClient(clusterName, port, mapPattern, maxEntries));
  }

  /**
   * "clusterName@port": what another JVM needs to connect a client (see {@link
   * #nearCachedClient(String, int, String, int)}).
   */
  String endpoint() {
    return clusterName + "@" + port;
  }

  /** A near-cached client of the member at {@code endpoint}, from another JVM. Untracked. */
  static HazelcastClientHandle nearCachedClient(
      String endpoint, String mapPattern, int maxEntries) {
    int at = endpoint.lastIndexOf('@');
    return nearCachedClient(
        endpoint.substring(0, at),
        Integer.parseInt(endpoint.substring(at + 1)),
        mapPattern,
        maxEntries);
  }

  private static HazelcastClientHandle nearCachedClient(
      String clusterName, int port, String mapPattern, int maxEntries) {
    NearCacheConfig near = new NearCacheConfig(mapPattern).setInvalidateOnChange(true);
    near.getEvictionConfig()
        .setEvictionPolicy(EvictionPolicy.LRU)
        .setMaxSizePolicy(MaxSizePolicy.ENTRY_COUNT)
        .setSize(maxEntries);
    return new HazelcastClientHandle(
        HazelcastClient.newHazelcastClient(clientConfig(clusterName, port, List.of(near))));
  }

  private HazelcastClientHandle track(HazelcastClientHandle handle) {
    clients.add(handle);
    return handle;
  }

  private static ClientConfig clientConfig(
      String clusterName, int port, List<NearCacheConfig> nearCaches) {
    ClientConfig c = new ClientConfig();
    c.setClusterName(clusterName);
    c.setProperty("hazelcast.logging.type", "none");
    c.setProperty("hazelcast.phone.home.enabled", "false");
    c.getNetworkConfig().addAddress("127.0.0.1:" + port);
    nearCaches.forEach(c::addNearCacheConfig);
    return c;
  }

  @Override
  public void close() {
    clients.forEach(HazelcastClientHandle::close);
    clients.clear();
    member.shutdown();
  }

  /** One Hazelcast client instance; maps are taken from it by name. */
  static final class HazelcastClientHandle implements AutoCloseable {
    private final HazelcastInstance client;

    HazelcastClientHandle(HazelcastInstance client) {
      this.client = client;
    }

    HazelcastMapClient map(String name) {
      return new HazelcastMapClient(client.getMap(name));
    }

    /** Idempotent. */
    @Override
    public void close() {
      client.shutdown();
    }
  }

  /** A Hazelcast {@link IMap} (near-cached or not) as a {@link KvClient}. */
  static final class HazelcastMapClient implements KvClient {
    private final IMap<String, byte[]> map;

    HazelcastMapClient(IMap<String, byte[]> map) {
      this.map = map;
    }

    IMap<String, byte[]> map() {
      return map;
    }

    @Override
    public byte[] get(BenchKey key) {
      return map.get(key.text());
    }

    @Override
    public byte[] readCopy(BenchKey key) {
      return get(key); // a near cache in BINARY format deserializes a fresh array on every get
    }

    @Override
    public void put(BenchKey key, byte[] value) {
      map.set(key.text(), value);
    }

    @Override
    public void delete(BenchKey key) {
      map.delete(key.text());
    }

    /**
     * Looks into the near cache itself (an internal Hazelcast API, the only way to tell whether one
     * key is cached without a remote call).
     */
    @Override
    public boolean isCached(BenchKey key) {
      if (map instanceof NearCachedClientMapProxy<?, ?> proxy) {
        return proxy.getNearCache().get(key.text()) != null;
      }
      return false;
    }

    @Override
    public CacheCounts cacheCounts() {
      if (!(map instanceof NearCachedClientMapProxy<?, ?>)) {
        return null;
      }
      NearCacheStats s = map.getLocalMapStats().getNearCacheStats();
      return new CacheCounts(s.getHits(), s.getMisses());
    }

    @Override
    public void close() {
      // the map belongs to its client; nothing to release
    }
  }
}
