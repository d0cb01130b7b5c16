package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.Child;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's walkthrough as processes over real sockets: one {@code dstore global} (RocksDB,
 * fsynced) and three {@code dstore local} REPLs driven through pipes. A value set on one Local is
 * fetched once by another and then served locally; a delete on a third reaches both; Global is
 * killed with SIGKILL and restarted on the same data directory, losing nothing it acknowledged, and
 * the Locals reconnect without being restarted.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterIT {
  private static final Pattern LISTENING =
      Pattern.compile("Dstore server listening on (127\\.0\\.0\\.1:(\\d+))");
  private static final String MISSING = "Key-Value mapping doesn't exist";
  private static final int ACKNOWLEDGED = 100;

  @TempDir Path dataDir;

  @Test
  void threeLocalsStayCoherentAndGlobalLosesNothingAcrossKill9() throws Exception {
    Child global = startGlobal("127.0.0.1:0");
    Matcher listening = LISTENING.matcher(global.nextLine());
    assertThat(listening.matches()).as(global.stderr()).isTrue();
    String address = listening.group(1);
    try (Child a = Child.start("local", "--global", address);
        Child b = Child.start("local", "--global", address);
        Child c = Child.start("local", "--global", address)) {
      for (Child local : new Child[] {a, b, c}) {
        local.awaitReady();
      }
      assertThat(a.ask("SET k hello world")).isEqualTo("Database updated");
      assertThat(b.ask("GET k")).isEqualTo("global: k -> hello world     (Updating Local)");
      assertThat(b.ask("GET k")).isEqualTo("db: k -> hello world");
      assertThat(a.ask("GET k")).isEqualTo("db: k -> hello world");
      assertThat(c.ask("DEL k")).isEqualTo("Global mapping removed!");
      assertThat(a.ask("GET k")).isEqualTo(MISSING);
      assertThat(b.ask("GET k")).isEqualTo(MISSING);
      assertThat(c.ask("GET k")).isEqualTo(MISSING);

      // Every SET acknowledged before the kill must survive it.
      for (int i = 0; i < ACKNOWLEDGED; i++) {
        assertThat(a.ask("SET key" + i + " value " + i)).isEqualTo("Database updated");
      }
      assertThat(b.ask("GET key7")).isEqualTo("global: key7 -> value 7     (Updating Local)");
      global.kill();
      assertThat(b.ask("GET key8")).startsWith("Global unreachable: ");

      global = startGlobal(address);
      assertThat(global.nextLine()).as(global.stderr()).isEqualTo(listening.group(0));
      // Every Local must answer from the new Global within a deadline. A Local reconnects when
      // asked (it does not wait out its backoff), but each gets the deadline rather than racing
      // it: c and a have had no call since the kill.
      awaitAnswer(b, "GET key8", "global: key8 -> value 8     (Updating Local)");
      awaitAnswer(c, "GET key0", "global: key0 -> value 0     (Updating Local)");
      awaitAnswer(a, "GET key1", "global: key1 -> value 1     (Updating Local)");
      for (int i = 1; i < ACKNOWLEDGED; i++) {
        assertThat(c.ask("GET key" + i))
            .as("acknowledged before the kill")
            .isEqualTo("global: key" + i + " -> value " + i + "     (Updating Local)");
      }
      // b kept what it had cached and is still valid: once its lease is back, a hit.
      awaitAnswer(b, "GET key7", "db: key7 -> value 7");

      // Coherence after the restart: a delete on one Local reaches the others.
      assertThat(a.ask("DEL key7")).isEqualTo("Global mapping removed!");
      assertThat(b.ask("GET key7")).isEqualTo(MISSING);
      assertThat(c.ask("GET key7")).isEqualTo(MISSING);
      assertThat(c.ask("SET key7 again")).isEqualTo("Database updated");
      assertThat(b.ask("GET key7")).isEqualTo("global: key7 -> again     (Updating Local)");

      for (Child local : new Child[] {a, b, c}) {
        local.closeStdin();
        assertThat(local.awaitExit()).as(local.stderr()).isZero();
      }
    } finally {
      global.close();
    }
  }

  private Child startGlobal(String listen) throws Exception {
    return Child.start(
        "global",
        "--listen",
        listen,
        "--store",
        "rocksdb",
        "--sync",
        "--data-dir",
        dataDir.toString());
  }

  /** Asks {@code command} until it answers {@code expected}, for up to 30 seconds. */
  private static void awaitAnswer(Child local, String command, String expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String answer = local.ask(command);
    while (!answer.equals(expected)) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "'" + command + "' kept answering '" + answer + "', not '" + expected + "'");
      }
      answer = local.ask(command);
    }
  }
}
