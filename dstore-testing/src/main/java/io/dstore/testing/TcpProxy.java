package io.dstore.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on 127.0.0.1 that the test can turn into a network fault between one Local and
 * Global: {@link #pass()} forwards, {@link #stall(boolean, boolean)} holds bytes in either
 * direction while keeping connections open (a slow or frozen link), {@link #drop()} resets every
 * connection and refuses new ones (a partition). Two threads per connection; all stopped on close.
 */
public final class TcpProxy implements AutoCloseable {
  private final int targetPort;
  private final ServerSocket server;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Object gate = new Object();
  private volatile boolean stallUp; // Local -> Global
  private volatile boolean stallDown; // Global -> Local
  private volatile boolean dropped;
  private volatile boolean closed;

  public TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::acceptLoop, "proxy-accept-" + port());
    accept.setDaemon(true);
    accept.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  public String address() {
    return "127.0.0.1:" + port();
  }

  public void pass() {
    synchronized (gate) {
      dropped = false;
      stallUp = false;
      stallDown = false;
      gate.notifyAll();
    }
  }

  /** Holds bytes going up (Local to Global) and/or down, without closing anything. */
  public void stall(boolean up, boolean down) {
    synchronized (gate) {
      stallUp = up;
      stallDown = down;
      gate.notifyAll();
    }
  }

  /** Resets every connection and refuses new ones until {@link #pass()}. */
  public void drop() {
    synchronized (gate) {
      dropped = true;
      gate.notifyAll();
    }
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      if (dropped) {
        closeQuietly(client);
        continue;
      }
      try {
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(upstream);
        pipe(client, upstream, true);
        pipe(upstream, client, false);
      } catch (IOException e) {
        closeQuietly(client); // Global is down: the Local sees a reset, as it would without us
      }
    }
  }

  private void pipe(Socket from, Socket to, boolean up) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[64 << 10];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                  awaitPassage(up);
                  if (dropped || closed) {
                    break;
                  }
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException | InterruptedException e) {
                // connection reset or dropped on purpose
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
              }
            },
            "proxy-" + (up ? "up" : "down"));
    t.setDaemon(true);
    t.start();
  }

  private void awaitPassage(boolean up) throws InterruptedException {
    synchronized (gate) {
      while (!closed && !dropped && (up ? stallUp : stallDown)) {
        gate.wait();
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (gate) {
      gate.notifyAll();
    }
    closeQuietly(server);
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // already closed
    }
  }
}
