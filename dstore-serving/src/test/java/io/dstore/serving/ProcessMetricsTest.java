package io.dstore.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/** {@link ProcessMetrics} publishes the JVM's and the process's meters under their usual names. */
class ProcessMetricsTest {
  @Test
  void jvmAndProcessMetersAreScraped() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (ProcessMetrics bound = ProcessMetrics.bindTo(registry)) {
      assertThat(registry.scrape())
          .contains("jvm_memory_used_bytes{")
          .contains("jvm_memory_max_bytes{")
          .contains("jvm_threads_live_threads ")
          .contains("jvm_classes_loaded_classes ")
          .contains("jvm_gc_")
          .contains("process_cpu_usage ")
          .contains("process_uptime_seconds ")
          .contains("process_start_time_seconds ")
          .contains("process_files_open_files ");
      bound.close();
      bound.close(); // idempotent
    } finally {
      registry.close();
    }
  }
}
