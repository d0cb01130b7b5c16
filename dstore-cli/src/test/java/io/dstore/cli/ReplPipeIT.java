package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.Child;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two {@code dstore local} processes driven through pipes against one Global, checking every
 * message of the REPL table in README.md, in order, and that stdout carries nothing but one result
 * line per command.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplPipeIT {
  private static TestGlobal global;

  @BeforeAll
  static void startGlobal() {
    global = TestGlobal.start();
  }

  @AfterAll
  static void stopGlobal() {
    global.close();
  }

  @Test
  void everyMessageOfTheTable() throws Exception {
    try (Child a = Child.start("local", "--global", global.address(), "--name", "A");
        Child b = Child.start("local", "--global", global.address(), "--name", "B")) {
      a.awaitReady();
      b.awaitReady();
      // SET: created, then already in this Local.
      assertThat(a.ask("SET k1 hello world")).isEqualTo("Database updated");
      assertThat(a.ask("set k1 something else")).isEqualTo("Key occupied!");

      // GET on the other Local: fetched from Global, then from its own cache.
      assertThat(b.ask("GET k1")).isEqualTo("global: k1 -> hello world     (Updating Local)");
      assertThat(b.ask("select k1")).isEqualTo("db: k1 -> hello world");
      assertThat(b.ask("PUT k1 x")).isEqualTo("Key occupied!");

      // SET of a key only in Global: the Local now caches it.
      assertThat(a.ask("INSERT k2 v2")).isEqualTo("Database updated");
      assertThat(b.ask("in k2 other")).isEqualTo("(Updated local) Key occupied!");
      assertThat(b.ask("O k2")).isEqualTo("db: k2 -> v2");

      // GET and DEL of a key nowhere; DEL reaches the other Local's cache.
      assertThat(a.ask("OUTPUT nowhere")).isEqualTo("Key-Value mapping doesn't exist");
      assertThat(a.ask("DEL k1")).isEqualTo("Global mapping removed!");
      assertThat(b.ask("out k1")).isEqualTo("Key-Value mapping doesn't exist");
      assertThat(a.ask("delete k1")).isEqualTo("Key-Value mapping doesn't exist");
      assertThat(b.ask("rem k2")).isEqualTo("Global mapping removed!");
      assertThat(a.ask("get k2")).isEqualTo("Key-Value mapping doesn't exist");

      // Aliases and values with spaces.
      assertThat(a.ask("i k3  two  spaces ")).isEqualTo("Database updated");
      assertThat(b.ask("Get k3")).isEqualTo("global: k3 ->  two  spaces      (Updating Local)");
      assertThat(a.ask("REMOVE k3")).isEqualTo("Global mapping removed!");
      assertThat(a.ask("RM k3")).isEqualTo("Key-Value mapping doesn't exist");
      assertThat(a.ask("D k3")).isEqualTo("Key-Value mapping doesn't exist");

      // Blank lines print nothing: the next line read answers the next command.
      a.send("");
      a.send("   ");
      assertThat(a.ask(".version")).isEqualTo("dstore v" + Version.number());
      assertThat(a.ask(".stats"))
          .matches(
              "hits=\\d+ misses=\\d+ hit_ratio=\\d+\\.\\d% entries=\\d+ bytes=\\d+/268435456"
                  + " evictions=\\d+ connected=true lease_valid=true lease_remaining_ms=\\d+"
                  + " last_seq=\\d+ invalidations=\\d+ gaps=0 replays=\\d+ revalidations=\\d+"
                  + " reconnects=\\d+ lag_p50_us=\\d+ lag_p99_us=\\d+ lag_max_us=\\d+");
      String bStats = b.ask(".stats");
      long applied = Long.parseLong(bStats.replaceAll(".* invalidations=(\\d+) .*", "$1"));
      assertThat(applied).as(bStats).isGreaterThanOrEqualTo(2); // at least k1's and k2's
      assertThat(a.ask(".help")).isEqualTo(ReplCommand.Help.LINE);
      assertThat(a.ask("FOO bar")).isEqualTo("Unknown command 'FOO': type .help for the list");
      assertThat(a.ask("SET k4")).isEqualTo("Usage: SET KEY VALUE");
      assertThat(a.ask("GET")).isEqualTo("Usage: GET KEY");

      // End of input: exit 0, and nothing more on stdout (no banner, no prompt).
      a.closeStdin();
      b.closeStdin();
      assertThat(a.stdoutEnded()).isTrue();
      assertThat(b.stdoutEnded()).isTrue();
      assertThat(a.awaitExit()).as(a.stderr()).isZero();
      assertThat(b.awaitExit()).as(b.stderr()).isZero();
      assertThat(a.stderr()).doesNotContain("db > ").doesNotContain("Exception");
    }
  }

  @Test
  void exitCommandEndsTheSession() throws Exception {
    try (Child a = Child.start("local", "--global", global.address())) {
      assertThat(a.ask("SET bye 1")).isEqualTo("Database updated");
      a.send(".exit");
      assertThat(a.stdoutEnded()).isTrue();
      assertThat(a.awaitExit()).as(a.stderr()).isZero();
    }
  }
}
