package io.dstore.cli;

import io.dstore.LocalStats;
import java.util.Locale;

/** How the REPL's {@code .stats} shows a {@link LocalStats}: a table, or one line for scripts. */
final class StatsFormat {
  private StatsFormat() {}

  /** {@code key=value} pairs on one line, raw numbers, for scripts. */
  static String oneLine(LocalStats s) {
    return String.format(
        Locale.ROOT,
        "hits=%d misses=%d hit_ratio=%.1f%% entries=%d bytes=%d/%d evictions=%d connected=%b"
            + " lease_valid=%b lease_remaining_ms=%d last_seq=%d invalidations=%d gaps=%d"
            + " replays=%d revalidations=%d reconnects=%d lag_p50_us=%d lag_p99_us=%d"
            + " lag_max_us=%d",
        s.cacheHits(),
        s.cacheMisses(),
        s.hitRatio() * 100,
        s.cachedEntries(),
        s.cachedBytes(),
        s.cacheCapacityBytes(),
        s.evictions(),
        s.connected(),
        s.leaseValid(),
        s.leaseRemainingMillis(),
        s.lastAppliedSeq(),
        s.invalidationsApplied(),
        s.gapsDetected(),
        s.replays(),
        s.revalidations(),
        s.reconnects(),
        s.lagP50Micros(),
        s.lagP99Micros(),
        s.lagMaxMicros());
  }

  /** A few labelled lines, sizes for people, for the interactive REPL. */
  static String table(LocalStats s) {
    return String.join(
        "\n",
        String.format(
            Locale.ROOT,
            "cache        %d hits, %d misses (hit ratio %.1f%%), %d entries, %s of %s, %d evictions",
            s.cacheHits(),
            s.cacheMisses(),
            s.hitRatio() * 100,
            s.cachedEntries(),
            Sizes.format(s.cachedBytes()),
            Sizes.format(s.cacheCapacityBytes()),
            s.evictions()),
        String.format(
            Locale.ROOT,
            "connection   %s, lease %s, %d reconnects",
            s.connected() ? "connected" : "not connected",
            s.leaseValid() ? "valid (" + s.leaseRemainingMillis() + " ms left)" : "not valid",
            s.reconnects()),
        String.format(
            Locale.ROOT,
            "coherence    last seq %d, %d invalidations applied, %d gaps, %d replays,"
                + " %d revalidations",
            s.lastAppliedSeq(),
            s.invalidationsApplied(),
            s.gapsDetected(),
            s.replays(),
            s.revalidations()),
        String.format(
            Locale.ROOT,
            "lag          p50 %d us, p99 %d us, max %d us (Global's delete to this Local applying it)",
            s.lagP50Micros(),
            s.lagP99Micros(),
            s.lagMaxMicros()));
  }
}
