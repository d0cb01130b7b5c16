package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.Await;
import io.dstore.testing.EtcdCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/dev-cluster.sh} as a developer runs it: {@code up --gateways 2} starts three etcd
 * members, s3proxy and two gateways ({@code ./dstore global --store etcd}), prints one line per
 * process whose PID is that process itself, {@code restart} brings an etcd member back on its port,
 * and {@code down}, twice, leaves none of them running. Needs etcd (scripts/install-test-deps.sh)
 * and the CLI's jar of this build (the repository's {@code ./dstore} runs it).
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class DevClusterIT {
  private static final Pattern ETCD =
      Pattern.compile("etcd http://127\\.0\\.0\\.1:(\\d+) pid (\\d+)");
  private static final Pattern S3 = Pattern.compile("s3 http://127\\.0\\.0\\.1:(\\d+) pid (\\d+)");
  private static final Pattern GATEWAY =
      Pattern.compile("gateway 127\\.0\\.0\\.1:(\\d+) pid (\\d+)");

  @TempDir Path temp;

  private final Path root = repositoryRoot();
  private final List<Long> pids = new ArrayList<>();

  @AfterEach
  void downEvenWhenTheTestFailed() throws Exception {
    if (Files.isDirectory(temp.resolve("cluster"))) {
      script(Duration.ofMinutes(1), "down");
    }
  }

  @Test
  void upStartsEveryProcessPrintsItsLineAndDownTwiceStopsThemAll() throws Exception {
    EtcdCluster.assumeInstalled();

    Result up = script(Duration.ofMinutes(5), "up", "--gateways", "2");
    assertThat(up.exit()).as("up failed:\n%s", up.stderr()).isZero();
    List<String> lines = up.stdout().lines().toList();
    assertThat(lines).as(up.stdout()).hasSize(6);
    assertThat(lines.subList(0, 3)).allMatch(l -> ETCD.matcher(l).matches());
    assertThat(S3.matcher(lines.get(3)).matches()).as(lines.get(3)).isTrue();
    assertThat(lines.subList(4, 6)).allMatch(l -> GATEWAY.matcher(l).matches());

    Set<Integer> ports = new HashSet<>();
    for (String line : lines) {
      Matcher m = match(line);
      ports.add(Integer.parseInt(m.group(1)));
      long pid = Long.parseLong(m.group(2));
      pids.add(pid);
      assertThat(running(pid)).as("%s is running", line).isTrue();
      String program = Path.of(commandLine(pid).get(0)).getFileName().toString();
      assertThat(program).as(line).isEqualTo(line.startsWith("etcd") ? "etcd" : "java");
    }
    assertThat(ports).as("every process on its own port").hasSize(6);
    for (String line : lines.subList(4, 6)) {
      int port = Integer.parseInt(match(line).group(1));
      assertThat(accepts(port)).as("%s accepts connections", line).isTrue();
    }

    Result status = script(Duration.ofSeconds(30), "status");
    assertThat(status.stdout().lines().toList())
        .isEqualTo(lines.stream().map(l -> l + " alive").toList());

    Result restart = script(Duration.ofMinutes(2), "restart", "etcd", "2");
    assertThat(restart.exit()).as(restart.stderr()).isZero();
    Matcher again = ETCD.matcher(restart.stdout().strip());
    assertThat(again.matches()).as(restart.stdout()).isTrue();
    assertThat(again.group(1)).isEqualTo(match(lines.get(1)).group(1));
    long newPid = Long.parseLong(again.group(2));
    pids.add(newPid);
    assertThat(running(pids.get(1))).as("the old etcd member is gone").isFalse();
    assertThat(running(newPid)).isTrue();

    for (int i = 0; i < 2; i++) {
      Result down = script(Duration.ofMinutes(1), "down");
      assertThat(down.exit()).as("down #%d:\n%s", i + 1, down.stderr()).isZero();
    }
    for (long pid : pids) {
      Await.until("pid " + pid + " gone", Duration.ofSeconds(5), () -> !running(pid));
    }
  }

  private static Matcher match(String line) {
    for (Pattern p : List.of(ETCD, S3, GATEWAY)) {
      Matcher m = p.matcher(line);
      if (m.matches()) {
        return m;
      }
    }
    throw new AssertionError("not a dev-cluster line: " + line);
  }

  /** Alive and not a zombie (the container's init may never reap what it inherited). */
  private static boolean running(long pid) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (l.startsWith("State:")) {
          return !l.substring(6).strip().startsWith("Z");
        }
      }
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  private static List<String> commandLine(long pid) throws IOException {
    String raw =
        new String(
            Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8);
    return List.of(raw.split("\0"));
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private record Result(int exit, String stdout, String stderr) {}

  private Result script(Duration deadline, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add("bash");
    command.add(root.resolve("scripts/dev-cluster.sh").toString());
    command.addAll(List.of(args));
    Path out = Files.createTempFile(temp, "out-", ".txt");
    Path err = Files.createTempFile(temp, "err-", ".txt");
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(root.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    Map<String, String> env = pb.environment();
    env.put("DSTORE_CLUSTER_DIR", temp.resolve("cluster").toString());
    env.put("JAVA_HOME", System.getProperty("java.home"));
    String jar = System.getProperty("dstore.s3proxy.jar", "");
    if (Files.isRegularFile(Path.of(jar))) {
      env.put("DSTORE_S3PROXY_JAR", jar);
    }
    Process p = pb.start();
    if (!p.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(
          "dev-cluster.sh "
              + String.join(" ", args)
              + " took over "
              + deadline
              + ":\n"
              + read(err));
    }
    return new Result(p.exitValue(), read(out), read(err));
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  /** The repository root: the parent of this module's directory. */
  private static Path repositoryRoot() {
    Path module = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    Path root = module.getParent();
    if (root == null || !Files.isRegularFile(root.resolve("scripts/dev-cluster.sh"))) {
      throw new AssertionError("no scripts/dev-cluster.sh above " + module);
    }
    return root;
  }
}
