package io.dstore.server.security;

import static io.dstore.server.security.Stubs.blocking;
import static io.dstore.server.security.Stubs.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dstore.proto.GetRequest;
import io.dstore.proto.PutRequest;
import io.dstore.server.GlobalServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Garbage on Global's port (random bytes, a plain HTTP/1.1 request, an HTTP/2 preface followed by
 * junk) costs nothing lasting: a normal client is served afterwards, and nothing logged a stack
 * trace for it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GarbageInputIT {
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private GlobalServer server;
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final List<LogRecord> julLogged = new ArrayList<>();
  private final Handler julHandler =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          synchronized (julLogged) {
            julLogged.add(record);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void start() throws Exception {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logged);
    ((Logger) LoggerFactory.getLogger("io.grpc")).setLevel(Level.WARN);
    logged.start();
    java.util.logging.Logger.getLogger("").addHandler(julHandler);
    server = GlobalServer.builder().listen("127.0.0.1", 0).build().start();
  }

  @AfterEach
  void stop() {
    server.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logged);
    java.util.logging.Logger.getLogger("").removeHandler(julHandler);
  }

  @Test
  void garbageCostsNothingLasting() throws Exception {
    Random random = new Random(42);
    for (int i = 0; i < 5; i++) {
      byte[] junk = new byte[1 + random.nextInt(64 << 10)];
      random.nextBytes(junk);
      send(junk);
    }
    send(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < 5; i++) {
      byte[] junk = new byte[1 + random.nextInt(4096)];
      random.nextBytes(junk);
      byte[] message = new byte[PREFACE.length + junk.length];
      System.arraycopy(PREFACE, 0, message, 0, PREFACE.length);
      System.arraycopy(junk, 0, message, PREFACE.length, junk.length);
      send(message);
    }
    // A preface, an empty SETTINGS frame, then a frame claiming a 16 MiB payload that never comes.
    send(
        concat(
            PREFACE,
            new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0},
            new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 1, 1, 2, 3}));

    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      blocking(channel)
          .put(PutRequest.newBuilder().setKey(bytes("k")).setValue(bytes("v")).build());
      assertThat(
              blocking(channel).get(GetRequest.newBuilder().setKey(bytes("k")).build()).getValue())
          .isEqualTo(bytes("v"));
    } finally {
      channel.shutdownNow();
    }
    assertThat(logged.list)
        .filteredOn(e -> e.getThrowableProxy() != null)
        .as("log events with a stack trace")
        .isEmpty();
    synchronized (julLogged) {
      assertThat(julLogged)
          .filteredOn(
              r ->
                  r.getThrown() != null
                      && r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
          .as("gRPC log records with a stack trace")
          .isEmpty();
    }
  }

  /** Writes {@code bytes} on a fresh connection, reads whatever comes back until it closes. */
  private void send(byte[] bytes) throws IOException {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(5_000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(bytes);
        out.flush();
        s.shutdownOutput();
      } catch (IOException e) {
        return; // the server already closed it: fine
      }
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      try {
        while (in.read(buf) >= 0) {
          // drain
        }
      } catch (SocketTimeoutException | java.net.SocketException e) {
        // a server that keeps quiet or resets is fine too
      }
    }
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] all = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }
}
