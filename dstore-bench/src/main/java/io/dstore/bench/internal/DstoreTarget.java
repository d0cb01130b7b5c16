package io.dstore.bench.internal;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.LocalStats;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * dstore as the harness runs it: a Global in a child JVM ({@link GlobalChild}) and Locals in this
 * JVM, connected over loopback. Thread-safe. {@link #close()} stops the child; so does the end of
 * this JVM, since the child exits when its stdin closes.
 */
final class DstoreTarget implements AutoCloseable {
  /**
   * System property with extra JVM options for the Global's child JVM, space-separated (for
   * profiling: {@code -XX:StartFlightRecording=filename=global.jfr}, {@code -Xlog:gc:file=gc.log}).
   */
  static final String GLOBAL_JVM_ARGS = "dstore.bench.global.jvmArgs";

  private final Process process;
  private final String address;
  private final Path stderrLog;

  private final int metricsPort;

  private DstoreTarget(Process process, String address, Path stderrLog, int metricsPort) {
    this.process = process;
    this.address = address;
    this.stderrLog = stderrLog;
    this.metricsPort = metricsPort;
  }

  /** Launches the child Global and waits until it listens. */
  static DstoreTarget start(Duration timeout) throws IOException, InterruptedException {
    return start(timeout, List.of());
  }

  /**
   * The Global child's process, with the environment the {@code dstore} launcher gives a Global:
   * {@code MALLOC_ARENA_MAX=2} unless this JVM's environment sets it.
   */
  static ProcessBuilder childProcess(List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
    return builder;
  }

  /**
   * Launches the child Global with {@code args} (see {@link GlobalChild}) and waits until it
   * listens.
   */
  static DstoreTarget start(Duration timeout, List<String> args)
      throws IOException, InterruptedException {
    return start(timeout, args, List.of());
  }

  /**
   * As {@link #start(Duration, List)}, with JVM options {@code defaultJvmOptions} unless system
   * property {@value #GLOBAL_JVM_ARGS} gives the child's JVM options.
   */
  static DstoreTarget start(Duration timeout, List<String> args, List<String> defaultJvmOptions)
      throws IOException, InterruptedException {
    List<String> command =
        ChildJvm.command(GlobalChild.class, args, GLOBAL_JVM_ARGS, defaultJvmOptions);
    Path stderrLog = Files.createTempFile("dstore-bench-global-", ".log");
    Process process =
        childProcess(command).redirectError(ProcessBuilder.Redirect.to(stderrLog.toFile())).start();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    int[] metricsPort = {-1};
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                  if (line.startsWith(GlobalChild.METRICS_PORT_LINE)) {
                    metricsPort[0] =
                        Integer.parseInt(
                            line.substring(GlobalChild.METRICS_PORT_LINE.length()).trim());
                  }
                  if (!port.isDone() && line.startsWith(GlobalChild.PORT_LINE)) {
                    port.complete(
                        Integer.parseInt(line.substring(GlobalChild.PORT_LINE.length()).trim()));
                  }
                }
              } catch (IOException | RuntimeException e) {
                port.completeExceptionally(e);
              }
              port.completeExceptionally(new IOException("the Global child exited"));
            },
            "dstore-bench-global-stdout");
    reader.setDaemon(true);
    reader.start();
    try {
      int p = port.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      // The metrics line comes before the port line, from the same reader thread.
      return new DstoreTarget(process, "127.0.0.1:" + p, stderrLog, metricsPort[0]);
    } catch (Exception e) {
      Procs.stop(process, 2000);
      String log = tail(stderrLog);
      throw new BenchException(
          "the dstore Global child JVM did not start within "
              + timeout.toSeconds()
              + " s"
              + (log.isBlank() ? "" : "; its stderr ends with:\n" + log),
          e);
    }
  }

  String address() {
    return address;
  }

  /** The port of the child's {@code /metrics}, or -1 when it was started without. */
  int metricsPort() {
    return metricsPort;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** Resident memory of the Global's JVM now. */
  OptionalLong rssBytes() {
    return Procs.rssBytes(process.pid());
  }

  /**
   * A caching Local with a cache of {@code cacheBytes}, returned once it holds its lease (so hits
   * can be served).
   */
  DstoreClient caching(String name, long cacheBytes) {
    DstoreOptions options = DstoreOptions.builder().name(name).cacheSizeBytes(cacheBytes).build();
    DstoreClient c = new DstoreClient(Dstore.connect(address, options));
    c.awaitLease(Duration.ofSeconds(30));
    return c;
  }

  /** A Local that caches nothing (cache size 0) but otherwise is a full, subscribed Local. */
  DstoreClient uncached(String name) {
    return caching(name, 0);
  }

  /** A thin client: no cache, no subscription, every call forwarded to Global. */
  DstoreClient thin(String name) {
    DstoreOptions options = DstoreOptions.builder().name(name).coherentCache(false).build();
    return new DstoreClient(Dstore.connect(address, options));
  }

  @Override
  public void close() {
    try {
      process.getOutputStream().close(); // the child stops at end of input
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        Procs.stop(process, 2000);
      }
    } catch (InterruptedException e) {
      Procs.stop(process, 0);
      Thread.currentThread().interrupt();
    }
    try {
      Files.deleteIfExists(stderrLog);
    } catch (IOException e) {
      // a temp file; harmless
    }
  }

  /** Stops the child at once; for the shutdown hook. */
  void kill() {
    Procs.stop(process, 1000);
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  /** A dstore {@link Dstore} as a {@link KvClient}. */
  static final class DstoreClient implements KvClient {
    private final Dstore dstore;

    DstoreClient(Dstore dstore) {
      this.dstore = dstore;
    }

    Dstore dstore() {
      return dstore;
    }

    void awaitLease(Duration timeout) {
      try {
        dstore.awaitReady(timeout);
      } catch (DstoreException e) {
        dstore.close();
        throw new BenchException(
            "a dstore Local did not get its lease from Global within "
                + timeout.toSeconds()
                + " s ("
                + e.getMessage()
                + ")",
            e);
      }
    }

    @Override
    public byte[] get(BenchKey key) {
      try {
        return dstore.get(key.bytes());
      } catch (DstoreException e) {
        if (e.code() == ErrorCode.NOT_FOUND) {
          return null;
        }
        throw e;
      }
    }

    @Override
    public byte[] readCopy(BenchKey key) {
      return get(key); // dstore's get already returns a copy of the cached bytes
    }

    @Override
    public boolean read(BenchKey key) {
      try {
        return dstore.getBuffer(key.bytes()).hasRemaining();
      } catch (DstoreException e) {
        if (e.code() == ErrorCode.NOT_FOUND) {
          return false;
        }
        throw e;
      }
    }

    @Override
    public void put(BenchKey key, byte[] value) {
      dstore.put(key.bytes(), value);
    }

    @Override
    public void delete(BenchKey key) {
      dstore.delete(key.bytes());
    }

    @Override
    public boolean isCached(BenchKey key) {
      return dstore.isCached(key.bytes());
    }

    @Override
    public CacheCounts cacheCounts() {
      LocalStats s = dstore.stats();
      return new CacheCounts(s.cacheHits(), s.cacheMisses());
    }

    @Override
    public void close() {
      dstore.close();
    }
  }
}
