package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.testing.Child;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code dstore global} as a process: it says where it listens, serves, and stops on SIGTERM. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GlobalCommandIT {
  private static final Pattern LISTENING =
      Pattern.compile("Dstore server listening on (127\\.0\\.0\\.1:\\d+)");

  @Test
  void servesOneShotCommandsAndExits0OnSigterm() throws Exception {
    try (Child global = Child.start("global", "--listen", "127.0.0.1:0", "--store", "memory")) {
      Matcher m = LISTENING.matcher(global.nextLine());
      assertThat(m.matches()).isTrue();
      String address = m.group(1);
      assertThat(address).doesNotEndWith(":0");

      assertThat(Cli.run("put", "k", "hello", "--global", address).exit()).isZero();
      Cli.Result stat = Cli.run("stat", "k", "--global", address);
      assertThat(stat.out()).startsWith("size: 5\n");

      // A one-shot command as a process too: stdout is the value's bytes and nothing else.
      try (Child get = Child.start("get", "k", "--global", address)) {
        assertThat(get.nextLine()).isEqualTo("hello");
        assertThat(get.stdoutEnded()).isTrue();
        assertThat(get.awaitExit()).as(get.stderr()).isZero();
      }
      try (Child missing = Child.start("get", "nope", "--global", address)) {
        assertThat(missing.stdoutEnded()).isTrue();
        assertThat(missing.awaitExit()).isEqualTo(1);
        assertThat(missing.stderr()).contains("Key 'nope' not found");
      }
      assertThat(Cli.run("del", "k", "--global", address).exit()).isZero();

      global.terminate();
      assertThat(global.stdoutEnded()).isTrue();
      assertThat(global.awaitExit()).as(global.stderr()).isZero();
      assertThat(global.stderr()).contains("Global stopped");
      assertThat(Cli.run("get", "k", "--global", address).exit()).isEqualTo(3);
    }
  }
}
