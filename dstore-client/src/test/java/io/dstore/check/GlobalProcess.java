package io.dstore.check;

import io.dstore.server.Coherence;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Global in a child JVM, so a test can kill it with SIGKILL and start it again on the same port
 * and data directory. The child prints {@code LISTENING <port>} once it accepts connections.
 */
public final class GlobalProcess implements AutoCloseable {
  private final Process process;
  private final int port;

  private GlobalProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /**
   * Starts a child Global: rocksdb (fsynced) in {@code dataDir}, or memory when it is null, keeping
   * the last {@code invalidationLog} invalidations for replay.
   */
  public static GlobalProcess start(
      int port, Path dataDir, Coherence coherence, Duration lease, int invalidationLog)
      throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(GlobalProcess.class.getName());
    cmd.add(Integer.toString(port));
    cmd.add(dataDir == null ? "-" : dataDir.toString());
    cmd.add(coherence.name());
    cmd.add(Long.toString(lease.toMillis()));
    cmd.add(Integer.toString(invalidationLog));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (line == null || !line.startsWith("LISTENING ")) {
      p.destroyForcibly();
      throw new IOException("child Global did not start: " + line);
    }
    return new GlobalProcess(p, Integer.parseInt(line.substring("LISTENING ".length()).trim()));
  }

  public int port() {
    return port;
  }

  /** SIGKILL, and wait for it to be gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }

  /** The child's entry point. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Storage storage =
        args[1].equals("-") ? Storage.memory() : Storage.rocksdb(Path.of(args[1]), true);
    GlobalServer server =
        GlobalServer.builder()
            .listen("127.0.0.1", port)
            .storage(storage)
            .coherence(Coherence.valueOf(args[2]))
            .lease(Duration.ofMillis(Long.parseLong(args[3])))
            .invalidationLogSize(Integer.parseInt(args[4]))
            .build()
            .start();
    System.out.println("LISTENING " + server.port());
    System.out.flush();
    server.awaitTermination();
  }
}
