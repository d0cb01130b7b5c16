package io.dstore;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * Exposes a Local's {@link LocalStats} as Micrometer meters. In Prometheus names: counters {@code
 * dstore_cache_hits_total}, {@code dstore_cache_misses_total}, {@code
 * dstore_cache_evictions_total}, {@code dstore_invalidations_applied_total}, {@code
 * dstore_invalidation_gaps_total}, {@code dstore_subscription_replays_total}, {@code
 * dstore_cache_revalidations_total}, {@code dstore_subscription_reconnects_total}; gauges {@code
 * dstore_cache_entries}, {@code dstore_cache_size_bytes}, {@code dstore_cache_capacity_bytes},
 * {@code dstore_cache_hit_ratio}, {@code dstore_lease_valid} (1 or 0), {@code
 * dstore_subscription_connected} (1 or 0), and {@code dstore_invalidation_lag_seconds} with a
 * {@code quantile} tag of 0.5, 0.99 or max.
 *
 * <p>The meters read {@link Dstore#stats()} when the registry is scraped; nothing is recorded on
 * the read path. Micrometer ({@code micrometer-core}) is an optional dependency of dstore-client:
 * add it to use this class. Thread-safe.
 */
public final class DstoreMetrics implements AutoCloseable {
  private final MeterRegistry registry;
  private final List<Meter> meters;

  private DstoreMetrics(MeterRegistry registry, List<Meter> meters) {
    this.registry = registry;
    this.meters = meters;
  }

  /** Registers the meters of {@code dstore} on {@code registry}. */
  public static DstoreMetrics bind(Dstore dstore, MeterRegistry registry) {
    return bind(dstore, registry, Tags.empty());
  }

  /**
   * Registers the meters of {@code dstore} on {@code registry} with extra {@code tags} (to tell
   * several Locals of one process apart, say).
   */
  public static DstoreMetrics bind(Dstore dstore, MeterRegistry registry, Iterable<Tag> tags) {
    requireNonNull(dstore, "dstore");
    requireNonNull(registry, "registry");
    requireNonNull(tags, "tags");
    List<Meter> meters = new ArrayList<>();
    Binder b = new Binder(dstore, registry, Tags.of(tags), meters);
    b.counter("dstore.cache.hits", "Reads answered from the cache", LocalStats::cacheHits);
    b.counter("dstore.cache.misses", "Reads that went to Global", LocalStats::cacheMisses);
    b.counter("dstore.cache.evictions", "Entries evicted for space", LocalStats::evictions);
    b.counter(
        "dstore.invalidations.applied", "Invalidations applied", LocalStats::invalidationsApplied);
    b.counter(
        "dstore.invalidation.gaps", "Gaps in the invalidation sequence", s -> s.gapsDetected());
    b.counter("dstore.subscription.replays", "Reconnections with a replay", LocalStats::replays);
    b.counter(
        "dstore.cache.revalidations",
        "Batch revalidations after a resync",
        LocalStats::revalidations);
    b.counter(
        "dstore.subscription.reconnects",
        "Subscriptions opened after the first",
        s -> s.reconnects());
    b.gauge("dstore.cache.entries", null, "Entries cached", LocalStats::cachedEntries);
    b.gauge("dstore.cache.size", "bytes", "Bytes of values cached", LocalStats::cachedBytes);
    b.gauge("dstore.cache.capacity", "bytes", "Cache budget", LocalStats::cacheCapacityBytes);
    b.gauge("dstore.cache.hit.ratio", null, "Hits over all reads", LocalStats::hitRatio);
    b.gauge("dstore.lease.valid", null, "1 while the lease is valid", s -> s.leaseValid() ? 1 : 0);
    b.gauge(
        "dstore.subscription.connected",
        null,
        "1 while subscribed and in sync",
        s -> s.connected() ? 1 : 0);
    b.lag("0.5", LocalStats::lagP50Micros);
    b.lag("0.99", LocalStats::lagP99Micros);
    b.lag("max", LocalStats::lagMaxMicros);
    return new DstoreMetrics(registry, List.copyOf(meters));
  }

  /** Removes the meters from the registry. Idempotent. */
  @Override
  public void close() {
    for (Meter m : meters) {
      registry.remove(m);
    }
  }

  private record Binder(Dstore dstore, MeterRegistry registry, Tags tags, List<Meter> meters) {
    void counter(String name, String description, ToDoubleFunction<LocalStats> f) {
      meters.add(
          FunctionCounter.builder(name, dstore, d -> f.applyAsDouble(d.stats()))
              .description(description)
              .tags(tags)
              .register(registry));
    }

    void gauge(
        String name, @Nullable String unit, String description, ToDoubleFunction<LocalStats> f) {
      meters.add(
          Gauge.builder(name, dstore, d -> f.applyAsDouble(d.stats()))
              .baseUnit(unit)
              .description(description)
              .tags(tags)
              .strongReference(true)
              .register(registry));
    }

    void lag(String quantile, ToDoubleFunction<LocalStats> micros) {
      meters.add(
          TimeGauge.builder(
                  "dstore.invalidation.lag",
                  dstore,
                  TimeUnit.MICROSECONDS,
                  d -> micros.applyAsDouble(d.stats()))
              .description("Invalidation lag, from Global's delete to this Local applying it")
              .tags(tags)
              .tag("quantile", quantile)
              .strongReference(true)
              .register(registry));
    }
  }
}
