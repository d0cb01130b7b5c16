package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dstore global --token-file} in this JVM; one-shot commands and the REPL with the right
 * token (from {@code --token-file} or {@code DSTORE_TOKEN}), a wrong one and none.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TokenTest {
  private static final String TOKEN = "s3cret-Token_42";
  private static final String WRONG = "not-the-token";

  @TempDir static Path dir;
  private static Background global;
  private static String address;
  private static Path right;
  private static Path wrong;

  @BeforeAll
  static void startGlobal() throws Exception {
    right = Files.writeString(dir.resolve("token"), TOKEN + "\n"); // a trailing newline is fine
    wrong = Files.writeString(dir.resolve("wrong"), WRONG);
    global =
        Background.start(
            "global",
            "--listen",
            "127.0.0.1:0",
            "--store",
            "memory",
            "--token-file",
            right.toString());
    address = global.awaitOut(Background.GLOBAL_LISTENING);
  }

  @AfterAll
  static void stopGlobal() throws Exception {
    assertThat(global.stop()).isZero();
    assertThat(global.err.text()).doesNotContain(TOKEN);
  }

  private static Cli.Result run(Map<String, String> environment, String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--global";
    all[args.length + 1] = address;
    Cli.Result r = Cli.runWithEnvironment(environment, new byte[0], all);
    assertThat(r.err()).doesNotContain(TOKEN);
    return r;
  }

  private static Cli.Result run(String... args) {
    return run(Map.of(), args);
  }

  @Test
  void theRightTokenFromAFileIsAccepted() {
    Cli.Result put = run("put", "file-token", "v", "--token-file", right.toString());
    assertThat(put.exit()).as("%s", put).isZero();
    Cli.Result get = run("get", "file-token", "--token-file", right.toString());
    assertThat(get.exit()).as("%s", get).isZero();
    assertThat(get.out()).isEqualTo("v");
  }

  @Test
  void aWrongTokenExits4AndWritesNothing() {
    Cli.Result put = run("put", "wrong-token", "v", "--token-file", wrong.toString());
    assertThat(put.exit()).as("%s", put).isEqualTo(4);
    assertThat(put.err()).startsWith("Authentication failed: ");
    assertThat(put.err().strip()).doesNotContain("\n");
    assertThat(run("get", "wrong-token", "--token-file", right.toString()).exit())
        .as("the refused put wrote nothing")
        .isEqualTo(1);
  }

  @Test
  void noTokenExits4() {
    Cli.Result get = run("get", "anything");
    assertThat(get.exit()).as("%s", get).isEqualTo(4);
    assertThat(get.err()).startsWith("Authentication failed: ");
    for (String command : new String[] {"stat", "del"}) {
      assertThat(run(command, "anything").exit()).as(command).isEqualTo(4);
    }
  }

  @Test
  void theTokenMayComeFromTheEnvironment() {
    Map<String, String> env = Map.of(Credentials.TOKEN_VARIABLE, TOKEN);
    Cli.Result put = run(env, "put", "env-token", "v");
    assertThat(put.exit()).as("%s", put).isZero();
    assertThat(run(env, "get", "env-token").out()).isEqualTo("v");

    Cli.Result wrongEnv = run(Map.of(Credentials.TOKEN_VARIABLE, WRONG), "get", "env-token");
    assertThat(wrongEnv.exit()).isEqualTo(4);
    assertThat(wrongEnv.err()).startsWith("Authentication failed: ");
  }

  @Test
  void theTokenFileWinsOverTheEnvironment() {
    Map<String, String> env = Map.of(Credentials.TOKEN_VARIABLE, WRONG);
    Cli.Result put = run(env, "put", "both", "v", "--token-file", right.toString());
    assertThat(put.exit()).as("%s", put).isZero();
  }

  @Test
  void theReplWithAWrongTokenAnswersAuthenticationFailedForEachCommand() {
    Cli.Result r =
        run(
            "SET repl-wrong v\nGET repl-wrong\nDEL repl-wrong\n.version\n"
                .getBytes(StandardCharsets.UTF_8),
            "local",
            "--token-file",
            wrong.toString());
    assertThat(r.exit()).as("%s", r).isZero();
    String[] lines = r.out().split("\n");
    assertThat(lines).as("%s", r).hasSize(4);
    for (int i = 0; i < 3; i++) {
      assertThat(lines[i]).startsWith("Authentication failed: ");
    }
    assertThat(lines[3]).isEqualTo("dstore v" + Version.number());
    assertThat(r.err())
        .contains("Authentication failed: ")
        .contains("--token-file or DSTORE_TOKEN");
    assertThat(run("get", "repl-wrong", "--token-file", right.toString()).exit()).isEqualTo(1);
  }

  @Test
  void theReplWithTheRightTokenWorks() {
    Cli.Result r =
        run(
            "SET repl-right v\nGET repl-right\n".getBytes(StandardCharsets.UTF_8),
            "local",
            "--token-file",
            right.toString());
    assertThat(r.exit()).as("%s", r).isZero();
    assertThat(r.out()).isEqualTo("Database updated\ndb: repl-right -> v\n");
    assertThat(r.err()).doesNotContain("Authentication");
  }

  @Test
  void tokenFilesThatCannotBeUsedAreUsageErrorsThatNeverShowTheToken() throws Exception {
    Path missing = dir.resolve("missing");
    Cli.Result noFile = run("get", "k", "--token-file", missing.toString());
    assertThat(noFile.exit()).isEqualTo(2);
    assertThat(noFile.err())
        .isEqualTo(
            "Cannot read the --token-file file " + missing + ": no such file or directory\n");

    Path empty = Files.writeString(dir.resolve("empty"), " \n");
    Cli.Result blank = run("get", "k", "--token-file", empty.toString());
    assertThat(blank.exit()).isEqualTo(2);
    assertThat(blank.err()).contains("is empty");

    Path spaced = Files.writeString(dir.resolve("spaced"), "two words");
    Cli.Result bad = run("get", "k", "--token-file", spaced.toString());
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("printable ASCII").doesNotContain("two").doesNotContain("words");

    Cli.Result server = Cli.run("global", "--store", "memory", "--token-file", missing.toString());
    assertThat(server.exit()).isEqualTo(2);
    assertThat(server.err()).startsWith("Cannot read the --token-file file " + missing);
  }

  private static Cli.Result run(byte[] stdin, String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--global";
    all[args.length + 1] = address;
    Cli.Result r = Cli.runWithEnvironment(Map.of(), stdin, all);
    assertThat(r.err()).doesNotContain(TOKEN);
    assertThat(r.out()).doesNotContain(TOKEN);
    return r;
  }
}
