package io.dstore.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Free TCP ports on 127.0.0.1 for child processes. The ports of one call are all distinct: every
 * socket stays open until all are chosen. Another process may still take a port between this call
 * and the child's bind; the fixtures report such a failure with the child's log.
 */
final class FreePorts {
  private FreePorts() {}

  /** {@code n} distinct ports that were free a moment ago. */
  static int[] take(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        sockets.add(s);
        ports[i] = s.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
  }
}
