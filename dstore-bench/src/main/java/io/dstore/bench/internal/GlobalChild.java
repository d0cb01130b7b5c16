package io.dstore.bench.internal;

import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The dstore Global the harness measures, run in a JVM of its own so that, like redis-server, it is
 * a separate process whose resident memory can be read. Listens on 127.0.0.1 on a free port with
 * in-memory storage and strict coherence, prints {@code dstore-bench-global-port=PORT} on stdout
 * once it accepts connections, and stops when its stdin closes (so it never outlives the harness,
 * even when the harness is killed).
 *
 * <p>Arguments, both optional: {@code --metrics} also serves {@code /metrics} on a free port and
 * announces it with {@code dstore-bench-global-metrics-port=PORT} before the port line; {@code
 * --rocksdb DIR} stores in RocksDB in DIR instead of memory (the soak runs the default backend).
 */
public final class GlobalChild {
  /** The line prefix that announces the port on stdout. */
  public static final String PORT_LINE = "dstore-bench-global-port=";

  /** The line prefix that announces the metrics port on stdout (with {@code --metrics}). */
  public static final String METRICS_PORT_LINE = "dstore-bench-global-metrics-port=";

  private GlobalChild() {}

  public static void main(String[] args) throws IOException {
    List<String> a = List.of(args);
    boolean metrics = a.contains("--metrics");
    int rocks = a.indexOf("--rocksdb");
    Storage storage =
        rocks >= 0 && rocks + 1 < a.size()
            ? Storage.rocksdb(Path.of(a.get(rocks + 1)), false)
            : Storage.memory();
    GlobalServer.Builder builder =
        GlobalServer.builder()
            .listen("127.0.0.1", 0)
            .storage(storage)
            // A brand-new store: no earlier run can have granted leases to outlast.
            .startupGrace(Duration.ZERO);
    if (metrics) {
      builder.metricsListen("127.0.0.1", 0);
    }
    GlobalServer server = builder.build().start();
    if (metrics) {
      System.out.println(METRICS_PORT_LINE + server.metricsPort());
    }
    System.out.println(PORT_LINE + server.port());
    System.out.flush();
    try {
      drain(System.in);
    } finally {
      server.close();
    }
    System.exit(0);
  }

  private static void drain(InputStream in) throws IOException {
    byte[] buffer = new byte[256];
    while (in.read(buffer) != -1) {
      // nothing to read; waiting for end of input
    }
  }
}
