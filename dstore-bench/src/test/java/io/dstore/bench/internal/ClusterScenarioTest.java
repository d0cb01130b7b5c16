package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The parts of the cluster scenario that need no cluster: parsing, ratios, selection. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClusterScenarioTest {

  private static Result row(
      SystemId system, String measure, int locals, double ops, Double p50, Double p99) {
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("measure", measure);
    figures.put("gateways", system == SystemId.DSTORE ? null : locals);
    return new Result(
        Scenario.CLUSTER,
        system,
        16,
        100,
        locals,
        ops,
        p50,
        p99,
        p99,
        null,
        null,
        null,
        null,
        Map.of(),
        figures);
  }

  @Test
  void readsTheProcessLinesOfDevClusterUpAndSkipsEverythingElse() {
    List<DevCluster.Proc> procs =
        DevCluster.parse(
            List.of(
                "dev-cluster: checking the dstore build",
                "etcd http://127.0.0.1:2379 pid 101",
                "s3 http://127.0.0.1:9000 pid 102",
                "gateway 127.0.0.1:7001 pid 103",
                "gateway 127.0.0.1:7002 pid 104",
                "gateway 127.0.0.1:7003 pid notanumber"));

    assertThat(procs)
        .containsExactly(
            new DevCluster.Proc("etcd", "127.0.0.1:2379", 101),
            new DevCluster.Proc("s3", "127.0.0.1:9000", 102),
            new DevCluster.Proc("gateway", "127.0.0.1:7001", 103),
            new DevCluster.Proc("gateway", "127.0.0.1:7002", 104));
  }

  @Test
  void givesEachClusterRowItsRatioToTheSingleGlobalWithAsManyLocals() {
    List<Result> rows =
        List.of(
            row(SystemId.DSTORE, "get", 1, 1_000, 10.0, 20.0),
            row(SystemId.DSTORE, "get", 2, 2_000, 10.0, 20.0),
            row(SystemId.DSTORE, "strict delete", 32, 100, 1_000.0, 4_000.0),
            row(SystemId.DSTORE_CLUSTER, "get", 1, 500, 10.0, 20.0),
            row(SystemId.DSTORE_CLUSTER, "get", 2, 500, 10.0, 20.0),
            row(SystemId.DSTORE_CLUSTER, "strict delete", 32, 10, 10_000.0, 8_000.0));

    List<Result> out = ClusterScenario.withRatios(rows);

    assertThat(out.subList(0, 3)).isEqualTo(rows.subList(0, 3));
    assertThat(out.get(3).cluster()).containsEntry("ratio_to_single", 0.5);
    assertThat(out.get(3).cluster()).doesNotContainKey("ratio_to_single_1_local");
    assertThat(out.get(4).cluster())
        .containsEntry("ratio_to_single", 0.25)
        .containsEntry("ratio_to_single_1_local", 0.5);
    assertThat(out.get(5).cluster())
        .containsEntry("p50_ratio_to_single", 10.0)
        .containsEntry("p99_ratio_to_single", 2.0);
    assertThat(out.get(5).extras()).containsEntry("delete p50/p99 vs single", "10.0x / 2.0x");
  }

  @Test
  void runsOnlyWhenNamedSinceItNeedsEtcdAndASourceCheckout() {
    assertThat(Scenario.parse("cluster")).isEqualTo(Scenario.CLUSTER);
    assertThat(Scenario.CLUSTER.inDefaultRun()).isFalse();
    assertThat(List.of(Scenario.values()).stream().filter(Scenario::inDefaultRun))
        .doesNotContain(Scenario.CLUSTER)
        .contains(Scenario.LOCAL_HIT, Scenario.MIXED);
  }
}
