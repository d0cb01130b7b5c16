package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The REPL in pipe mode, in this JVM: {@code local} and {@code demo} with a script on stdin. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReplTest {
  private static TestGlobal global;

  @BeforeAll
  static void startGlobal() {
    global = TestGlobal.start();
  }

  @AfterAll
  static void stopGlobal() {
    global.close();
  }

  private static Cli.Result repl(String script, String... args) {
    return Cli.run(script.getBytes(StandardCharsets.UTF_8), args);
  }

  private static Cli.Result local(String script) {
    return repl(script, "local", "--global", global.address(), "--name", "repl-test");
  }

  @Test
  void oneResultLinePerCommandAndNothingElseOnStdout() {
    Cli.Result r =
        local(
            String.join(
                "\n",
                "SET greeting hello  world ",
                "",
                "get greeting",
                "Put greeting again",
                "DEL greeting",
                "o greeting",
                "rm greeting",
                "   ",
                ".version",
                "FOO bar",
                "SET lonely",
                ".help",
                ".stats",
                ""));
    assertThat(r.exit()).as("%s", r).isZero();
    String[] lines = r.out().split("\n", -1);
    assertThat(lines)
        .as("%s", r)
        .hasSize(12) // 11 results and the empty string after the last newline
        .startsWith(
            "Database updated",
            "db: greeting -> hello  world ",
            "Key occupied!",
            "Global mapping removed!",
            "Key-Value mapping doesn't exist",
            "Key-Value mapping doesn't exist",
            "dstore v" + Version.number(),
            "Unknown command 'FOO': type .help for the list",
            "Usage: SET KEY VALUE",
            ReplCommand.Help.LINE);
    assertThat(lines[10]).startsWith("hits=1 misses=1 ").contains(" connected=true ");
    assertThat(lines[11]).isEmpty();
  }

  @Test
  void valuesFromGlobalSayWhereTheyCameFromAndPrintOnOneLine() {
    assertThat(Cli.run("put", "two-lines", "a\nb", "--global", global.address()).exit()).isZero();
    Cli.Result r = local("GET two-lines\nGET two-lines\n");
    assertThat(r.out())
        .isEqualTo("global: two-lines -> a\\nb     (Updating Local)\ndb: two-lines -> a\\nb\n");
  }

  @Test
  void setOfAKeyOnlyInGlobalUpdatesTheLocal() {
    assertThat(Cli.run("put", "elsewhere", "v", "--global", global.address()).exit()).isZero();
    Cli.Result r = local("SET elsewhere w\nGET elsewhere\n");
    assertThat(r.out()).isEqualTo("(Updated local) Key occupied!\ndb: elsewhere -> v\n");
  }

  @Test
  void exitStopsReadingAndExits0() {
    Cli.Result r = local("SET before-exit 1\n.exit\nSET after-exit 2\n");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("Database updated\n");
    assertThat(Cli.run("get", "after-exit", "--global", global.address()).exit()).isEqualTo(1);
  }

  @Test
  void invalidKeysGetOneLine() {
    Cli.Result r = local("GET " + "k".repeat(1025) + "\n");
    assertThat(r.out()).isEqualTo("Invalid key: a key is 1 to 1024 bytes, this one is 1025\n");
  }

  @Test
  void anUnreachableGlobalIsReportedAndTheReplKeepsGoing() {
    String dead = "127.0.0.1:" + TestGlobal.deadPort();
    Cli.Result r = repl("SET k v\nGET k\nDEL k\n.version\n", "local", "--global", dead);
    assertThat(r.exit()).isZero();
    String[] lines = r.out().split("\n");
    assertThat(lines).hasSize(4);
    for (int i = 0; i < 3; i++) {
      assertThat(lines[i]).startsWith("Global unreachable: ").contains(dead);
    }
    assertThat(lines[3]).isEqualTo("dstore v" + Version.number());
    assertThat(r.err()).contains("is not reachable yet");
  }

  @Test
  void demoRunsAnInMemoryGlobalAndALocal() {
    Cli.Result r = repl("SET a 1\nGET a\nDEL a\nGET a\n", "demo");
    assertThat(r.exit()).as("%s", r).isZero();
    assertThat(r.out())
        .isEqualTo(
            "Database updated\ndb: a -> 1\nGlobal mapping removed!\n"
                + "Key-Value mapping doesn't exist\n");
    assertThat(r.err()).contains("dstore demo: an in-memory Global on 127.0.0.1:");
  }
}
