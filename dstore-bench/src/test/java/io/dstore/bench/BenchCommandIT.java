package io.dstore.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Smoke test of the harness: runs {@code dstore bench --quick --rounds 2} on the two cheapest
 * scenarios, in process, with a tiny time budget, against real servers on loopback (a dstore Global
 * child JVM, redis-server when installed, an embedded Hazelcast member), and checks what a user
 * gets: the exit code, the table of medians, the progress by round, and a JSON file of the exact
 * schema. It checks that figures exist and are positive, never how large they are.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES) // two rounds; a loaded machine slows child JVM starts
class BenchCommandIT {
  private static final List<String> FIELDS =
      List.of(
          "scenario",
          "system",
          "threads",
          "value_size",
          "locals",
          "ops_per_s",
          "p50_us",
          "p99_us",
          "p999_us",
          "hit_ratio",
          "bytes_per_s",
          "server_rss_bytes");

  @TempDir static Path dir;
  private static Path json;
  private static int exitCode;
  private static String stdout;
  private static String stderr;
  private static JsonNode doc;
  private static JsonNode cells;

  private static int run(StringWriter out, StringWriter err, String... args) {
    CommandLine cmd = new CommandLine(new BenchCommand());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  @BeforeAll
  static void runTheQuickBenchmark() throws Exception {
    json = dir.resolve("out/results.json");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    exitCode =
        run(
            out,
            err,
            "--quick",
            "--rounds",
            "2",
            "--scenario",
            "local-hit,remote-get",
            "--duration-scale",
            "0.05",
            "--json",
            json.toString());
    stdout = out.toString();
    stderr = err.toString();
    if (Files.exists(json)) {
      doc = new ObjectMapper().readTree(Files.readString(json));
      cells = doc.get("cells");
    }
  }

  private static List<JsonNode> rows(String scenario, String system) {
    return StreamSupport.stream(cells.spliterator(), false)
        .filter(r -> r.get("scenario").asText().equals(scenario))
        .filter(r -> r.get("system").asText().equals(system))
        .toList();
  }

  @Test
  void exitsZeroAndPrintsATablePerScenario() {
    assertThat(exitCode).as("stderr:%n%s", stderr).isZero();
    assertThat(stdout).contains("== local-hit").contains("== remote-get").contains("ops/s");
    assertThat(stdout).doesNotContain("== put").doesNotContain("== mixed");
  }

  @Test
  void runsEachScenarioInTwoRoundsAndPrintsMediansWithTheirSpread() {
    assertThat(stderr).contains("round 1/2: local-hit").contains("round 2/2: remote-get dstore");
    assertThat(stdout).contains("medians of 2 rounds").contains("±");
  }

  @Test
  void writesEveryCellOfBothRoundsWithExactlyTheSchemaFieldsAndTheirMedians() {
    assertThat(doc).as("stderr:%n%s", stderr).isNotNull();
    assertThat(doc.get("schema_version").asInt()).isEqualTo(2);
    assertThat(doc.get("rounds").asInt()).isEqualTo(2);
    assertThat(cells.isArray()).isTrue();
    assertThat(cells).extracting(c -> c.get("round").asInt()).contains(1, 2).containsOnly(1, 2);
    // One median per cell identity; a system that failed in one round has one cell only.
    assertThat(doc.get("medians").size()).isBetween((cells.size() + 1) / 2, cells.size());
    List<String> fields = new ArrayList<>(List.of("round"));
    fields.addAll(FIELDS);
    for (JsonNode row : cells) {
      List<String> names = new ArrayList<>();
      row.fieldNames().forEachRemaining(names::add);
      assertThat(names).containsExactlyElementsOf(fields);
      assertThat(row.get("scenario").asText()).isIn("local-hit", "remote-get");
      assertThat(row.get("system").asText()).isIn("dstore", "redis", "hazelcast", "caffeine");
      assertThat(row.get("threads").isIntegralNumber()).isTrue();
      assertThat(row.get("value_size").isIntegralNumber()).isTrue();
      assertThat(row.get("locals").isNull()).isTrue(); // only invalidate has locals
      assertThat(row.get("ops_per_s").isNumber()).isTrue();
    }
  }

  @Test
  void hasDstoreAndCaffeineLocalHitRowsThatMeasuredSomething() {
    List<JsonNode> dstore = rows("local-hit", "dstore");
    List<JsonNode> caffeine = rows("local-hit", "caffeine");

    assertThat(dstore).isNotEmpty();
    assertThat(caffeine).isNotEmpty();
    for (JsonNode r : concat(dstore, caffeine)) {
      assertThat(r.get("ops_per_s").asDouble()).isPositive();
      assertThat(r.get("p50_us").asDouble()).isPositive();
      assertThat(r.get("hit_ratio").asDouble()).isEqualTo(1.0); // every read was a local hit
    }
    // dstore's Global runs in a child JVM whose resident memory is reported.
    assertThat(dstore.get(0).get("server_rss_bytes").asLong()).isPositive();
    assertThat(caffeine.get(0).get("server_rss_bytes").isNull()).isTrue();
  }

  @Test
  void hasDstoreRemoteGetRowsForBothValueSizes() {
    List<JsonNode> dstore = rows("remote-get", "dstore");

    assertThat(dstore).extracting(r -> r.get("value_size").asLong()).contains(100L, 65_536L);
    for (JsonNode r : dstore) {
      assertThat(r.get("ops_per_s").asDouble()).isPositive();
      assertThat(r.get("bytes_per_s").asDouble()).isPositive();
    }
  }

  @Test
  void hasHazelcastRows() {
    assertThat(rows("local-hit", "hazelcast")).isNotEmpty();
    assertThat(rows("remote-get", "hazelcast")).isNotEmpty();
  }

  @Test
  void hasRedisRowsWhenRedisServerIsInstalled() {
    assumeTrue(
        redisServerOnPath(),
        "redis-server is not on PATH (install it with scripts/install-redis.sh): the harness skips"
            + " the Redis rows, so there are none to check");
    assertThat(rows("local-hit", "redis")).isNotEmpty();
    assertThat(rows("remote-get", "redis")).isNotEmpty();
    for (JsonNode r : concat(rows("local-hit", "redis"), rows("remote-get", "redis"))) {
      assertThat(r.get("ops_per_s").asDouble()).isPositive();
      assertThat(r.get("server_rss_bytes").asLong()).isPositive();
    }
  }

  @Test
  void saysHowToInstallRedisWhenItIsMissing() {
    assumeTrue(!redisServerOnPath(), "redis-server is installed: nothing is skipped");
    assertThat(stdout).contains("apt-get install redis-server");
  }

  @Test
  void rendersTableAndChartsFromTheSavedJsonWithoutRunningAnything() throws Exception {
    assertThat(json).exists();
    Path charts = dir.resolve("charts");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    int code = run(out, err, "--from-json", json.toString(), "--charts", charts.toString());

    assertThat(code).as("stderr:%n%s", err).isZero();
    assertThat(out.toString()).contains("== local-hit").contains("dstore").contains("caffeine");
    for (String name : List.of("bench-local-hit.png", "bench-remote-get.png")) {
      Path png = charts.resolve(name);
      assertThat(png).exists();
      byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
      assertThat(head).containsExactly(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
    }
  }

  @Test
  void refusesAnUnknownScenarioAsAUsageError() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    int code = run(out, err, "--scenario", "local-miss");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("unknown scenario 'local-miss'").contains("local-hit");
  }

  private static boolean redisServerOnPath() {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":", -1)) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, "redis-server"))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/usr/sbin/redis-server"))
        || Files.isExecutable(Path.of("/usr/local/bin/redis-server"));
  }

  private static List<JsonNode> concat(List<JsonNode> a, List<JsonNode> b) {
    List<JsonNode> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
