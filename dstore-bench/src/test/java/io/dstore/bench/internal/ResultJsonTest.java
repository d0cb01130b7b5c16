package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ResultJsonTest {
  private static final ObjectMapper JACKSON = new ObjectMapper();

  private static Result localHit() {
    return new Result(
        Scenario.LOCAL_HIT,
        SystemId.DSTORE,
        2,
        100,
        null,
        12_345_678.9,
        0.11,
        0.29,
        2.15,
        0.99995,
        null,
        1_317_011_456L,
        null,
        Map.of());
  }

  private static Result invalidate() {
    return new Result(
        Scenario.INVALIDATE,
        SystemId.HAZELCAST,
        1,
        100,
        32,
        2_000.5,
        5_000_000.0,
        9_900_000.0,
        9_990_000.0,
        null,
        null,
        null,
        null,
        Map.of("delete p99 us", "812.0"));
  }

  @Test
  void writesExactlyTheSchemaFieldsInOrderAsJsonThatAnotherParserReads() throws Exception {
    String json = ResultJson.write(List.of(localHit(), invalidate()));

    JsonNode doc = JACKSON.readTree(json);
    assertThat(doc.isArray()).isTrue();
    assertThat(doc).hasSize(2);
    for (JsonNode row : doc) {
      List<String> names = new ArrayList<>();
      row.fieldNames().forEachRemaining(names::add);
      assertThat(names).containsExactlyElementsOf(ResultJson.FIELDS);
    }
    JsonNode first = doc.get(0);
    assertThat(first.get("scenario").asText()).isEqualTo("local-hit");
    assertThat(first.get("system").asText()).isEqualTo("dstore");
    assertThat(first.get("threads").asInt()).isEqualTo(2);
    assertThat(first.get("value_size").asLong()).isEqualTo(100);
    assertThat(first.get("locals").isNull()).isTrue();
    assertThat(first.get("ops_per_s").asDouble()).isEqualTo(12_345_678.9);
    assertThat(first.get("p999_us").asDouble()).isEqualTo(2.15);
    assertThat(first.get("hit_ratio").asDouble()).isEqualTo(1.0); // rounded to four decimals
    assertThat(first.get("bytes_per_s").isNull()).isTrue();
    assertThat(first.get("server_rss_bytes").asLong()).isEqualTo(1_317_011_456L);
    JsonNode second = doc.get(1);
    assertThat(second.get("locals").asInt()).isEqualTo(32);
    assertThat(second.get("server_rss_bytes").isNull()).isTrue();
  }

  @Test
  void writesPlainNumbersWithoutExponentsAndNullForNonFiniteValues() {
    Result r =
        new Result(
            Scenario.LARGE,
            SystemId.REDIS,
            1,
            256L << 20,
            null,
            Double.NaN,
            1e-7,
            Double.POSITIVE_INFINITY,
            3.0e10,
            null,
            1.5e9,
            null,
            null,
            Map.of());

    String json = ResultJson.write(List.of(r));

    assertThat(json).doesNotContainIgnoringCase("e+").doesNotContain("E1").doesNotContain("NaN");
    assertThat(json)
        .contains("\"ops_per_s\": null")
        .contains("\"p50_us\": 0,")
        .contains("\"p99_us\": null")
        .contains("\"p999_us\": 30000000000")
        .contains("\"value_size\": 268435456")
        .contains("\"bytes_per_s\": 1500000000");
  }

  @Test
  void leavesOutTableOnlyVariantsAndExtras() throws Exception {
    Result thin =
        new Result(
            Scenario.REMOTE_GET,
            SystemId.DSTORE,
            16,
            100,
            null,
            1000,
            1.0,
            2.0,
            3.0,
            null,
            100_000.0,
            null,
            "dstore-thin",
            Map.of());

    String json = ResultJson.write(List.of(thin, invalidate()));

    assertThat(JACKSON.readTree(json)).hasSize(1);
    assertThat(json).doesNotContain("dstore-thin").doesNotContain("delete p99");
  }

  @Test
  void writesAnEmptyArrayForNoResults() throws Exception {
    assertThat(JACKSON.readTree(ResultJson.write(List.of())).isArray()).isTrue();
    assertThat(ResultJson.read(ResultJson.write(List.of()))).isEmpty();
  }

  @Test
  void readsBackWhatItWrote() {
    List<Result> back = ResultJson.read(ResultJson.write(List.of(localHit(), invalidate())));

    assertThat(back).hasSize(2);
    Result a = back.get(0);
    assertThat(a.scenario()).isEqualTo(Scenario.LOCAL_HIT);
    assertThat(a.system()).isEqualTo(SystemId.DSTORE);
    assertThat(a.threads()).isEqualTo(2);
    assertThat(a.locals()).isNull();
    assertThat(a.opsPerSecond()).isEqualTo(12_345_678.9);
    assertThat(a.p50Micros()).isEqualTo(0.11);
    assertThat(a.serverRssBytes()).isEqualTo(1_317_011_456L);
    Result b = back.get(1);
    assertThat(b.locals()).isEqualTo(32);
    assertThat(b.hitRatio()).isNull();
    assertThat(b.extras()).isEmpty();
  }

  @Test
  void escapesStringsSoTheyParseBack() throws Exception {
    StringBuilder sb = new StringBuilder();
    ResultJson.writeString(sb, "a\"b\\c\nd\u0001é");

    assertThat(JACKSON.readTree(sb.toString()).asText()).isEqualTo("a\"b\\c\nd\u0001é");
    assertThat(new JsonParser(sb.toString()).parseDocument()).isEqualTo("a\"b\\c\nd\u0001é");
  }

  @Test
  void refusesObjectsWithMissingOrUnknownFieldsNamingThem() {
    String missing = "[{\"scenario\": \"put\", \"system\": \"redis\"}]";
    String unknown =
        ResultJson.write(List.of(localHit())).replace("\"threads\"", "\"thread_count\"");

    assertThatThrownBy(() -> ResultJson.read(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing fields")
        .hasMessageContaining("ops_per_s");
    assertThatThrownBy(() -> ResultJson.read(unknown))
        .hasMessageContaining("thread_count")
        .hasMessageContaining("threads");
  }

  @Test
  void refusesMalformedJsonSayingWhere() {
    assertThatThrownBy(() -> ResultJson.read("[{\"scenario\": }]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 1, column 15");
    assertThatThrownBy(() -> ResultJson.read("[] x")).hasMessageContaining("after the document");
    assertThatThrownBy(() -> ResultJson.read("{}")).hasMessageContaining("array");
    assertThatThrownBy(() -> ResultJson.read("[1.]")).hasMessageContaining("digits must follow");
  }

  @Test
  void refusesUnknownScenarioAndSystemNames() {
    String json = ResultJson.write(List.of(localHit()));

    assertThatThrownBy(() -> ResultJson.read(json.replace("local-hit", "local-miss")))
        .hasMessageContaining("unknown scenario 'local-miss'");
    assertThatThrownBy(() -> ResultJson.read(json.replace("\"dstore\"", "\"memcached\"")))
        .hasMessageContaining("unknown system 'memcached'");
  }

  private static Result clusterGet() {
    Map<String, Object> figures = new java.util.LinkedHashMap<>();
    figures.put("measure", "get");
    figures.put("gateways", 2);
    figures.put("ratio_to_single", 0.42);
    return new Result(
        Scenario.CLUSTER,
        SystemId.DSTORE_CLUSTER,
        16,
        100,
        2,
        21_000.0,
        700.0,
        3_000.0,
        9_000.0,
        null,
        2_100_000.0,
        null,
        null,
        Map.of("vs single (same Locals)", "0.42x"),
        figures);
  }

  @Test
  void writesTheClusterFieldLastOnClusterRowsOnlyAndReadsItBack() throws Exception {
    String json = ResultJson.write(List.of(localHit(), clusterGet()));

    JsonNode doc = JACKSON.readTree(json);
    List<String> clusterNames = new ArrayList<>();
    doc.get(1).fieldNames().forEachRemaining(clusterNames::add);
    List<String> expected = new ArrayList<>(ResultJson.FIELDS);
    expected.add("cluster");
    assertThat(clusterNames).containsExactlyElementsOf(expected);
    assertThat(doc.get(0).has("cluster")).isFalse();
    assertThat(doc.get(1).get("system").asText()).isEqualTo("dstore-cluster");
    assertThat(doc.get(1).get("cluster").get("measure").asText()).isEqualTo("get");
    assertThat(doc.get(1).get("cluster").get("ratio_to_single").asDouble()).isEqualTo(0.42);

    Result back = ResultJson.read(json).get(1);
    assertThat(back.scenario()).isEqualTo(Scenario.CLUSTER);
    assertThat(back.system()).isEqualTo(SystemId.DSTORE_CLUSTER);
    assertThat(back.cluster())
        .containsEntry("measure", "get")
        .containsEntry("gateways", 2L)
        .containsEntry("ratio_to_single", 0.42);
  }

  @Test
  void refusesAClusterRowWithoutItsClusterFieldAndTheFieldOnOtherRows() {
    String json = ResultJson.write(List.of(clusterGet()));
    String without = json.substring(0, json.indexOf(", \"cluster\"")) + "}\n]\n";
    String onLocalHit =
        ResultJson.write(List.of(localHit())).replace("}\n]", ", \"cluster\": {}}\n]");

    assertThatThrownBy(() -> ResultJson.read(without)).hasMessageContaining("'cluster'");
    assertThatThrownBy(() -> ResultJson.read(onLocalHit))
        .hasMessageContaining("unknown fields [cluster]");
  }

  private static List<Rounds.RoundResult> twoRounds() {
    Result slower =
        new Result(
            Scenario.LOCAL_HIT,
            SystemId.DSTORE,
            2,
            100,
            null,
            10_000_000.0,
            0.2,
            0.4,
            3.0,
            1.0,
            null,
            1_000_000_000L,
            null,
            Map.of());
    return List.of(
        new Rounds.RoundResult(1, localHit()),
        new Rounds.RoundResult(1, invalidate()),
        new Rounds.RoundResult(2, slower));
  }

  @Test
  void writesEveryCellOfEveryRoundWithItsRoundAndTheMediansWithTheirRange() throws Exception {
    String json = ResultJson.writeRun(twoRounds());

    JsonNode doc = JACKSON.readTree(json);
    assertThat(doc.get("schema_version").asInt()).isEqualTo(ResultJson.SCHEMA_VERSION);
    assertThat(doc.get("rounds").asInt()).isEqualTo(2);
    JsonNode cells = doc.get("cells");
    assertThat(cells).hasSize(3);
    List<String> cellFields = new ArrayList<>(List.of("round"));
    cellFields.addAll(ResultJson.FIELDS);
    for (JsonNode cell : cells) {
      List<String> names = new ArrayList<>();
      cell.fieldNames().forEachRemaining(names::add);
      assertThat(names).containsExactlyElementsOf(cellFields);
    }
    assertThat(cells).extracting(c -> c.get("round").asInt()).containsExactly(1, 1, 2);
    JsonNode medians = doc.get("medians");
    assertThat(medians).hasSize(2);
    JsonNode hit = medians.get(0);
    List<String> medianFields = new ArrayList<>(ResultJson.FIELDS);
    medianFields.addAll(List.of("rounds", "min", "max"));
    List<String> names = new ArrayList<>();
    hit.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactlyElementsOf(medianFields);
    assertThat(hit.get("rounds").asInt()).isEqualTo(2);
    assertThat(hit.get("ops_per_s").asDouble()).isEqualTo((12_345_678.9 + 10_000_000) / 2);
    assertThat(hit.get("min").get("ops_per_s").asDouble()).isEqualTo(10_000_000);
    assertThat(hit.get("max").get("ops_per_s").asDouble()).isEqualTo(12_345_678.9);
    assertThat(hit.get("min").has("bytes_per_s")).isFalse(); // never measured
    assertThat(medians.get(1).get("rounds").asInt()).isEqualTo(1);
  }

  @Test
  void readsBackTheRoundsItWrote() {
    List<Rounds.RoundResult> back = ResultJson.readRun(ResultJson.writeRun(twoRounds()));

    assertThat(back).extracting(Rounds.RoundResult::round).containsExactly(1, 1, 2);
    assertThat(back.get(0).result().opsPerSecond()).isEqualTo(12_345_678.9);
    assertThat(back.get(1).result().locals()).isEqualTo(32);
    assertThat(back.get(2).result().p99Micros()).isEqualTo(0.4);
    assertThat(Rounds.aggregate(back).get(0).median().opsPerSecond())
        .isEqualTo((12_345_678.9 + 10_000_000) / 2);
  }

  @Test
  void readsAVersionOneFileABareArrayAsOneRound() {
    List<Rounds.RoundResult> back =
        ResultJson.readRun(ResultJson.write(List.of(localHit(), invalidate())));

    assertThat(back).extracting(Rounds.RoundResult::round).containsExactly(1, 1);
    assertThat(back.get(0).result().scenario()).isEqualTo(Scenario.LOCAL_HIT);
  }

  @Test
  void refusesAnotherSchemaVersionSayingWhichItReads() {
    String future =
        ResultJson.writeRun(twoRounds()).replace("\"schema_version\": 2", "\"schema_version\": 3");

    assertThatThrownBy(() -> ResultJson.readRun(future))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("schema_version 3")
        .hasMessageContaining("reads 2");
    assertThatThrownBy(() -> ResultJson.readRun("{\"cells\": []}"))
        .hasMessageContaining("schema_version null");
  }

  @Test
  void refusesACellWithoutAnIntegerRoundOrWithABadField() {
    String json = ResultJson.writeRun(twoRounds());

    assertThatThrownBy(() -> ResultJson.readRun(json.replace("\"round\": 2", "\"round\": \"2\"")))
        .hasMessageContaining("cells element 2: round must be an integer >= 1");
    assertThatThrownBy(() -> ResultJson.readRun(json.replace("\"round\": 2", "\"round\": 0")))
        .hasMessageContaining("cells element 2: round must be an integer >= 1, got 0");
    assertThatThrownBy(() -> ResultJson.readRun(json.replace("\"threads\"", "\"thread_count\"")))
        .hasMessageContaining("cells element 0")
        .hasMessageContaining("thread_count");
  }
}
