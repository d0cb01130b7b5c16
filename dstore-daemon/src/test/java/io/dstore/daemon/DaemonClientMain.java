package io.dstore.daemon;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.Entry;
import java.nio.charset.StandardCharsets;

/**
 * A tiny client process for {@link DaemonTwoProcessesIT}: {@code put ADDRESS KEY VALUE} prints
 * {@code PUT <generation>}; {@code get ADDRESS KEY} prints {@code GOT <value> fromCache=<bool>}.
 * Errors go to stderr with exit code 1.
 */
public final class DaemonClientMain {
  private DaemonClientMain() {}

  public static void main(String[] args) {
    DstoreOptions thin = DstoreOptions.builder().coherentCache(false).build();
    try (Dstore dstore = Dstore.connect(args[1], thin)) {
      byte[] key = args[2].getBytes(StandardCharsets.UTF_8);
      switch (args[0]) {
        case "put" ->
            System.out.println("PUT " + dstore.put(key, args[3].getBytes(StandardCharsets.UTF_8)));
        case "get" -> {
          Entry e = dstore.getEntry(key);
          System.out.println(
              "GOT "
                  + new String(e.value(), StandardCharsets.UTF_8)
                  + " fromCache="
                  + e.fromCache());
        }
        default -> throw new IllegalArgumentException("put or get, not " + args[0]);
      }
    } catch (RuntimeException e) {
      System.err.println(e);
      System.exit(1);
    }
  }
}
