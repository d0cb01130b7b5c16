package io.dstore.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.Dstore;
import io.dstore.DstoreMetrics;
import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.testing.Await;
import io.dstore.testing.MetricsPage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Global's /metrics endpoint and a Local's meters, after real traffic over sockets. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsIT {
  private GlobalServer global;
  private Dstore local;

  @BeforeEach
  void start() throws Exception {
    global =
        GlobalServer.builder().listen("127.0.0.1", 0).metricsListen("127.0.0.1", 0).build().start();
    local =
        Dstore.connect(
            global.address(),
            DstoreOptions.builder()
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .build());
    local.awaitReady(Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() {
    local.close();
    global.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private MetricsPage fetch(String path) throws Exception {
    return MetricsPage.fetch("http://127.0.0.1:" + global.metricsPort() + path);
  }

  @Test
  void globalCountsRequestsBytesKeysLocalsAndFanOut() throws Exception {
    local.put(b("a"), b("12345"));
    local.put(b("b"), b("1234567890"));
    local.get(b("a")); // a hit: Global sees no get
    assertThatThrownBy(() -> local.get(b("nope"))) // counted with status NOT_FOUND
        .isInstanceOf(io.dstore.wire.DstoreException.class);
    Dstore other =
        Dstore.connect(global.address(), DstoreOptions.builder().coherentCache(false).build());
    assertThat(other.get(b("b"))).hasSize(10);
    local.delete(b("a"));
    other.close();

    MetricsPage response = fetch("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.contentType()).startsWith("text/plain");
    String text = response.body();
    assertThat(value(text, "dstore_requests_seconds_count", "op=\"put\"", "status=\"OK\""))
        .isEqualTo(2);
    assertThat(value(text, "dstore_requests_seconds_count", "op=\"get\"", "status=\"NOT_FOUND\""))
        .isEqualTo(1);
    assertThat(value(text, "dstore_requests_seconds_count", "op=\"delete\"", "status=\"OK\""))
        .isEqualTo(1);
    assertThat(value(text, "dstore_requests_seconds_count", "op=\"subscribe\"")).isZero(); // open
    assertThat(value(text, "dstore_value_received_bytes_total")).isEqualTo(15);
    assertThat(value(text, "dstore_value_sent_bytes_total")).isEqualTo(10);
    assertThat(value(text, "dstore_stored_keys")).isEqualTo(1);
    assertThat(value(text, "dstore_stored_value_bytes")).isEqualTo(10);
    assertThat(value(text, "dstore_locals_connected")).isEqualTo(1);
    assertThat(value(text, "dstore_invalidation_fanout_seconds_count")).isEqualTo(1);
    assertThat(value(text, "dstore_deletes_pending")).isZero();
    assertThat(fetch("/elsewhere").statusCode()).isEqualTo(404);
  }

  @Test
  void closingALocalEndsItsStreamsAsFinishedCallsNotCancelledOnes() throws Exception {
    // A one-shot client, as the CLI's put and get: its calls travel on the pipeline stream.
    try (Dstore thin =
        Dstore.connect(global.address(), DstoreOptions.builder().coherentCache(false).build())) {
      thin.put(b("once"), b("v"));
      assertThat(thin.get(b("once"))).isEqualTo(b("v"));
    }
    // A coherent Local also ends its subscription.
    Dstore coherent = Dstore.connect(global.address(), DstoreOptions.builder().build());
    Await.until("the second Local's subscription", () -> coherent.stats().leaseValid());
    coherent.close();

    Await.until(
        "the pipeline and the subscription to end",
        () -> {
          String text = global.scrapeMetrics();
          return value(text, "dstore_requests_seconds_count", "op=\"pipeline\"") == 1
              && value(text, "dstore_requests_seconds_count", "op=\"subscribe\"") == 1;
        });
    String text = fetch("/metrics").body();
    assertThat(value(text, "dstore_requests_seconds_count", "op=\"pipeline\"", "status=\"OK\""))
        .isEqualTo(1);
    assertThat(value(text, "dstore_requests_seconds_count", "op=\"subscribe\"", "status=\"OK\""))
        .isEqualTo(1);
    assertThat(text).doesNotContain("status=\"CANCELLED\"");
    // The requests inside the pipeline are in the same histogram, buckets and all.
    assertThat(value(text, "dstore_requests_seconds_count", "op=\"put\"", "status=\"OK\""))
        .isEqualTo(1);
    assertThat(
            value(
                text,
                "dstore_requests_seconds_bucket",
                "op=\"put\"",
                "status=\"OK\"",
                "le=\"+Inf\""))
        .isEqualTo(1);
  }

  @Test
  void aLocalExposesItsCacheFigures() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (DstoreMetrics bound = DstoreMetrics.bind(local, registry)) {
      local.put(b("k"), b("0123456789"));
      local.get(b("k"));
      local.get(b("k"));
      assertThat(registry.get("dstore.cache.hits").functionCounter().count()).isEqualTo(2);
      assertThat(registry.get("dstore.cache.entries").gauge().value()).isEqualTo(1);
      assertThat(registry.get("dstore.cache.size").gauge().value()).isGreaterThanOrEqualTo(10);
      assertThat(registry.get("dstore.lease.valid").gauge().value()).isEqualTo(1);
      assertThat(registry.get("dstore.cache.hit.ratio").gauge().value()).isEqualTo(1.0);
      local.delete(b("k"));
      Await.until(
          "the invalidation to be applied",
          () -> registry.get("dstore.invalidations.applied").functionCounter().count() == 1);
      assertThat(registry.get("dstore.invalidation.lag").tag("quantile", "max").timeGauge())
          .isNotNull();
    }
    assertThat(registry.find("dstore.cache.hits").functionCounter()).isNull();
  }

  /** The value of the one sample of {@code name} whose labels contain all of {@code labels}. */
  private static double value(String text, String name, String... labels) {
    double found = 0;
    int matches = 0;
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(text);
    while (m.find()) {
      String l = m.group(1) == null ? "" : m.group(1);
      boolean all = true;
      for (String label : labels) {
        all &= l.contains(label);
      }
      if (all) {
        found += Double.parseDouble(m.group(2));
        matches++;
      }
    }
    return matches == 0 ? 0 : found;
  }
}
