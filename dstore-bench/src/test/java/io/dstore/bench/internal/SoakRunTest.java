package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The soak's arithmetic and parsing: slopes per hour, the upward-trend flag, the metrics page. */
class SoakRunTest {
  private static SoakRun.Sample sample(double minutes, double rss, double p99) {
    return new SoakRun.Sample(minutes, 1_000, 0, p99, rss, 100, 50, 40, 90, 20);
  }

  @Test
  void theSlopeIsPerHourAndTheFirstIntervalIsLeftOutOfTheFit() {
    List<SoakRun.Sample> samples = new ArrayList<>();
    samples.add(sample(1, 5_000, 1)); // warm-up: far off the line, not fitted
    for (int m = 2; m <= 20; m++) {
      samples.add(sample(m, 200 + m, 1)); // 1 MiB per minute
    }
    List<SoakRun.Trend> trends = SoakRun.trends(samples);
    SoakRun.Trend rss = trends.get(0);
    assertThat(rss.series()).isEqualTo("rss_mib");
    assertThat(rss.perHour()).isCloseTo(60, within(1e-9));
    assertThat(rss.upward()).as("grows 18 MiB over a mean of 211").isFalse();
    SoakRun.Trend p99 = trends.get(trends.size() - 1);
    assertThat(p99.series()).isEqualTo("p99_ms");
    assertThat(p99.perHour()).isZero();
    assertThat(p99.upward()).isFalse();
  }

  @Test
  void aWarmUpIsLeftOutOfTheFitSoAPlateauAfterItIsFlat() {
    List<SoakRun.Sample> samples = new ArrayList<>();
    for (int m = 1; m <= 30; m++) {
      samples.add(sample(m, m <= 10 ? 400 + 10 * m : 500, 1)); // rises for 10 minutes, then flat
    }
    SoakRun.Trend whole = SoakRun.trends(samples).get(0);
    assertThat(whole.perHour()).isPositive();
    assertThat(whole.upward()).isTrue();

    SoakRun.Trend afterWarmup = SoakRun.trends(samples, Duration.ofMinutes(10)).get(0);
    assertThat(afterWarmup.perHour()).isZero();
    assertThat(afterWarmup.mean()).isEqualTo(500);
    assertThat(afterWarmup.upward()).isFalse();
  }

  @Test
  void aWarmUpThatLeavesFewerThanThreeSamplesIsIgnored() {
    List<SoakRun.Sample> samples = List.of(sample(1, 10, 1), sample(2, 11, 1), sample(3, 12, 1));
    assertThat(SoakRun.afterWarmup(samples, Duration.ofMinutes(2))).hasSize(3);
    assertThat(SoakRun.afterWarmup(samples, Duration.ZERO)).hasSize(3);
  }

  @Test
  void aSeriesThatGrowsByMoreThanATenthOfItsMeanTrendsUpward() {
    List<SoakRun.Sample> samples = new ArrayList<>();
    for (int m = 1; m <= 10; m++) {
      samples.add(sample(m, 100 + 5 * m, 1 + 0.001 * m));
    }
    assertThat(SoakRun.trend("rss_mib", samples, SoakRun.Sample::rssMiB).upward()).isTrue();
    assertThat(SoakRun.trend("p99_ms", samples, SoakRun.Sample::p99Millis).upward()).isFalse();
  }

  @Test
  void tooFewSamplesGiveNoSlope() {
    SoakRun.Trend t = SoakRun.trend("rss_mib", List.of(sample(1, 1, 1)), SoakRun.Sample::rssMiB);
    assertThat(t.perHour()).isNaN();
    assertThat(t.upward()).isFalse();
  }

  @Test
  void readsHeapLiveDataStorageMemoryFdsAndThreadsFromAPrometheusPage() {
    String page =
        """
        # HELP jvm_memory_used_bytes The amount of used memory
        # TYPE jvm_memory_used_bytes gauge
        jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1000.0
        jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 2000.0
        jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 9999.0
        jvm_gc_live_data_size_bytes 1500.0
        dstore_storage_native_memory_bytes{part="memtables"} 300.0
        dstore_storage_native_memory_bytes{part="block_cache"} 200.0
        process_files_open_files 42.0
        jvm_threads_live_threads 17.0
        """;
    SoakRun.Metrics m = SoakRun.parse(page);
    assertThat(m.heapUsed()).isEqualTo(3000.0);
    assertThat(m.heapLive()).isEqualTo(1500.0);
    assertThat(m.storageNative()).as("the sum of the parts").isEqualTo(500.0);
    assertThat(m.fds()).isEqualTo(42.0);
    assertThat(m.threads()).isEqualTo(17.0);
    assertThat(SoakRun.parse("").heapUsed()).isNaN();
    assertThat(SoakRun.parse("").storageNative()).isNaN();
  }

  @Test
  void theJsonHoldsEverySampleAndTrend() {
    List<SoakRun.Sample> samples = List.of(sample(1, 10, 1), sample(2, 11, 1), sample(3, 12, 1));
    String json =
        SoakRun.json(
            Duration.ofMinutes(3), Duration.ofMinutes(1), samples, SoakRun.trends(samples));
    assertThat(new JsonParser(json).parseDocument()).isInstanceOf(java.util.Map.class);
    assertThat(json)
        .contains("\"scenario\": \"soak\"")
        .contains("\"warmup_seconds\": 60")
        .contains("\"series\": \"rss_mib\"");
  }
}
