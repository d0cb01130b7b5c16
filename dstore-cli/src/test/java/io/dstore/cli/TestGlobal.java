package io.dstore.cli;

import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

/** A real Global on 127.0.0.1, a free port, memory storage; for tests. */
final class TestGlobal implements AutoCloseable {
  final GlobalServer server;

  private TestGlobal(GlobalServer server) {
    this.server = server;
  }

  static TestGlobal start() {
    try {
      return new TestGlobal(
          GlobalServer.builder()
              .listen("127.0.0.1", 0)
              .storage(Storage.memory())
              .startupGrace(Duration.ZERO) // a brand-new store: no earlier lease to outlast
              .build()
              .start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code 127.0.0.1:PORT}. */
  String address() {
    return server.address();
  }

  @Override
  public void close() {
    server.close();
  }

  /** A port on 127.0.0.1 that nobody listens on (it was free a moment ago). */
  static int deadPort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
