package io.dstore.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code dstore} run as a child JVM on this test's classpath, its stdin and stdout as pipes. Its
 * stdout is read line by line by a thread, so a test waits for each line with a deadline; stderr is
 * kept in a file for assertions and failure messages. For integration tests.
 */
public final class Child implements AutoCloseable {
  private static final Duration LINE_DEADLINE = Duration.ofSeconds(30);

  private final Process process;
  private final BlockingQueue<Optional<String>> lines = new LinkedBlockingQueue<>();
  private final Path stderrFile;
  private final Queue<String> problems = new ConcurrentLinkedQueue<>();
  private final OutputStream stdin;
  private final Thread outReader;

  private Child(Process process, Path stderrFile) {
    this.process = process;
    this.stderrFile = stderrFile;
    this.stdin = process.getOutputStream();
    this.outReader =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  try (BufferedReader r = reader(process.getInputStream())) {
                    String line;
                    while ((line = r.readLine()) != null) {
                      lines.add(Optional.of(line));
                    }
                  } catch (IOException e) {
                    problems.add("[test: reading stdout failed: " + e + "]\n");
                  } finally {
                    lines.add(Optional.empty());
                  }
                });
  }

  /** Starts {@code dstore args...} (the CLI, from this JVM's class path) in a new JVM. */
  public static Child start(String... args) throws IOException {
    return start(List.of(), args);
  }

  /** Starts {@code dstore args...} in a new JVM with these JVM options (say, a heap limit). */
  public static Child start(List<String> jvmOptions, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("--enable-native-access=ALL-UNNAMED");
    if (Runtime.version().feature() >= 24) {
      command.add("--sun-misc-unsafe-memory-access=allow");
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("io.dstore.cli.Main");
    command.addAll(List.of(args));
    // stderr goes to a file: read after the exit, nothing of it is lost to a reader thread race.
    Path stderrFile = Files.createTempFile("dstore-child-", ".stderr");
    stderrFile.toFile().deleteOnExit();
    Process process =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.to(stderrFile.toFile()))
            .start();
    return new Child(process, stderrFile);
  }

  private static BufferedReader reader(java.io.InputStream in) {
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
  }

  /** Writes {@code line} and a newline to the child's stdin. */
  public Child send(String line) throws IOException {
    stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    stdin.flush();
    return this;
  }

  /** The next line of stdout; fails after the deadline or at end of output. */
  public String nextLine() throws InterruptedException {
    Optional<String> line = lines.poll(LINE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    if (line == null) {
      throw new AssertionError(
          "no line on stdout within " + LINE_DEADLINE + "; stderr:\n" + stderr());
    }
    if (line.isEmpty()) {
      lines.add(line); // stay at the end
      throw new AssertionError("stdout ended; stderr:\n" + stderr());
    }
    return line.get();
  }

  /** Sends {@code command} and returns the one line it answers. */
  public String ask(String command) throws IOException, InterruptedException {
    send(command);
    return nextLine();
  }

  /**
   * For a {@code dstore local} child: waits until its Local is subscribed and holds a lease (so it
   * caches and serves hits), asking {@code .stats} until it says so.
   */
  public void awaitReady() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + LINE_DEADLINE.toNanos();
    String stats = ask(".stats");
    while (!(stats.contains("connected=true") && stats.contains("lease_valid=true"))) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("the Local never got ready: " + stats + "\n" + stderr());
      }
      stats = ask(".stats");
    }
  }

  /** Whether stdout ended with no further line, waiting up to the deadline. */
  public boolean stdoutEnded() throws InterruptedException {
    Optional<String> line = lines.poll(LINE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    if (line != null && line.isPresent()) {
      throw new AssertionError("unexpected line on stdout: '" + line.get() + "'");
    }
    return line != null;
  }

  public void closeStdin() throws IOException {
    stdin.close();
  }

  /** Asks the child to stop as a service manager would: SIGTERM. */
  public void terminate() {
    process.destroy();
  }

  /** The child's process id (to signal it, say with {@code kill -STOP}). */
  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the child as a crash would (SIGKILL) and waits until it is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(LINE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("the child survived SIGKILL");
    }
  }

  /** Waits for the child to exit; returns its exit code. */
  public int awaitExit() throws InterruptedException {
    if (!process.waitFor(LINE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("the child did not exit; stderr:\n" + stderr());
    }
    outReader.join(LINE_DEADLINE.toMillis());
    return process.exitValue();
  }

  /** What the child wrote on stderr so far. */
  public String stderr() {
    try {
      return Files.readString(stderrFile) + String.join("", problems);
    } catch (IOException e) {
      return "[test: cannot read the child's stderr: " + e + "]\n" + String.join("", problems);
    }
  }

  @Override
  public void close() throws IOException {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
    Files.deleteIfExists(stderrFile);
  }
}
