package io.dstore.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.testing.MetricsPage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One Global and one Local daemon (in this JVM, over sockets), and two client processes: the second
 * one's read of the first one's value is served from the daemon's cache.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DaemonTwoProcessesIT {
  private GlobalServer global;
  private Dstore local;
  private DstoreDaemon daemon;

  @BeforeEach
  void start() throws Exception {
    global = GlobalServer.builder().listen("127.0.0.1", 0).build().start();
    local = Dstore.connect(global.address(), DstoreOptions.defaults());
    local.awaitReady(Duration.ofSeconds(20));
    daemon =
        DstoreDaemon.builder()
            .listen("127.0.0.1", 0)
            .local(local)
            .metricsListen("127.0.0.1", 0)
            .build()
            .start();
  }

  @AfterEach
  void stop() {
    daemon.close();
    local.close();
    global.close();
  }

  @Test
  void theSecondProcessReadsTheFirstOnesValueFromTheDaemonsCache() throws Exception {
    assertThat(runClient("put", daemon.address(), "greeting", "hello-from-one")).startsWith("PUT ");
    assertThat(runClient("get", daemon.address(), "greeting"))
        .isEqualTo("GOT hello-from-one fromCache=true");
    assertThat(global.storage().keyCount()).isEqualTo(1);

    MetricsPage metrics =
        MetricsPage.fetch("http://127.0.0.1:" + daemon.metricsPort() + "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("dstore_cache_hits_total 1.0")
        .contains("dstore_requests_seconds_count{op=\"get\",status=\"OK\"} 1")
        // A histogram, for histogram_quantile; and the JVM's and the process's meters.
        .containsPattern("dstore_requests_seconds_bucket\\{[^}]*le=\"0.001\"[^}]*\\} ")
        .contains("jvm_memory_used_bytes{")
        .contains("jvm_threads_live_threads ")
        .contains("process_uptime_seconds ");
  }

  /** Runs {@link DaemonClientMain} in a child JVM and returns its one line of output. */
  private static String runClient(String... args) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("-Xmx128m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(DaemonClientMain.class.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("client exit code, output: %s", out).isZero();
      return out;
    } finally {
      p.destroyForcibly();
    }
  }
}
