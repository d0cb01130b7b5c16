package io.dstore.bench.internal;

import java.util.Locale;

/** The named workloads of the harness, in the order a full run executes them. */
public enum Scenario {
  LOCAL_HIT("local-hit", "reads of keys already cached locally"),
  REMOTE_GET("remote-get", "reads that miss every local cache and go to the server"),
  PUT("put", "writes of new keys to the server"),
  INVALIDATE("invalidate", "delete, then invalidation lag until N caching clients drop the key"),
  LARGE(
      "large",
      "put and get of one large value: dstore 1 GiB, Redis and Hazelcast 512 MiB (32 MiB with"
          + " --quick)"),
  MIXED("mixed", "95% Zipf(0.99) reads / 5% puts over 100,000 keys, caches at 10% of the data"),
  CLUSTER(
      "cluster",
      "the cluster store (gateways over etcd + S3) against one RocksDB Global; only when named");

  private final String id;
  private final String description;

  Scenario(String id, String description) {
    this.id = id;
    this.description = description;
  }

  /** The name used on the command line and in the JSON ({@code local-hit}, ...). */
  public String id() {
    return id;
  }

  public String description() {
    return description;
  }

  /**
   * Whether a run without {@code --scenario} includes it: every scenario but {@code cluster}, which
   * needs etcd and a source checkout.
   */
  public boolean inDefaultRun() {
    return this != CLUSTER;
  }

  /**
   * The scenario named {@code name} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the valid scenarios when there is none
   */
  public static Scenario parse(String name) {
    String n = name.strip().toLowerCase(Locale.ROOT);
    for (Scenario s : values()) {
      if (s.id.equals(n)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown scenario '" + name + "'; expected one of " + String.join(", ", ids()));
  }

  static String[] ids() {
    Scenario[] all = values();
    String[] ids = new String[all.length];
    for (int i = 0; i < all.length; i++) {
      ids[i] = all[i].id;
    }
    return ids;
  }
}
