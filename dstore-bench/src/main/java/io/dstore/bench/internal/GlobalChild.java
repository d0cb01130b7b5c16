package io.dstore.bench.internal;

import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * The dstore Global the harness measures, run in a JVM of its own so that, like redis-server, it is
 * a separate process whose resident memory can be read. Listens on 127.0.0.1 on a free port with
 * in-memory storage and strict coherence, prints {@code dstore-bench-global-port=PORT} on stdout
 * once it accepts connections, and stops when its stdin closes (so it never outlives the harness,
 * even when the harness is killed).
 */
public final class GlobalChild {
  /** The line prefix that announces the port on stdout. */
  public static final String PORT_LINE = "dstore-bench-global-port=";

  private GlobalChild() {}

  public static void main(String[] args) throws IOException {
    GlobalServer server =
        GlobalServer.builder()
            .listen("127.0.0.1", 0)
            .storage(Storage.memory())
            // A brand-new in-memory store: no earlier run can have granted leases to outlast.
            .startupGrace(Duration.ZERO)
            .build()
            .start();
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
