package io.dstore.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.dstore.server.internal.InvalidationHub;
import io.dstore.server.internal.ServerInternals;
import io.dstore.testing.Await;
import io.dstore.testing.Child;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A frozen Local cannot hurt Global: a {@code dstore local} child is stopped with SIGSTOP (it reads
 * nothing from its subscription, acknowledges nothing, renews nothing) while a Local in this JVM
 * makes many put/delete pairs against a real Global in this JVM. Every strict delete completes
 * within about one lease, since Global waits for the frozen Local only while its lease lasts; when
 * the child is woken (SIGCONT) it serves nothing stale: a deleted key is not found, a kept key is
 * served.
 *
 * <p>Global keeps queueing the frozen Local's invalidations on its subscription until it falls
 * {@code InvalidationHub.MAX_QUEUED_EVENTS} behind (then the stream is cut off and the Local
 * catches up by replay or revalidation); what is queued here stays far below that.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FrozenLocalIT {
  private static final Duration LEASE = GlobalServer.DEFAULT_LEASE;

  /** Scheduling slack on a loaded machine, on top of one lease. */
  private static final Duration MARGIN = Duration.ofMillis(1500);

  /**
   * Put/delete pairs while the Local is frozen: 20,000 in a build; {@code
   * -Ddstore.frozen.pairs=100000} runs the full 100,000 (about a minute more).
   */
  private static final int PAIRS = Integer.getInteger("dstore.frozen.pairs", 20_000);

  private static final int THREADS = 4;
  private static final String MISSING = "Key-Value mapping doesn't exist";
  private static final String KEPT_HIT = "db: kept -> still here";
  private static final String KEPT_FETCHED = "global: kept -> still here     (Updating Local)";

  @Test
  void deletesWaitAtMostOneLeaseForAFrozenLocalWhichServesNothingStaleWhenWoken() throws Exception {
    GlobalServer global =
        GlobalServer.builder()
            .listen("127.0.0.1", 0)
            .storage(Storage.memory())
            .lease(LEASE)
            .startupGrace(Duration.ZERO)
            .build()
            .start();
    InvalidationHub hub = ServerInternals.hub(global);
    try (Child frozen = Child.start("local", "--global", global.address());
        Dstore writer = Dstore.connect(global.address(), DstoreOptions.defaults())) {
      frozen.awaitReady();
      writer.awaitReady(Duration.ofSeconds(30));
      writer.put(bytes("kept"), bytes("still here"));
      writer.put(bytes("gone"), bytes("old"));
      assertThat(frozen.ask("GET kept")).isEqualTo(KEPT_FETCHED);
      assertThat(frozen.ask("GET gone")).isEqualTo("global: gone -> old     (Updating Local)");
      assertThat(frozen.ask("GET gone")).isEqualTo("db: gone -> old");
      Await.until("both Locals subscribed", () -> hub.subscribedCount() == 2);

      signal("-STOP", frozen.pid());
      long start = System.nanoTime();
      writer.delete(bytes("gone"));
      Duration firstDelete = Duration.ofNanos(System.nanoTime() - start);
      assertThat(firstDelete).isLessThanOrEqualTo(LEASE.plus(MARGIN));

      ExecutorService threads = Executors.newFixedThreadPool(THREADS);
      List<Future<Long>> maxima = new ArrayList<>();
      long loop = System.nanoTime();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        Callable<Long> pairs =
            () -> {
              long max = 0;
              for (int i = thread; i < PAIRS; i += THREADS) {
                byte[] key = bytes("k" + i);
                writer.put(key, bytes("v" + i));
                long before = System.nanoTime();
                writer.delete(key);
                max = Math.max(max, System.nanoTime() - before);
              }
              return max;
            };
        maxima.add(threads.submit(pairs));
      }
      long maxDelete = 0;
      for (Future<Long> max : maxima) {
        maxDelete = Math.max(maxDelete, max.get(8, TimeUnit.MINUTES));
      }
      threads.shutdown();
      Duration total = Duration.ofNanos(System.nanoTime() - loop);
      int subscribedWhileFrozen = hub.subscribedCount();
      System.err.printf(
          "FrozenLocalIT: first delete %d ms; %d put/delete pairs in %d ms, longest delete %d ms;"
              + " lease %d ms; subscribed while frozen %d, members %d%n",
          firstDelete.toMillis(),
          PAIRS,
          total.toMillis(),
          TimeUnit.NANOSECONDS.toMillis(maxDelete),
          LEASE.toMillis(),
          subscribedWhileFrozen,
          hub.memberCount());
      assertThat(Duration.ofNanos(maxDelete)).isLessThanOrEqualTo(LEASE.plus(MARGIN));
      // Its lease ran out without a renewal: its subscription was dropped, and nothing more is
      // queued for it.
      assertThat(subscribedWhileFrozen).isEqualTo(1);
      // Once its lease ran out no delete waited for the frozen Local: the pairs together took no
      // more than one lease beyond what they cost anyway.
      assertThat(total).isLessThanOrEqualTo(Duration.ofMillis(PAIRS * 2L).plus(LEASE).plus(MARGIN));

      signal("-CONT", frozen.pid());
      assertThat(frozen.ask("GET gone")).isEqualTo(MISSING);
      assertThat(frozen.ask("GET kept")).isIn(KEPT_HIT, KEPT_FETCHED);
      frozen.awaitReady();
      assertThat(frozen.ask("GET gone")).isEqualTo(MISSING);
      assertThat(frozen.ask("GET k" + (PAIRS - 1))).isEqualTo(MISSING);
      assertThat(frozen.ask("GET kept")).isIn(KEPT_HIT, KEPT_FETCHED);
      Await.until("both Locals subscribed again", () -> hub.subscribedCount() == 2);

      frozen.closeStdin();
      assertThat(frozen.awaitExit()).as(frozen.stderr()).isZero();
    } finally {
      global.close();
    }
  }

  private static void signal(String signal, long pid) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("/bin/kill", signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill " + signal + " " + pid).isZero();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }
}
