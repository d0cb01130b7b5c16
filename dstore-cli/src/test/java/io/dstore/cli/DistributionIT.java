package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution archive as a user gets it: unpacked with {@code tar} into a temporary folder
 * away from the source tree, then {@code bin/dstore} run from there with the JDK that runs this
 * test, as {@code JAVA_HOME}. Needs the archive of this build: runs after {@code package}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DistributionIT {
  /** How long one {@code bin/dstore} run may take before it is killed and the test fails. */
  private static final long RUN_SECONDS = 60;

  /** A line of THIRD-PARTY.txt: {@code (licence) ... name (group:artifact:version - url)}. */
  private static final Pattern THIRD_PARTY_LINE =
      Pattern.compile("^\\s+\\(.+\\) .* \\(([^:()\\s]+):([^:()\\s]+):([^:()\\s]+) - .*\\)$");

  @TempDir static Path work;

  private static Path home;
  private static Path targetLib;

  @BeforeAll
  static void unpack() throws Exception {
    Path archive =
        Path.of(
            System.getProperty(
                "dstore.dist.archive", "target/dstore-" + Version.number() + ".tar.gz"));
    assertThat(archive).as("built by `package`").isRegularFile();
    targetLib = archive.toAbsolutePath().getParent().resolve("lib");
    Result tar = run(work, List.of("tar", "-xzf", archive.toAbsolutePath().toString()), null);
    assertThat(tar.exit()).as(tar.stderr()).isZero();
    home = work.resolve("dstore-" + Version.number());
  }

  @Test
  void holdsTheLauncherEveryRuntimeJarAndTheirLicences() throws IOException {
    assertThat(home.resolve("bin/dstore")).isExecutable();
    assertThat(home.resolve("README.txt")).content().contains("bin/dstore demo");

    // lib/ is target/lib, which the repository's ./dstore runs with, plus dstore.jar.
    Set<String> expected = jarNames(targetLib);
    expected.add("dstore.jar");
    assertThat(jarNames(home.resolve("lib"))).isEqualTo(expected);

    // THIRD-PARTY.txt names every bundled library that is not dstore's own, with a licence.
    Set<String> listed = new TreeSet<>();
    for (String line : Files.readAllLines(home.resolve("THIRD-PARTY.txt"))) {
      Matcher m = THIRD_PARTY_LINE.matcher(line);
      if (m.matches()) {
        listed.add(m.group(2) + "-" + m.group(3) + ".jar");
      }
    }
    Set<String> thirdParty = new TreeSet<>(expected);
    thirdParty.removeIf(name -> name.startsWith("dstore"));
    assertThat(listed).isEqualTo(thirdParty);
  }

  @Test
  void versionFromAnotherDirectoryAndThroughASymlink() throws Exception {
    Result direct = run(work, List.of(home.resolve("bin/dstore").toString(), "--version"), null);
    assertThat(direct.exit()).as(direct.stderr()).isZero();
    assertThat(direct.stdout()).isEqualTo("dstore v" + Version.number() + "\n");
    // JDK 24+ would warn about sun.misc.Unsafe without the launcher's flag.
    assertThat(direct.stderr()).doesNotContain("WARNING");

    // A relative symlink in another folder, as from /usr/local/bin, run from that folder.
    Path links = Files.createDirectories(work.resolve("links"));
    Files.createSymbolicLink(links.resolve("dstore"), links.relativize(home.resolve("bin/dstore")));
    Result linked = run(links, List.of("./dstore", "--version"), null);
    assertThat(linked.exit()).as(linked.stderr()).isZero();
    assertThat(linked.stdout()).isEqualTo("dstore v" + Version.number() + "\n");
  }

  @Test
  void demoAnswersOneLinePerCommandFromAPipe() throws Exception {
    Result demo =
        run(
            work,
            List.of(home.resolve("bin/dstore").toString(), "demo"),
            "SET k v\nGET k\nSET k other\nDEL k\nGET k\n.version\n.exit\n");
    assertThat(demo.exit()).as(demo.stderr()).isZero();
    assertThat(demo.stdout().lines())
        .as(demo.stderr())
        .containsExactly(
            "Database updated",
            "db: k -> v",
            "Key occupied!",
            "Global mapping removed!",
            "Key-Value mapping doesn't exist",
            "dstore v" + Version.number());
    assertThat(demo.stderr()).contains("dstore demo: an in-memory Global on 127.0.0.1:");
  }

  private static Set<String> jarNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".jar"))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private record Result(int exit, String stdout, String stderr) {}

  /**
   * Runs {@code command} in {@code dir} with this test's JDK as JAVA_HOME and no JAVA_OPTS, {@code
   * input} (if any) written to its stdin through a pipe, which is then closed.
   */
  private static Result run(Path dir, List<String> command, String input) throws Exception {
    Path out = Files.createTempFile(work, "out-", ".txt");
    Path err = Files.createTempFile(work, "err-", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(new ArrayList<>(command))
            .directory(dir.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    Map<String, String> env = builder.environment();
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.remove("JAVA_OPTS");
    Process process = builder.start();
    try (OutputStream stdin = process.getOutputStream()) {
      if (input != null) {
        stdin.write(input.getBytes(StandardCharsets.UTF_8));
      }
    }
    if (!process.waitFor(RUN_SECONDS, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError(
          command + " did not end within " + RUN_SECONDS + " s; stderr:\n" + Files.readString(err));
    }
    return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
  }
}
