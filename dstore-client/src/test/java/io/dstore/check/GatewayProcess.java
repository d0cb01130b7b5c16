package io.dstore.check;

import io.dstore.server.ClusterConfig;
import io.dstore.server.Coherence;
import io.dstore.server.GlobalServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A cluster-store gateway (a Global over etcd and S3) in a child JVM, so a test can kill it with
 * SIGKILL and start it again on the same port: its Locals, which list it by address, find it again.
 * The child prints {@code LISTENING <port>} once it accepts connections.
 *
 * <p>Design note: every setting is kept in {@link Settings}, so {@link #restart} starts the very
 * same gateway (same port, same etcd endpoints, possibly a fault proxy's). S3 credentials are
 * handed to the child as the AWS SDK's system properties. The process is signalled by PID through
 * {@link Process}, never by name. Not thread-safe: one test thread drives it.
 */
public final class GatewayProcess implements AutoCloseable {
  /**
   * What a gateway is started with.
   *
   * @param etcd comma-separated etcd endpoints (members or fault proxies in front of them)
   * @param etcdPrefix the cluster's etcd prefix, ending with {@code /}
   * @param s3Endpoint {@code http://host:port} of the S3 server (or of a proxy in front of it)
   * @param blobs {@code s3://bucket/prefix}
   * @param accessKey S3 access key id
   * @param secretKey S3 secret key
   * @param coherence strict or eventual
   * @param lease the lease the gateway grants Locals
   * @param gatewayLease the gateway's own etcd lease; at least twice {@code lease}
   * @param inlineThreshold values of at most this many bytes live inline in etcd
   */
  public record Settings(
      String etcd,
      String etcdPrefix,
      String s3Endpoint,
      String blobs,
      String accessKey,
      String secretKey,
      Coherence coherence,
      Duration lease,
      Duration gatewayLease,
      int inlineThreshold) {
    public Settings {
      if (gatewayLease.compareTo(lease.multipliedBy(2)) < 0) {
        throw new IllegalArgumentException(
            "gateway lease " + gatewayLease + " < 2 x Local lease " + lease);
      }
    }
  }

  private final Settings settings;
  private final int port;
  private Process process;

  private GatewayProcess(Settings settings, int port, Process process) {
    this.settings = settings;
    this.port = port;
    this.process = process;
  }

  /**
   * Starts a gateway on {@code port} (0: a free one, kept for restarts); waits until it listens.
   */
  public static GatewayProcess start(int port, Settings settings) throws IOException {
    Process p = launch(port, settings);
    int actual = awaitListening(p);
    return new GatewayProcess(settings, actual, p);
  }

  private static Process launch(int port, Settings s) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-Xmx256m");
    cmd.add("-Daws.accessKeyId=" + s.accessKey());
    cmd.add("-Daws.secretAccessKey=" + s.secretKey());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(GatewayProcess.class.getName());
    cmd.add(Integer.toString(port));
    cmd.add(s.etcd());
    cmd.add(s.etcdPrefix());
    cmd.add(s.s3Endpoint());
    cmd.add(s.blobs());
    cmd.add(s.coherence().name());
    cmd.add(Long.toString(s.lease().toMillis()));
    cmd.add(Long.toString(s.gatewayLease().toMillis()));
    cmd.add(Integer.toString(s.inlineThreshold()));
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static int awaitListening(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (line == null || !line.startsWith("LISTENING ")) {
      p.destroyForcibly();
      throw new IOException("child gateway did not start: " + line);
    }
    return Integer.parseInt(line.substring("LISTENING ".length()).trim());
  }

  public int port() {
    return port;
  }

  /** {@code 127.0.0.1:PORT}, as a Local's target list takes it. */
  public String address() {
    return "127.0.0.1:" + port;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL by PID, and wait for it to be gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("gateway " + process.pid() + " survived SIGKILL for 30 s");
    }
  }

  /** Kills the gateway if it runs, then starts it again on the same port with the same settings. */
  public void restart() throws IOException, InterruptedException {
    kill();
    Process p = launch(port, settings);
    process = p;
    int actual = awaitListening(p);
    if (actual != port) {
      throw new IOException("restarted gateway listens on " + actual + ", not " + port);
    }
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }

  /** The child's entry point: the arguments {@link #launch} passes. */
  public static void main(String[] args) throws Exception {
    ClusterConfig cluster =
        ClusterConfig.builder()
            .etcd(args[1])
            .etcdPrefix(args[2])
            .s3Endpoint(URI.create(args[3]))
            .blobs(args[4])
            .region("us-east-1")
            .inlineThreshold(Integer.parseInt(args[8]))
            .leaseTtl(Duration.ofMillis(Long.parseLong(args[7])))
            .build();
    GlobalServer server =
        GlobalServer.builder()
            .listen("127.0.0.1", Integer.parseInt(args[0]))
            .coherence(Coherence.valueOf(args[5]))
            .lease(Duration.ofMillis(Long.parseLong(args[6])))
            .cluster(cluster)
            .build()
            .start();
    System.out.println("LISTENING " + server.port());
    System.out.flush();
    server.awaitTermination();
  }
}
