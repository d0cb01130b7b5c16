package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.server.internal.ServerInternals;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** put, get, del and stat run in-process against a real Global on a free port. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OneShotCommandsTest {
  private static TestGlobal global;
  private static String address;

  @TempDir Path dir;

  @BeforeAll
  static void startGlobal() {
    global = TestGlobal.start();
    address = global.address();
  }

  @AfterAll
  static void stopGlobal() {
    global.close();
  }

  private static Cli.Result run(String... args) {
    return Cli.run(withGlobal(args));
  }

  private static Cli.Result runWithStdin(byte[] stdin, String... args) {
    return Cli.run(stdin, withGlobal(args));
  }

  private static String[] withGlobal(String... args) {
    return Stream.concat(Stream.of(args), Stream.of("--global", address)).toArray(String[]::new);
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void putGetStatDelete() throws Exception {
    Cli.Result put = run("put", "greeting", "hello world");
    assertThat(put.exit()).as("%s", put).isZero();
    assertThat(put.stdout()).isEmpty();
    assertThat(put.err()).contains("Created 'greeting'");

    Cli.Result get = run("get", "greeting");
    assertThat(get.exit()).as("%s", get).isZero();
    assertThat(get.stdout()).isEqualTo(utf8("hello world")); // the bytes and nothing else
    assertThat(get.err()).isEmpty();

    Cli.Result stat = run("stat", "greeting");
    assertThat(stat.exit()).isZero();
    assertThat(stat.out())
        .startsWith("size: 11\ngeneration: ")
        .endsWith("\nsha256: " + sha256(utf8("hello world")) + "\n");

    Cli.Result del = run("del", "greeting");
    assertThat(del.exit()).as("%s", del).isZero();
    assertThat(del.err()).contains("Deleted 'greeting'");

    Cli.Result gone = run("get", "greeting");
    assertThat(gone.exit()).isEqualTo(1);
    assertThat(gone.stdout()).isEmpty();
    assertThat(gone.err()).isEqualTo("Key 'greeting' not found\n");
  }

  @Test
  void oneShotCommandsLeaveNoLocalRegisteredAtGlobal() {
    assertThat(run("put", "thin", "v").exit()).isZero();
    assertThat(run("get", "thin").exit()).isZero();
    assertThat(ServerInternals.hub(global.server).memberCount()).isZero();
  }

  @Test
  void notFoundAndAlreadyExistsExit1() {
    assertThat(run("put", "once", "first").exit()).isZero();
    Cli.Result again = run("put", "once", "second");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).isEqualTo("Key 'once' already exists\n");
    assertThat(run("get", "once").out()).isEqualTo("first");

    assertThat(run("del", "never").exit()).isEqualTo(1);
    assertThat(run("stat", "never").exit()).isEqualTo(1);
    assertThat(run("get", "never").exit()).isEqualTo(1);
  }

  @Test
  void aValueFromStdin() {
    byte[] value = utf8("line one\nline two\n");
    Cli.Result put = runWithStdin(value, "put", "piped");
    assertThat(put.exit()).as("%s", put).isZero();
    assertThat(run("get", "piped").stdout()).isEqualTo(value);
  }

  @Test
  void casPrintsTheContentKeyAndIsIdempotent() throws Exception {
    String key = "sha256:" + sha256(utf8("blob"));
    Cli.Result first = run("put", "--cas", "blob");
    assertThat(first.exit()).as("%s", first).isZero();
    assertThat(first.out()).isEqualTo(key + "\n");

    Cli.Result second = run("put", "--cas", "blob");
    assertThat(second.exit()).as("%s", second).isZero();
    assertThat(second.out()).isEqualTo(key + "\n");

    Cli.Result piped = runWithStdin(utf8("blob"), "put", "--cas");
    assertThat(piped.exit()).as("%s", piped).isZero();
    assertThat(piped.out()).isEqualTo(key + "\n");

    Path file = Files.write(dir.resolve("blob.txt"), utf8("blob"));
    Cli.Result fromFile = run("put", "--cas", "--file", file.toString());
    assertThat(fromFile.exit()).as("%s", fromFile).isZero();
    assertThat(fromFile.out()).isEqualTo(key + "\n");

    assertThat(run("get", key).out()).isEqualTo("blob");
  }

  @Test
  void casOfALargeFileStreamsIt() throws Exception {
    byte[] value = randomBytes(3 * 1024 * 1024 + 5, 7);
    Path file = Files.write(dir.resolve("large.bin"), value);
    Cli.Result put = run("put", "--cas", "--file", file.toString());
    assertThat(put.exit()).as("%s", put).isZero();
    assertThat(put.out()).isEqualTo("sha256:" + sha256(value) + "\n");
    assertThat(run("get", put.out().strip()).stdout()).isEqualTo(value);

    Cli.Result again = runWithStdin(value, "put", "--cas");
    assertThat(again.exit()).as("%s", again).isZero();
    assertThat(again.out()).isEqualTo(put.out());
  }

  @Test
  void fileInOutputOutRoundTripByteExact() throws Exception {
    byte[] value = randomBytes(5 * 1024 * 1024 + 17, 42);
    Path in = Files.write(dir.resolve("in.bin"), value);
    Cli.Result put = run("put", "blob.bin", "--file", in.toString());
    assertThat(put.exit()).as("%s", put).isZero();

    Path out = dir.resolve("out.bin");
    Cli.Result get = run("get", "blob.bin", "--output", out.toString());
    assertThat(get.exit()).as("%s", get).isZero();
    assertThat(get.stdout()).isEmpty();
    assertThat(Files.readAllBytes(out)).isEqualTo(value);

    assertThat(run("get", "blob.bin").stdout()).isEqualTo(value);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).containsExactlyInAnyOrder(in, out); // no temporary file left
    }
  }

  @Test
  void outputReplacesAnExistingFile() throws Exception {
    assertThat(run("put", "fresh", "new content").exit()).isZero();
    Path out = Files.writeString(dir.resolve("old.txt"), "old content that is longer");
    assertThat(run("get", "fresh", "-o", out.toString()).exit()).isZero();
    assertThat(Files.readString(out)).isEqualTo("new content");
  }

  @Test
  void outputLeavesNoFileWhenTheKeyDoesNotExist() throws Exception {
    Path out = dir.resolve("missing.bin");
    Cli.Result get = run("get", "no-such-key", "--output", out.toString());
    assertThat(get.exit()).isEqualTo(1);
    assertThat(get.err()).isEqualTo("Key 'no-such-key' not found\n");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void outputLeavesAnExistingFileAloneOnFailure() throws Exception {
    Path out = Files.writeString(dir.resolve("keep.txt"), "keep me");
    assertThat(run("get", "no-such-key", "-o", out.toString()).exit()).isEqualTo(1);
    assertThat(Files.readString(out)).isEqualTo("keep me");
  }

  @Test
  void rangeGets() {
    byte[] value = randomBytes(10_000, 3);
    assertThat(run("put", "ranged", "--file", write("ranged", value)).exit()).isZero();

    Cli.Result middle = run("get", "ranged", "--offset", "1000", "--length", "10");
    assertThat(middle.exit()).as("%s", middle).isZero();
    assertThat(middle.stdout()).isEqualTo(java.util.Arrays.copyOfRange(value, 1000, 1010));

    assertThat(run("get", "ranged", "--offset", "9990").stdout())
        .isEqualTo(java.util.Arrays.copyOfRange(value, 9990, 10_000));
    assertThat(run("get", "ranged", "--length", "1k").stdout())
        .isEqualTo(java.util.Arrays.copyOfRange(value, 0, 1024));

    Cli.Result past = run("get", "ranged", "--offset", "9990", "--length", "11");
    assertThat(past.exit()).as("%s", past).isEqualTo(2);
    assertThat(past.err()).startsWith("Invalid argument: ");
  }

  private String write(String name, byte[] value) {
    try {
      return Files.write(dir.resolve(name), value).toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void oversizeKeysExit2() {
    String key = "k".repeat(1025);
    Cli.Result put = run("put", key, "v");
    assertThat(put.exit()).isEqualTo(2);
    assertThat(put.err()).startsWith("Too large: ").contains("1024");
    assertThat(run("get", key).exit()).isEqualTo(2);
    assertThat(run("stat", key).exit()).isEqualTo(2);
    assertThat(run("del", key).exit()).isEqualTo(2);
  }

  @Test
  void usageErrorsExit2WithOneLineAndAHint() {
    String[][] cases = {
      {"put"},
      {"put", "k", "v", "--file", "x"},
      {"put", "--cas", "a", "b"},
      {"get"},
      {"get", "k", "--offset", "ten"},
      {"get", "k", "--length", "-1"},
      {"del", "a", "b"},
      {"stat", "k", "--bogus"},
      {"get", "k", "--global", "nohost"},
      {"get", "k", "--global", "h:0"},
      {"bogus"},
      {}
    };
    for (String[] args : cases) {
      Cli.Result r = Cli.run(args);
      assertThat(r.exit()).as("%s: %s", String.join(" ", args), r).isEqualTo(2);
      String[] lines = r.err().split("\n");
      assertThat(lines).as("%s", r).hasSize(2);
      assertThat(lines[0]).startsWith("dstore");
      assertThat(lines[1]).matches("Try 'dstore( [a-z]+)? --help' for more information\\.");
      assertThat(r.stdout()).isEmpty();
    }
    assertThat(Cli.run("bogus").err()).startsWith("dstore: Unknown command 'bogus'\n");
    assertThat(Cli.run("get", "k", "--offset", "ten").err())
        .startsWith("dstore get: Invalid value for option '--offset': invalid size 'ten'");
  }

  @Test
  void anUnreadableFileExits2() {
    Cli.Result r = run("put", "k", "--file", dir.resolve("nope").toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .isEqualTo("Cannot read " + dir.resolve("nope") + ": no such file or directory\n");
  }

  @Test
  void anUnreachableGlobalExits3Quickly() {
    String dead = "127.0.0.1:" + TestGlobal.deadPort();
    for (String[] args :
        new String[][] {{"put", "k", "v"}, {"get", "k"}, {"del", "k"}, {"stat", "k"}}) {
      String[] withDead =
          Stream.concat(Stream.of(args), Stream.of("--global", dead)).toArray(String[]::new);
      Cli.Result r = Cli.run(withDead);
      assertThat(r.exit()).as("%s", r).isEqualTo(3);
      assertThat(r.err()).startsWith("Global unreachable: ").contains(dead).endsWith("\n");
      assertThat(r.err().strip()).doesNotContain("\n");
    }
  }

  @Test
  void versionAndHelp() {
    Cli.Result version = Cli.run("--version");
    assertThat(version.exit()).isZero();
    assertThat(version.out()).matches("dstore v\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\n");
    assertThat(version.out()).isEqualTo("dstore v" + Version.number() + "\n");

    for (String command : new String[] {"global", "local", "demo", "put", "get", "del", "stat"}) {
      Cli.Result help = Cli.run(command, "--help");
      assertThat(help.exit()).as(command).isZero();
      assertThat(help.out()).as(command).contains("Usage: dstore " + command);
    }
    Cli.Result help = Cli.run("--help");
    assertThat(help.out()).contains("Exit codes:").contains("3   Global unreachable");
  }

  @Test
  void progressBarOnATerminalForLargeTransfers() throws Exception {
    byte[] value = randomBytes(8 * 1024 * 1024, 11);
    Path in = Files.write(dir.resolve("progress.bin"), value);
    AtomicLong clock = new AtomicLong();
    Cli.Result put =
        Cli.run(
            new ByteArrayInputStream(new byte[0]),
            () -> true,
            () -> clock.addAndGet(150_000_000L), // 150 ms pass between two looks at the clock
            withGlobal("put", "progress", "--file", in.toString()));
    assertThat(put.exit()).as("%s", put).isZero();
    String bar = put.err().substring(0, put.err().indexOf("Created 'progress' (8.0 MiB"));
    assertThat(bar).startsWith("\r[").endsWith("\n").contains("100%  8.0/8.0 MiB");
    assertThat(bar.substring(0, bar.length() - 1)).doesNotContain("\n");

    Path out = dir.resolve("progress.out");
    Cli.Result get =
        Cli.run(
            new ByteArrayInputStream(new byte[0]),
            () -> true,
            () -> clock.addAndGet(150_000_000L),
            withGlobal("get", "progress", "-o", out.toString()));
    assertThat(get.exit()).as("%s", get).isZero();
    assertThat(get.err()).startsWith("\r[").endsWith("100%  8.0/8.0 MiB  " + rateAndEta(get.err()));
    assertThat(Files.readAllBytes(out)).isEqualTo(value);
  }

  /** The tail of the last frame after the byte counts, e.g. {@code 13.3 MiB/s ETA 0s\n}. */
  private static String rateAndEta(String err) {
    return err.substring(err.lastIndexOf("MiB  ") + 5);
  }

  @Test
  void noProgressBarWhenStderrIsNoTerminal() throws Exception {
    Path in = Files.write(dir.resolve("quiet.bin"), randomBytes(8 * 1024 * 1024, 12));
    AtomicLong clock = new AtomicLong();
    Cli.Result put =
        Cli.run(
            new ByteArrayInputStream(new byte[0]),
            () -> false,
            () -> clock.addAndGet(150_000_000L),
            withGlobal("put", "quiet", "--file", in.toString()));
    assertThat(put.exit()).isZero();
    assertThat(put.err()).doesNotContain("\r").startsWith("Created 'quiet'");
  }
}
