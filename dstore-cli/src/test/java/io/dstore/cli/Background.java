package io.dstore.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A long-running command ({@code global}, {@code local --listen}) run by {@link Main} in this JVM,
 * on a thread of its own: its stdout and stderr are captured so a test can wait for a line, and its
 * stop signal is a latch the test releases (as SIGTERM would). For tests.
 */
final class Background implements AutoCloseable {
  private static final long WAIT_SECONDS = 30;

  static final Pattern GLOBAL_LISTENING =
      Pattern.compile("Dstore server listening on (127\\.0\\.0\\.1:\\d+)");
  static final Pattern LOCAL_LISTENING =
      Pattern.compile("Dstore local listening on (127\\.0\\.0\\.1:\\d+)");
  static final Pattern METRICS =
      Pattern.compile("Metrics on (http://127\\.0\\.0\\.1:\\d+/metrics)");

  final LineCapture out = new LineCapture();
  final LineCapture err = new LineCapture();
  private final CountDownLatch stop = new CountDownLatch(1);
  private final CompletableFuture<Integer> exit;

  private Background(Map<String, String> environment, InputStream stdin, String... args) {
    Env env =
        new Env(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            stdin,
            () -> false,
            () -> false,
            System::nanoTime,
            onAbruptExit -> stop.await(),
            environment::get);
    exit = new CompletableFuture<>();
    // A thread of its own: the common pool may have one worker only (on two cores).
    Thread.ofPlatform()
        .name("dstore-" + args[0])
        .daemon()
        .start(
            () -> {
              try {
                exit.complete(Main.run(args, env));
              } catch (Throwable t) {
                exit.completeExceptionally(t);
              }
            });
  }

  /** Starts {@code dstore args...} with no environment variables and an empty stdin. */
  static Background start(String... args) {
    return new Background(Map.of(), InputStream.nullInputStream(), args);
  }

  /** Starts {@code dstore args...} with these environment variables and an empty stdin. */
  static Background start(Map<String, String> environment, String... args) {
    return new Background(environment, InputStream.nullInputStream(), args);
  }

  /** Waits for a line of stdout matching {@code pattern}; returns its first group. */
  String awaitOut(Pattern pattern) throws InterruptedException {
    return await(out, pattern);
  }

  /** Waits for a line of stderr matching {@code pattern}; returns its first group. */
  String awaitErr(Pattern pattern) throws InterruptedException {
    return await(err, pattern);
  }

  private String await(LineCapture capture, Pattern pattern) throws InterruptedException {
    if (exit.isDone()) {
      throw new AssertionError(
          "the command ended with "
              + exit.join()
              + "; stdout:\n"
              + out.text()
              + "\nstderr:\n"
              + err.text());
    }
    Matcher m = capture.awaitLine(pattern, WAIT_SECONDS, TimeUnit.SECONDS);
    return m.groupCount() > 0 ? m.group(1) : m.group();
  }

  /** Signals the command to stop and returns its exit code. */
  int stop() throws Exception {
    stop.countDown();
    return exit.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** The exit code of a command that ends by itself (a failure to start, say). */
  int awaitExit() throws Exception {
    return exit.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    stop();
  }
}
