package io.dstore.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A real etcd cluster for tests: {@code members} {@code etcd} processes (the 3.4 binary on PATH or
 * in /usr/bin) on 127.0.0.1, each with its own free client and peer ports and its own data dir and
 * log file under the directory given to {@link #start}. Members are numbered from 0.
 *
 * <p>Design note: every member keeps its ports and data dir for the life of the fixture, so {@link
 * #restart} brings back the same member (same name, same Raft id, same peer URL) and the cluster
 * configuration never changes. Processes are always signalled by PID through {@link Process}, never
 * by name. {@link #close} stops whatever is still running and may be called any number of times.
 *
 * <p>When etcd is not installed, {@link #start} aborts the test (a JUnit assumption, so it is
 * reported as skipped with the reason) — except when the environment variable {@code CI} is set
 * (and not {@code false}): there the install script ran, and a missing binary fails the test.
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class EtcdCluster implements AutoCloseable {
  /** How long a member may take to become healthy, and a cluster to elect a leader. */
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private static final String INSTALL_HINT =
      "install it with scripts/install-test-deps.sh (Debian packages etcd-server, etcd-client)";
  private static final Pattern MEMBER_ID = Pattern.compile("\"member_id\"\\s*:\\s*\"?(\\d+)\"?");
  private static final Pattern LEADER = Pattern.compile("\"leader\"\\s*:\\s*\"?(\\d+)\"?");

  private final Path dir;
  private final Path etcd;
  private final Path etcdctl;
  private final List<Member> members;
  private final String initialCluster;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private EtcdCluster(Path dir, Path etcd, Path etcdctl, List<Member> members) {
    this.dir = dir;
    this.etcd = etcd;
    this.etcdctl = etcdctl;
    this.members = members;
    this.initialCluster =
        members.stream().map(m -> m.name + "=" + m.peerUrl()).collect(Collectors.joining(","));
  }

  /**
   * Starts a new cluster of {@code members} members under {@code dir} and waits until every member
   * reports healthy (which in etcd means: it sees a leader). Fails with the log tail of the first
   * member that is not healthy within the deadline; on any failure, stops what it started.
   */
  public static EtcdCluster start(Path dir, int members) throws IOException {
    if (members < 1) {
      throw new IllegalArgumentException("members must be at least 1: " + members);
    }
    Path etcd = binary("etcd");
    Path etcdctl = binary("etcdctl");
    Files.createDirectories(dir);
    int[] ports = FreePorts.take(2 * members);
    List<Member> list = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      list.add(
          new Member(
              i,
              "m" + i,
              ports[2 * i],
              ports[2 * i + 1],
              dir.resolve("etcd-" + i + ".data"),
              dir.resolve("etcd-" + i + ".log")));
    }
    EtcdCluster cluster = new EtcdCluster(dir, etcd, etcdctl, list);
    try {
      for (Member m : list) {
        cluster.launch(m, "new");
      }
      for (Member m : list) {
        cluster.awaitHealthy(m);
      }
      return cluster;
    } catch (IOException | RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  /**
   * Returns when {@code etcd} and {@code etcdctl} are installed; otherwise skips the test (fails it
   * when {@code CI} is set) with a message naming scripts/install-test-deps.sh. For tests that run
   * etcd through something else, such as scripts/dev-cluster.sh.
   */
  public static void assumeInstalled() {
    binary("etcd");
    binary("etcdctl");
  }

  /** The path of an etcd binary, or the test is skipped (failed under CI) naming the script. */
  static Path binary(String name) {
    Optional<Path> found = Tools.onPath(name);
    if (found.isEmpty() && Files.isExecutable(Path.of("/usr/bin", name))) {
      found = Optional.of(Path.of("/usr/bin", name));
    }
    if (found.isPresent()) {
      return found.get();
    }
    Tools.missing(name + " is not installed (not on PATH nor in /usr/bin); " + INSTALL_HINT);
    throw new AssertionError("unreachable");
  }

  private void launch(Member m, String state) throws IOException {
    List<String> command =
        List.of(
            etcd.toString(),
            "--name",
            m.name,
            "--data-dir",
            m.dataDir.toString(),
            "--listen-client-urls",
            m.clientUrl(),
            "--advertise-client-urls",
            m.clientUrl(),
            "--listen-peer-urls",
            m.peerUrl(),
            "--initial-advertise-peer-urls",
            m.peerUrl(),
            "--initial-cluster",
            initialCluster,
            "--initial-cluster-state",
            state,
            "--initial-cluster-token",
            "dstore-test-" + dir.getFileName(),
            "--max-request-bytes",
            "2097152",
            "--logger",
            "zap",
            "--log-outputs",
            "stderr",
            "--log-level",
            "warn");
    m.process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(m.log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
  }

  private void awaitHealthy(Member m) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!healthy(m)) {
      Process p = m.process;
      if (p == null || !p.isAlive()) {
        throw new AssertionError(
            "etcd member " + m.index + " exited while starting; its log:\n" + Tools.tail(m.log));
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "etcd member "
                + m.index
                + " ("
                + m.clientUrl()
                + ") not healthy within "
                + DEADLINE
                + "; its log:\n"
                + Tools.tail(m.log));
      }
      pause();
    }
  }

  private boolean healthy(Member m) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(m.clientUrl() + "/health"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().replace(" ", "").contains("\"health\":\"true\"");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** {@code http://127.0.0.1:PORT} of every member, in member order (running or not). */
  public List<String> endpoints() {
    return members.stream().map(Member::clientUrl).toList();
  }

  /** {@link #endpoints()} joined with commas, as {@code --etcd} and etcdctl take them. */
  public String endpointsCsv() {
    return String.join(",", endpoints());
  }

  /** How many members the cluster has. */
  public int size() {
    return members.size();
  }

  /** The PID of member {@code i}'s current process; fails when it is not running. */
  public long pid(int i) {
    Process p = member(i).process;
    if (p == null || !p.isAlive()) {
      throw new IllegalStateException("etcd member " + i + " is not running");
    }
    return p.pid();
  }

  /** Whether member {@code i} is running. */
  public boolean isAlive(int i) {
    Process p = member(i).process;
    return p != null && p.isAlive();
  }

  /**
   * The index of the current leader, as a majority of the running members report it (each member's
   * {@code /v3/maintenance/status}); waits for one with a deadline, failing after it.
   */
  public int leader() {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      OptionalLong leaderId = agreedLeader();
      if (leaderId.isPresent()) {
        for (Member m : members) {
          if (m.id != 0 && m.id == leaderId.getAsLong() && isAlive(m.index)) {
            return m.index;
          }
        }
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "no etcd leader within "
                + DEADLINE
                + "; member logs:\n"
                + members.stream()
                    .map(m -> "--- member " + m.index + "\n" + Tools.tail(m.log))
                    .collect(Collectors.joining("\n")));
      }
      pause();
    }
  }

  private OptionalLong agreedLeader() {
    Map<Long, Integer> votes = new HashMap<>();
    for (Member m : members) {
      if (!isAlive(m.index)) {
        continue;
      }
      Optional<String> status = status(m);
      if (status.isEmpty()) {
        continue;
      }
      Matcher id = MEMBER_ID.matcher(status.get());
      Matcher leader = LEADER.matcher(status.get());
      if (id.find()) {
        m.id = Long.parseUnsignedLong(id.group(1));
      }
      if (leader.find()) {
        long l = Long.parseUnsignedLong(leader.group(1));
        if (l != 0) {
          votes.merge(l, 1, Integer::sum);
        }
      }
    }
    int majority = members.size() / 2 + 1;
    return votes.entrySet().stream()
        .filter(e -> e.getValue() >= majority)
        .mapToLong(Map.Entry::getKey)
        .findFirst();
  }

  private Optional<String> status(Member m) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(m.clientUrl() + "/v3/maintenance/status"))
                  .timeout(Duration.ofSeconds(2))
                  .POST(HttpRequest.BodyPublishers.ofString("{}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Kills member {@code i} as a crash would (SIGKILL by PID) and waits until it has exited. */
  public void kill(int i) {
    Member m = member(i);
    Process p = m.process;
    if (p != null) {
      p.destroyForcibly();
      awaitExit(m, p, "SIGKILL");
    }
  }

  /** Stops member {@code i} gracefully (SIGTERM by PID) and waits until it has exited. */
  public void stop(int i) {
    Member m = member(i);
    Process p = m.process;
    if (p != null) {
      p.destroy();
      awaitExit(m, p, "SIGTERM");
    }
  }

  /**
   * Starts member {@code i} again, on its ports and data dir, and waits until it is healthy. Kills
   * its previous process first if it is still running.
   */
  public void restart(int i) throws IOException {
    Member m = member(i);
    if (isAlive(i)) {
      kill(i);
    }
    launch(m, "existing");
    awaitHealthy(m);
  }

  /**
   * Runs {@code etcdctl} (API v3) against every member with these arguments and returns its stdout;
   * fails with its output when it exits non-zero or takes longer than the deadline.
   */
  public String etcdctl(String... args) throws IOException {
    return etcdctl(endpointsCsv(), args);
  }

  /**
   * Runs {@code etcdctl} (API v3) against member {@code i} alone; otherwise as {@link
   * #etcdctl(String...)}. With {@code get ... --consistency=s} it shows what that member holds.
   */
  public String etcdctlOn(int i, String... args) throws IOException {
    return etcdctl(member(i).clientUrl(), args);
  }

  private String etcdctl(String endpoints, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(etcdctl.toString());
    command.add("--endpoints=" + endpoints);
    command.add("--dial-timeout=2s");
    command.add("--command-timeout=10s");
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Path out = Files.createTempFile(dir, "etcdctl-", ".out");
    pb.redirectOutput(out.toFile());
    Process p = pb.start();
    try {
      if (!p.waitFor(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("etcdctl " + String.join(" ", args) + " did not finish in time");
      }
      String text = Files.readString(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new AssertionError(
            "etcdctl " + String.join(" ", args) + " exited " + p.exitValue() + ":\n" + text);
      }
      return text;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** The log file of member {@code i}. */
  public Path log(int i) {
    return member(i).log;
  }

  /** Stops every member still running (SIGTERM, SIGKILL after a deadline). Idempotent. */
  @Override
  public void close() {
    for (Member m : members) {
      Process p = m.process;
      if (p != null && p.isAlive()) {
        p.destroy();
      }
    }
    for (Member m : members) {
      Process p = m.process;
      if (p != null) {
        try {
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private Member member(int i) {
    if (i < 0 || i >= members.size()) {
      throw new IndexOutOfBoundsException(
          "member " + i + " of a " + members.size() + "-member cluster");
    }
    return members.get(i);
  }

  private static void awaitExit(Member m, Process p, String how) {
    try {
      if (!p.waitFor(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(
            "etcd member " + m.index + " (pid " + p.pid() + ") survived " + how);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50); // a poll interval between HTTP probes, not a synchronisation
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** One member: fixed name, ports and paths; its process changes across restarts. */
  private static final class Member {
    final int index;
    final String name;
    final int clientPort;
    final int peerPort;
    final Path dataDir;
    final Path log;
    volatile Process process;
    volatile long id;

    Member(int index, String name, int clientPort, int peerPort, Path dataDir, Path log) {
      this.index = index;
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
      this.dataDir = dataDir;
      this.log = log;
    }

    String clientUrl() {
      return "http://127.0.0.1:" + clientPort;
    }

    String peerUrl() {
      return "http://127.0.0.1:" + peerPort;
    }
  }
}
