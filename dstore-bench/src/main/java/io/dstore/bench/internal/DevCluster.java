package io.dstore.bench.internal;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A cluster store on this machine, run by the source tree's {@code scripts/dev-cluster.sh}: three
 * etcd members, s3proxy and N gateways on 127.0.0.1, with state in a temporary directory of its own
 * (never another engineer's {@code ./dev-cluster}). {@link #close()} runs {@code down --purge},
 * which stops every recorded process by PID; {@link #kill()} (for a shutdown hook) signals the
 * recorded PIDs directly. Used by one thread, except {@link #kill()}.
 */
final class DevCluster implements AutoCloseable {
  private static final String SCRIPT = "scripts/dev-cluster.sh";
  static final String NEEDS =
      "the cluster scenario needs etcd (install it with scripts/install-test-deps.sh) and a"
          + " dstore source checkout (it runs "
          + SCRIPT
          + ")";

  /** One process line of {@code up}: kind (etcd, s3, gateway), address and PID. */
  record Proc(String kind, String address, long pid) {}

  private final Path root;
  private final Path dir;
  private final List<Proc> procs;

  private DevCluster(Path root, Path dir, List<Proc> procs) {
    this.root = root;
    this.dir = dir;
    this.procs = List.copyOf(procs);
  }

  /**
   * The source checkout to run the script from: {@code -Ddstore.bench.source=DIR}, else the
   * directory above this harness's jar or classes that holds the script, else the working
   * directory's.
   *
   * @throws BenchException saying what is missing (the checkout or etcd)
   */
  static Path checkout() {
    // As the script looks for it: on PATH, else /usr/bin.
    Optional<Path> etcd = Procs.findOnPath("etcd");
    if (etcd.isEmpty() && !Files.isExecutable(Path.of("/usr/bin/etcd"))) {
      throw new BenchException("etcd is not installed: " + NEEDS);
    }
    List<Path> candidates = new ArrayList<>();
    String property = System.getProperty("dstore.bench.source");
    if (property != null && !property.isBlank()) {
      candidates.add(Path.of(property));
    }
    try {
      Path code =
          Path.of(DevCluster.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      for (Path p = code.toAbsolutePath(); p != null; p = p.getParent()) {
        candidates.add(p);
      }
    } catch (URISyntaxException | RuntimeException e) {
      // no code source: fall back to the working directory
    }
    candidates.add(Path.of("").toAbsolutePath());
    for (Path c : candidates) {
      if (Files.isRegularFile(c.resolve(SCRIPT)) && Files.isRegularFile(c.resolve("dstore"))) {
        return c;
      }
    }
    throw new BenchException(
        "no dstore source checkout found (looked above the harness jar and in the working"
            + " directory; -Ddstore.bench.source=DIR names one): "
            + NEEDS);
  }

  /**
   * Runs {@code dev-cluster.sh up --gateways N} and returns once every gateway serves.
   *
   * @param extraGatewayArgs passed as {@code DSTORE_GATEWAY_ARGS} (may be empty)
   * @throws BenchException with the script's output when it fails or takes longer than the timeout
   */
  static DevCluster up(Path root, int gateways, String extraGatewayArgs, long timeoutSeconds)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("dstore-bench-cluster-");
    ProcessBuilder pb = script(root, dir, "up", "--gateways", Integer.toString(gateways));
    pb.environment().put("DSTORE_GATEWAY_ARGS", extraGatewayArgs);
    s3proxyJar().ifPresent(j -> pb.environment().put("DSTORE_S3PROXY_JAR", j.toString()));
    Path out = dir.resolve("up.out");
    pb.redirectOutput(out.toFile()).redirectErrorStream(true);
    Process p = pb.start();
    boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    List<Proc> procs = parse(Files.readAllLines(out, StandardCharsets.UTF_8));
    DevCluster cluster = new DevCluster(root, dir, procs);
    if (!done || p.exitValue() != 0) {
      if (!done) {
        Procs.stop(p, 2000);
      }
      String text = Files.readString(out, StandardCharsets.UTF_8);
      cluster.close();
      throw new BenchException(
          SCRIPT
              + " up "
              + (done
                  ? "failed (exit " + p.exitValue() + ")"
                  : "took over " + timeoutSeconds + " s")
              + "; its output ends with:\n"
              + tail(text, 25));
    }
    return cluster;
  }

  /** The processes {@code up} started, in its order. */
  List<Proc> procs() {
    return procs;
  }

  /** The gateways' {@code host:port}, in order. */
  List<String> gateways() {
    return procs.stream().filter(p -> p.kind().equals("gateway")).map(Proc::address).toList();
  }

  /** The PID of the i-th (0-based) gateway. */
  long gatewayPid(int i) {
    return procs.stream().filter(p -> p.kind().equals("gateway")).toList().get(i).pid();
  }

  /** Resident memory of every process of the cluster, summed (what a deployment would hold). */
  Long rssBytes() {
    long sum = 0;
    for (Proc p : procs) {
      sum += Procs.rssBytes(p.pid()).orElse(0);
    }
    return sum;
  }

  /** SIGKILLs the process {@code pid} (one the script started) and waits until it is gone. */
  static void killNow(long pid) throws InterruptedException {
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isEmpty()) {
      return;
    }
    h.get().destroyForcibly();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (h.get().isAlive() && System.nanoTime() - deadline < 0) {
      Thread.sleep(5);
    }
  }

  /** {@code down --purge}: stops every process by its recorded PID and removes the state. */
  @Override
  public void close() {
    try {
      Process p = script(root, dir, "down", "--purge").redirectErrorStream(true).start();
      p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        Procs.stop(p, 1000);
        kill();
      }
    } catch (IOException e) {
      kill();
    } catch (InterruptedException e) {
      kill();
      Thread.currentThread().interrupt();
    }
  }

  /** SIGKILLs every process {@code up} reported, by PID; for a shutdown hook. */
  void kill() {
    for (Proc p : procs) {
      ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  private static ProcessBuilder script(Path root, Path dir, String... args) {
    List<String> command = new ArrayList<>(List.of("bash", root.resolve(SCRIPT).toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
    pb.environment().put("DSTORE_CLUSTER_DIR", dir.toString());
    pb.environment().putIfAbsent("JAVA_HOME", System.getProperty("java.home"));
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    return pb;
  }

  /** s3proxy's jar in the local Maven repository, so the script need not fetch it. */
  private static Optional<Path> s3proxyJar() {
    Path base = Path.of(System.getProperty("user.home"), ".m2/repository/org/gaul/s3proxy");
    try (var versions = Files.list(base)) {
      return versions
          .sorted(java.util.Comparator.reverseOrder())
          .map(v -> v.resolve("s3proxy-" + v.getFileName() + "-jar-with-dependencies.jar"))
          .filter(Files::isRegularFile)
          .findFirst();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  static List<Proc> parse(List<String> lines) {
    List<Proc> procs = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.trim().split("\\s+", -1);
      if (f.length == 4
          && f[2].equals("pid")
          && (f[0].equals("etcd") || f[0].equals("s3") || f[0].equals("gateway"))) {
        try {
          String address = f[1].startsWith("http://") ? f[1].substring(7) : f[1];
          procs.add(new Proc(f[0], address, Long.parseLong(f[3])));
        } catch (NumberFormatException e) {
          // not a process line
        }
      }
    }
    return procs;
  }

  private static String tail(String text, int lines) {
    String[] all = text.split("\n", -1);
    return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
  }
}
