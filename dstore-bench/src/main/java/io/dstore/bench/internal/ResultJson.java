package io.dstore.bench.internal;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes results as the harness's JSON and reads them back.
 *
 * <p>A run's file ({@link #writeRun}, schema version {@value #SCHEMA_VERSION}) is an object: {@code
 * schema_version}, {@code rounds}, {@code medians} (one object per cell identity: its median
 * figures, then {@code rounds}, {@code min} and {@code max}, the smallest and largest value of each
 * figure across rounds) and {@code cells} (every cell of every round: {@code round}, then the
 * fields of a result object). {@link #readRun} reads the cells (the medians are recomputed from
 * them) and also accepts the version-1 file, a bare array of result objects, as one round.
 *
 * <p>A result array ({@link #write}; version-1 files, and the local-hit child's result line) has
 * one object per (scenario, system, parameters), each with exactly the fields of {@link #FIELDS},
 * in that order; {@code null} where a figure is not meaningful. Only {@link Result#inJson()}
 * results are written. Rows of the {@code cluster} scenario have one more field, last: {@code
 * cluster}, an object of its own figures ({@link Result#cluster()}). Numbers are written plainly
 * (no exponent), rounded to four decimals. The reader accepts any well-formed JSON of that shape
 * and rejects objects with missing or unknown fields, naming them. Stateless; thread-safe.
 */
public final class ResultJson {
  /** The fields of every object, in the order written. */
  public static final List<String> FIELDS =
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

  /** The {@code schema_version} that {@link #writeRun} writes and {@link #readRun} accepts. */
  public static final int SCHEMA_VERSION = 2;

  /** The extra field of {@code cluster} rows (and of no other). */
  static final String CLUSTER_FIELD = "cluster";

  private ResultJson() {}

  /** The JSON array of the results that belong in the JSON, pretty-printed, one object a line. */
  public static String write(List<Result> results) {
    StringBuilder out = new StringBuilder("[");
    boolean first = true;
    for (Result r : results) {
      if (!r.inJson()) {
        continue;
      }
      out.append(first ? "\n  " : ",\n  ");
      first = false;
      writeObject(out, r);
    }
    return out.append(first ? "]\n" : "\n]\n").toString();
  }

  /**
   * The JSON document of a run: the median of each cell across rounds and every cell of every round
   * (see the class comment). Only {@link Result#inJson()} cells are written.
   */
  public static String writeRun(List<Rounds.RoundResult> cells) {
    List<Rounds.RoundResult> kept = cells.stream().filter(c -> c.result().inJson()).toList();
    StringBuilder out = new StringBuilder("{\n");
    out.append("  \"schema_version\": ").append(SCHEMA_VERSION).append(",\n");
    out.append("  \"rounds\": ").append(Rounds.count(kept)).append(",\n");
    out.append("  \"medians\": [");
    boolean first = true;
    for (Rounds.Row row : Rounds.aggregate(kept)) {
      out.append(first ? "\n    " : ",\n    ");
      first = false;
      Map<String, Object> fields = fields(row.median());
      fields.put("rounds", row.rounds());
      Map<String, Object> min = new LinkedHashMap<>();
      Map<String, Object> max = new LinkedHashMap<>();
      row.spreads()
          .forEach(
              (name, spread) -> {
                min.put(name, spread.min());
                max.put(name, spread.max());
              });
      fields.put("min", min);
      fields.put("max", max);
      writeFields(out, fields);
    }
    out.append(first ? "],\n" : "\n  ],\n");
    out.append("  \"cells\": [");
    first = true;
    for (Rounds.RoundResult c : kept) {
      out.append(first ? "\n    " : ",\n    ");
      first = false;
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("round", c.round());
      fields.putAll(fields(c.result()));
      writeFields(out, fields);
    }
    out.append(first ? "]\n" : "\n  ]\n");
    return out.append("}\n").toString();
  }

  /**
   * Parses a run's document written by {@link #writeRun}, or a version-1 file (a bare array of
   * result objects, read as round 1).
   *
   * @throws IllegalArgumentException saying where and why the text is not such a document, or
   *     naming the schema version when it is not one this version reads
   */
  public static List<Rounds.RoundResult> readRun(String json) {
    Object doc = new JsonParser(json).parseDocument();
    if (doc instanceof List<?> list) {
      return Rounds.oneRound(results(list));
    }
    if (!(doc instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(
          "expected a JSON object (schema_version "
              + SCHEMA_VERSION
              + ") or an array of results at the top level");
    }
    Object version = m.get("schema_version");
    if (!(version instanceof Number n) || n.doubleValue() != SCHEMA_VERSION) {
      throw new IllegalArgumentException(
          "schema_version "
              + version
              + " is not one this version of dstore bench reads (it reads "
              + SCHEMA_VERSION
              + ", and bare arrays of results from version 1)");
    }
    if (!(m.get("cells") instanceof List<?> cells)) {
      throw new IllegalArgumentException("'cells' must be an array");
    }
    List<Rounds.RoundResult> out = new ArrayList<>(cells.size());
    for (int i = 0; i < cells.size(); i++) {
      if (!(cells.get(i) instanceof Map<?, ?> cell)) {
        throw new IllegalArgumentException("cells element " + i + " is not a JSON object");
      }
      Map<Object, Object> rest = new LinkedHashMap<>(cell);
      Object round = rest.remove("round");
      if (!(round instanceof Long r) || r < 1 || r > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "cells element " + i + ": round must be an integer >= 1, got " + round);
      }
      try {
        out.add(new Rounds.RoundResult(r.intValue(), toResult(i, rest)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("cells " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static void writeObject(StringBuilder out, Result r) {
    writeFields(out, fields(r));
  }

  private static Map<String, Object> fields(Result r) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("scenario", r.scenario().id());
    fields.put("system", r.system().id());
    fields.put("threads", r.threads());
    fields.put("value_size", r.valueSize());
    fields.put("locals", r.locals());
    fields.put("ops_per_s", r.opsPerSecond());
    fields.put("p50_us", r.p50Micros());
    fields.put("p99_us", r.p99Micros());
    fields.put("p999_us", r.p999Micros());
    fields.put("hit_ratio", r.hitRatio());
    fields.put("bytes_per_s", r.bytesPerSecond());
    fields.put("server_rss_bytes", r.serverRssBytes());
    if (r.scenario() == Scenario.CLUSTER) {
      fields.put(CLUSTER_FIELD, r.cluster());
    }
    return fields;
  }

  private static void writeFields(StringBuilder out, Map<String, Object> fields) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, Object> e : fields.entrySet()) {
      if (!first) {
        out.append(", ");
      }
      first = false;
      writeString(out, e.getKey());
      out.append(": ");
      writeValue(out, e.getValue());
    }
    out.append('}');
  }

  static void writeValue(StringBuilder out, Object v) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof String s) {
      writeString(out, s);
    } else if (v instanceof Double d) {
      writeNumber(out, d);
    } else if (v instanceof Float f) {
      writeNumber(out, f.doubleValue());
    } else if (v instanceof Number n) {
      out.append(n.longValue());
    } else if (v instanceof Boolean b) {
      out.append(b.booleanValue());
    } else if (v instanceof Map<?, ?> m) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.append(first ? "" : ", ");
        first = false;
        writeString(out, String.valueOf(e.getKey()));
        out.append(": ");
        writeValue(out, e.getValue());
      }
      out.append('}');
    } else {
      throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
    }
  }

  private static void writeNumber(StringBuilder out, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      out.append("null"); // JSON has no NaN or infinity
      return;
    }
    BigDecimal b = BigDecimal.valueOf(d).setScale(4, RoundingMode.HALF_EVEN).stripTrailingZeros();
    if (b.signum() == 0) {
      out.append('0');
    } else {
      out.append(b.scale() < 0 ? b.setScale(0).toPlainString() : b.toPlainString());
    }
  }

  static void writeString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /**
   * Parses a document written by {@link #write} (or by hand in the same shape).
   *
   * @throws IllegalArgumentException saying where and why the text is not such a document
   */
  public static List<Result> read(String json) {
    Object doc = new JsonParser(json).parseDocument();
    if (!(doc instanceof List<?> list)) {
      throw new IllegalArgumentException("expected a JSON array of results at the top level");
    }
    return results(list);
  }

  private static List<Result> results(List<?> list) {
    List<Result> results = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> m)) {
        throw new IllegalArgumentException("element " + i + " is not a JSON object");
      }
      results.add(toResult(i, m));
    }
    return results;
  }

  private static Result toResult(int index, Map<?, ?> m) {
    Set<?> keys = new java.util.LinkedHashSet<>(m.keySet());
    Object cluster = m.get(CLUSTER_FIELD);
    boolean clusterRow = "cluster".equals(m.get("scenario"));
    if (clusterRow) {
      if (!(cluster instanceof Map<?, ?>)) {
        throw new IllegalArgumentException(
            "element " + index + ": a cluster row needs an object field '" + CLUSTER_FIELD + "'");
      }
      keys.remove(CLUSTER_FIELD);
    }
    List<String> missing = new ArrayList<>();
    for (String f : FIELDS) {
      if (!keys.contains(f)) {
        missing.add(f);
      }
    }
    List<Object> unknown = new ArrayList<>();
    for (Object k : keys) {
      if (!FIELDS.contains(k)) {
        unknown.add(k);
      }
    }
    if (!missing.isEmpty() || !unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "element " + index + ": missing fields " + missing + ", unknown fields " + unknown);
    }
    try {
      return new Result(
          Scenario.parse(string(m, "scenario")),
          SystemId.parse(string(m, "system")),
          (int) number(m, "threads").longValue(),
          number(m, "value_size").longValue(),
          m.get("locals") == null ? null : (int) number(m, "locals").longValue(),
          number(m, "ops_per_s").doubleValue(),
          optionalDouble(m, "p50_us"),
          optionalDouble(m, "p99_us"),
          optionalDouble(m, "p999_us"),
          optionalDouble(m, "hit_ratio"),
          optionalDouble(m, "bytes_per_s"),
          m.get("server_rss_bytes") == null ? null : number(m, "server_rss_bytes").longValue(),
          null,
          Map.of(),
          clusterRow ? clusterFigures((Map<?, ?>) cluster) : Map.of());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("element " + index + ": " + e.getMessage(), e);
    }
  }

  private static Map<String, Object> clusterFigures(Map<?, ?> m) {
    Map<String, Object> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(String.valueOf(k), v));
    return out;
  }

  private static String string(Map<?, ?> m, String field) {
    if (m.get(field) instanceof String s) {
      return s;
    }
    throw new IllegalArgumentException(field + " must be a string");
  }

  private static Number number(Map<?, ?> m, String field) {
    if (m.get(field) instanceof Number n) {
      return n;
    }
    throw new IllegalArgumentException(field + " must be a number");
  }

  private static Double optionalDouble(Map<?, ?> m, String field) {
    return m.get(field) == null ? null : number(m, field).doubleValue();
  }
}
