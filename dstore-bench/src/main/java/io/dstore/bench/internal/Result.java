package io.dstore.bench.internal;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One measured cell: a scenario run on one system with one set of parameters. Immutable.
 *
 * <p>The fields mirror the JSON schema exactly (see {@link ResultJson}); {@code null} means "not
 * meaningful for this cell". Two things are not written to the JSON: {@link #variant()}, which
 * labels an extra configuration of a system shown only in the table (such as dstore's thin client),
 * and {@link #extras()}, extra table columns (such as the delete-call latency of the {@code
 * invalidate} scenario, whose percentile fields hold the invalidation lag).
 *
 * @param scenario the scenario
 * @param system the system measured
 * @param threads client threads
 * @param valueSize bytes per value
 * @param locals caching clients subscribed (the {@code invalidate} scenario), else null
 * @param opsPerSecond operations per second
 * @param p50Micros median latency in microseconds (for {@code invalidate}: invalidation lag)
 * @param p99Micros 99th percentile latency
 * @param p999Micros 99.9th percentile latency
 * @param hitRatio fraction of reads served from the local cache, or null
 * @param bytesPerSecond value bytes moved per second, or null
 * @param serverRssBytes resident memory of the server process, or null where it has none of its own
 * @param variant a label for a configuration kept out of the JSON, or null for the main one
 * @param extras extra table columns, sorted by name (name to formatted value); never in the JSON
 * @param cluster the {@code cluster} scenario's own figures (name to a String or Number: what was
 *     measured, gateways, ratios, failover gaps), written to the JSON as field {@code cluster} on
 *     that scenario's rows only; empty for every other scenario
 */
public record Result(
    Scenario scenario,
    SystemId system,
    int threads,
    long valueSize,
    Integer locals,
    double opsPerSecond,
    Double p50Micros,
    Double p99Micros,
    Double p999Micros,
    Double hitRatio,
    Double bytesPerSecond,
    Long serverRssBytes,
    String variant,
    Map<String, String> extras,
    Map<String, Object> cluster) {

  public Result {
    requireNonNull(scenario, "scenario");
    requireNonNull(system, "system");
    extras = Collections.unmodifiableMap(new TreeMap<>(requireNonNull(extras, "extras")));
    cluster = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(cluster, "cluster")));
  }

  /** A result without cluster figures (every scenario but {@code cluster}). */
  public Result(
      Scenario scenario,
      SystemId system,
      int threads,
      long valueSize,
      Integer locals,
      double opsPerSecond,
      Double p50Micros,
      Double p99Micros,
      Double p999Micros,
      Double hitRatio,
      Double bytesPerSecond,
      Long serverRssBytes,
      String variant,
      Map<String, String> extras) {
    this(
        scenario,
        system,
        threads,
        valueSize,
        locals,
        opsPerSecond,
        p50Micros,
        p99Micros,
        p999Micros,
        hitRatio,
        bytesPerSecond,
        serverRssBytes,
        variant,
        extras,
        Map.of());
  }

  /** This result with {@code label} as its variant (null: the main configuration). */
  public Result withVariant(String label) {
    return with(serverRssBytes, label, extras, cluster);
  }

  /** This result with the server's resident memory {@code bytes} (null where it has none). */
  public Result withServerRss(Long bytes) {
    return with(bytes, variant, extras, cluster);
  }

  /** This result with other table-only columns and cluster figures. */
  public Result withFigures(Map<String, String> moreExtras, Map<String, Object> moreCluster) {
    return with(serverRssBytes, variant, moreExtras, moreCluster);
  }

  private Result with(
      Long rss, String label, Map<String, String> columns, Map<String, Object> figures) {
    return new Result(
        scenario,
        system,
        threads,
        valueSize,
        locals,
        opsPerSecond,
        p50Micros,
        p99Micros,
        p999Micros,
        hitRatio,
        bytesPerSecond,
        rss,
        label,
        columns,
        figures);
  }

  /** Whether this cell belongs in the JSON (the main configuration of its system). */
  public boolean inJson() {
    return variant == null;
  }

  /** The name shown in tables and charts: the system, or its variant label. */
  public String label() {
    return variant != null ? variant : system.id();
  }
}
