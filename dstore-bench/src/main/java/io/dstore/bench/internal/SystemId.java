package io.dstore.bench.internal;

import java.util.Locale;

/** The systems compared, with the names the JSON uses. */
public enum SystemId {
  DSTORE("dstore"),
  /** dstore's cluster store: gateways over etcd and S3 (the {@code cluster} scenario only). */
  DSTORE_CLUSTER("dstore-cluster"),
  REDIS("redis"),
  HAZELCAST("hazelcast"),
  CAFFEINE("caffeine");

  private final String id;

  SystemId(String id) {
    this.id = id;
  }

  public String id() {
    return id;
  }

  public static SystemId parse(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (SystemId s : values()) {
      if (s.id.equals(n)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown system '" + name + "'");
  }
}
