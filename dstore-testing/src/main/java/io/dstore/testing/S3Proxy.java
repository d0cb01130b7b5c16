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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server for tests: s3proxy (the {@code jar-with-dependencies}, run with
 * {@code java -jar} by the JDK running the tests) with its filesystem provider on {@code dir/data},
 * on a free port of 127.0.0.1, AWS v2/v4 signatures with a fixed access key and secret, and one
 * bucket, {@link #bucket()}, which exists before the server starts (with the filesystem provider, a
 * directory under the base dir is a bucket).
 *
 * <p>The jar is found through the system property {@code dstore.s3proxy.jar}, which the build sets
 * for the modules that opt in (see the parent pom's {@code fetch-s3proxy} execution), else in the
 * local Maven repository. It never runs on the test's class path.
 *
 * <p>Design note: the port and data dir stay fixed for the life of the fixture, so {@link #restart}
 * serves the same objects at the same endpoint. The process is signalled by PID through {@link
 * Process}. {@link #close} is idempotent. Not thread-safe: one test thread drives it.
 */
public final class S3Proxy implements AutoCloseable {
  /** The system property naming the s3proxy jar. */
  public static final String JAR_PROPERTY = "dstore.s3proxy.jar";

  private static final String VERSION = "2.6.0";
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final String ACCESS_KEY = "dstore-test-access";
  private static final String SECRET_KEY = "dstore-test-secret-key";
  private static final String BUCKET = "dstore-test";

  private final Path jar;
  private final Path dir;
  private final Path properties;
  private final Path log;
  private final int port;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private volatile Process process;

  private S3Proxy(Path jar, Path dir, Path properties, Path log, int port, Process process) {
    this.jar = jar;
    this.dir = dir;
    this.properties = properties;
    this.log = log;
    this.port = port;
    this.process = process;
  }

  /**
   * Starts s3proxy on {@code dir/data} and waits until it answers HTTP. Fails with its log tail
   * when it exits or does not answer within the deadline (and then stops it).
   */
  public static S3Proxy start(Path dir) throws IOException {
    Path jar = jar();
    Path data = dir.resolve("data");
    Files.createDirectories(data.resolve(BUCKET));
    int port = FreePorts.take(1)[0];
    Path properties = dir.resolve("s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=http://127.0.0.1:" + port,
            "jclouds.provider=filesystem",
            "jclouds.filesystem.basedir=" + data.toAbsolutePath(),
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + SECRET_KEY,
            ""),
        StandardCharsets.UTF_8);
    Path log = dir.resolve("s3proxy.log");
    S3Proxy proxy = new S3Proxy(jar, dir, properties, log, port, launch(jar, properties, log));
    try {
      proxy.awaitAnswering();
      return proxy;
    } catch (RuntimeException | Error e) {
      proxy.close();
      throw e;
    }
  }

  /** The s3proxy jar: the build's system property, else the local Maven repository. */
  static Path jar() {
    String configured = System.getProperty(JAR_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      Path p = Path.of(configured);
      if (Files.isRegularFile(p)) {
        return p;
      }
      // The module did not opt in to the fetch: try the local repository.
    }
    String repo =
        System.getProperty(
            "maven.repo.local",
            Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
    Path p =
        Path.of(
            repo, "org/gaul/s3proxy", VERSION, "s3proxy-" + VERSION + "-jar-with-dependencies.jar");
    if (Files.isRegularFile(p)) {
      return p;
    }
    throw new AssertionError(
        "the s3proxy jar is not found: the system property "
            + JAR_PROPERTY
            + " names no file (a module opts in to the parent pom's fetch-s3proxy execution by"
            + " setting s3proxy.fetch.phase and declaring maven-dependency-plugin) and "
            + p
            + " does not exist; fetch it with ./mvnw dependency:get"
            + " -Dartifact=org.gaul:s3proxy:"
            + VERSION
            + ":jar:jar-with-dependencies -Dtransitive=false");
  }

  private static Process launch(Path jar, Path properties, Path log) throws IOException {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    return new ProcessBuilder(
            List.of(
                java, "-Xmx256m", "-jar", jar.toString(), "--properties", properties.toString()))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
  }

  private void awaitAnswering() {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!answers()) {
      Process p = process;
      if (!p.isAlive()) {
        throw new AssertionError(
            "s3proxy exited with " + p.exitValue() + " while starting; its log:\n" + tail());
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "s3proxy did not answer on "
                + endpoint()
                + " within "
                + DEADLINE
                + "; log:\n"
                + tail());
      }
      try {
        Thread.sleep(100); // a poll interval between HTTP probes, not a synchronisation
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  /** Any HTTP answer counts (an unsigned request gets 403): the server is up. */
  private boolean answers() {
    try {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create(endpoint() + "/"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode() > 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** {@code http://127.0.0.1:PORT}: the endpoint to give an S3 client (path-style access). */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** The access key id the server accepts. */
  public String accessKey() {
    return ACCESS_KEY;
  }

  /** The secret key the server accepts. */
  public String secretKey() {
    return SECRET_KEY;
  }

  /** The bucket that exists from the start. */
  public String bucket() {
    return BUCKET;
  }

  /** Where the filesystem provider keeps the buckets: one directory per bucket. */
  public Path dataDir() {
    return dir.resolve("data");
  }

  /** The PID of the current s3proxy process; fails when it is not running. */
  public long pid() {
    Process p = process;
    if (!p.isAlive()) {
      throw new IllegalStateException("s3proxy is not running");
    }
    return p.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills s3proxy (SIGKILL by PID) and waits until it has exited. */
  public void kill() {
    Process p = process;
    p.destroyForcibly();
    try {
      if (!p.waitFor(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("s3proxy (pid " + p.pid() + ") survived SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Starts s3proxy again on the same port and data, killing a running one first; waits for it. */
  public void restart() throws IOException {
    if (process.isAlive()) {
      kill();
    }
    process = launch(jar, properties, log);
    awaitAnswering();
  }

  /** Stops s3proxy (SIGTERM, then SIGKILL after a deadline). Idempotent. */
  @Override
  public void close() {
    Process p = process;
    if (!p.isAlive()) {
      return;
    }
    p.destroy();
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

  private String tail() {
    return Tools.tail(log);
  }
}
