package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol is usable from another language: the Python example client (examples/python), with
 * stubs that protoc generates here from dstore.proto, passes its selftest against a real Global and
 * a real Local daemon, and reads dstore's error codes (NOT_FOUND, ALREADY_EXISTS) from the error
 * trailer rather than guessing them from the status.
 *
 * <p>It needs protoc, the gRPC Python plugin and Python's gRPC runtime ({@code
 * scripts/install-test-deps.sh} installs them). Without them it is skipped, with the reason, only
 * where apt-get is unavailable to install them; under CI (the {@code CI} variable set) or where
 * apt-get is there, it fails instead.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PythonClientIT {
  private static final long PROCESS_SECONDS = 60;

  /** Where a dstore code must come from: the typed trailer. */
  private static final String FROM_TRAILER = " via dstore\\.v1\\.ErrorDetail-bin";

  @TempDir static Path stubs;
  private static Path root;
  private static String python;
  private static GlobalServer global;

  @BeforeAll
  static void generateStubsAndStartGlobal() throws Exception {
    root = repositoryRoot();
    List<String> missing = new ArrayList<>();
    String protoc = onPath("protoc");
    if (protoc == null) {
      missing.add("protoc (Debian package protobuf-compiler)");
    }
    String plugin =
        Files.isExecutable(Path.of("/usr/bin/grpc_python_plugin"))
            ? "/usr/bin/grpc_python_plugin"
            : onPath("grpc_python_plugin");
    if (plugin == null) {
      missing.add("grpc_python_plugin (protobuf-compiler-grpc)");
    }
    python = pythonWithGrpc();
    if (python == null) {
      missing.add("a python3 that can import grpc and google.protobuf (python3-grpcio)");
    }
    if (!missing.isEmpty()) {
      notRunnable("missing " + String.join(", ", missing));
    }

    Run generated =
        run(
            root,
            protoc,
            "-I",
            root.resolve("dstore-proto/src/main/proto").toString(),
            "--python_out=" + stubs,
            "--grpc_python_out=" + stubs,
            "--plugin=protoc-gen-grpc_python=" + plugin,
            "dstore/v1/dstore.proto");
    assertThat(generated.exit()).as("protoc: " + generated.err()).isZero();
    assertThat(stubs.resolve("dstore/v1/dstore_pb2.py")).exists();
    assertThat(stubs.resolve("dstore/v1/dstore_pb2_grpc.py")).exists();

    global =
        GlobalServer.builder()
            .listen("127.0.0.1", 0)
            .storage(Storage.memory())
            .startupGrace(Duration.ZERO)
            .build()
            .start();
  }

  @AfterAll
  static void stopGlobal() {
    if (global != null) {
      global.close();
    }
  }

  @Test
  void theSelftestPassesAgainstGlobalReadingErrorCodesFromTheTrailer() throws Exception {
    Run selftest = client("--target", global.address(), "selftest");
    assertSelftestPassed(selftest);
    assertThat(global.storage().keyCount()).as("the selftest deletes what it created").isZero();
  }

  @Test
  void theSelftestPassesAgainstALocalDaemonToo() throws Exception {
    try (Background daemon =
        Background.start("local", "--global", global.address(), "--listen", "127.0.0.1:0")) {
      String address = daemon.awaitOut(Background.LOCAL_LISTENING);
      assertSelftestPassed(client("--target", address, "selftest"));
    }
    assertThat(global.storage().keyCount()).isZero();
  }

  @Test
  void aFailedCommandExits1NamingTheDstoreCode() throws Exception {
    Run get = client("--target", global.address(), "stat", "no-such-key");
    assertThat(get.exit()).as(get.err()).isEqualTo(1);
    assertThat(get.err()).containsPattern("\\(NOT_FOUND," + FROM_TRAILER + "\\)");
  }

  private static void assertSelftestPassed(Run run) {
    String why = "stdout:\n" + run.out() + "\nstderr:\n" + run.err();
    assertThat(run.exit()).as(why).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).as(why).noneMatch(l -> l.startsWith("FAIL"));
    assertThat(lines)
        .as(why)
        .anyMatch(l -> l.matches("ok put-existing: ALREADY_EXISTS" + FROM_TRAILER))
        .anyMatch(l -> l.matches("ok get-missing: NOT_FOUND" + FROM_TRAILER))
        .anyMatch(l -> l.matches("ok delete-missing: NOT_FOUND" + FROM_TRAILER))
        .anyMatch(l -> l.startsWith("ok put-stream: "))
        .anyMatch(l -> l.startsWith("ok get-stream: ") && l.endsWith("SHA-256 verified"))
        .anyMatch(l -> l.startsWith("ok refuse-negative-size: INVALID_ARGUMENT: PutHeader.size"))
        .anyMatch(l -> l.startsWith("ok refuse-chunk-size: INVALID_ARGUMENT: chunk_size"));
    assertThat(lines.getLast()).as(why).isEqualTo("selftest passed: 14 steps");
  }

  // ---- processes ------------------------------------------------------------------------------

  private record Run(int exit, String out, String err) {}

  private static Run client(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(python);
    command.add("dstore_client.py");
    command.add("--stubs");
    command.add(stubs.toString());
    command.addAll(List.of(args));
    return run(root.resolve("examples/python"), command.toArray(String[]::new));
  }

  private static Run run(Path dir, String... command) throws Exception {
    Path out = Files.createTempFile("python-client", ".out");
    Path err = Files.createTempFile("python-client", ".err");
    try {
      ProcessBuilder b =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      b.environment().remove("DSTORE_TOKEN");
      b.environment().put("PYTHONDONTWRITEBYTECODE", "1"); // no __pycache__ in the work tree
      Process p = b.start();
      if (!p.waitFor(PROCESS_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(
            String.join(" ", command)
                + " did not end within "
                + PROCESS_SECONDS
                + " s; stdout:\n"
                + Files.readString(out)
                + "\nstderr:\n"
                + Files.readString(err));
      }
      return new Run(
          p.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  // ---- tools ----------------------------------------------------------------------------------

  /**
   * Skips the test, printing why, when the tools cannot be installed here; fails when they could be
   * (apt-get is there) or when CI runs it, since CI installs them.
   */
  private static void notRunnable(String reason) {
    String full =
        "PythonClientIT: "
            + reason
            + "; scripts/install-test-deps.sh installs them (Debian packages protobuf-compiler,"
            + " protobuf-compiler-grpc, python3-grpcio, python3-protobuf)";
    if (System.getenv("CI") != null) {
      fail(full + " [CI is set: failing instead of skipping]");
    }
    if (onPath("apt-get") != null) {
      fail(full + " [apt-get is available: run the script]");
    }
    System.out.println(full + " [apt-get unavailable: skipped]");
    Assumptions.abort(full);
  }

  /** The Debian system Python first: a pyenv or virtualenv python3 does not see its packages. */
  private static String pythonWithGrpc() throws Exception {
    List<String> candidates = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/python3"))) {
      candidates.add("/usr/bin/python3");
    }
    String onPath = onPath("python3");
    if (onPath != null) {
      candidates.add(onPath);
    }
    for (String candidate : candidates) {
      Run check = run(root, candidate, "-c", "import grpc, google.protobuf");
      if (check.exit() == 0) {
        return candidate;
      }
    }
    return null;
  }

  private static String onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator, -1)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return candidate.toString();
      }
    }
    return null;
  }

  private static Path repositoryRoot() throws IOException {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("dstore-proto/src/main/proto/dstore/v1/dstore.proto"))
          && Files.exists(p.resolve("examples/python/dstore_client.py"))) {
        return p;
      }
    }
    throw new IOException("no repository root above " + Path.of("").toAbsolutePath());
  }
}
