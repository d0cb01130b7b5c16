package io.dstore.server.internal.cluster;

import io.dstore.server.ClusterConfig;
import io.dstore.server.Coherence;
import io.dstore.server.Storage;
import io.dstore.server.internal.DeleteCoordinator;
import io.dstore.server.internal.Deletes;
import io.dstore.server.internal.InvalidationHub;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything that makes a Global server a gateway of the cluster store, put together in the order
 * it needs: the etcd and S3 clients, this gateway's membership ({@link Gateway}), the storage
 * ({@link ClusterStore}), the hub's cluster settings, the deletes across gateways ({@link
 * ClusterDeletes}) and the blob collector. {@code GlobalServer} asks it for each piece while it
 * starts, and closes it last.
 */
public final class ClusterGateway implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterGateway.class);

  private final ClusterConfig config;
  private final ClusterClients clients;
  private final EtcdLayout layout;
  private final Gateway gateway;
  private final ClusterStore store;
  private final LongSupplier nanoClock;
  private final ScheduledExecutorService timers;
  private BlobCollector collector;
  private ClusterDeletes deletes;

  /** The collector's own thread: a slow S3 listing must not hold up leases and heartbeats. */
  private final ScheduledExecutorService collectorThread =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "dstore-blob-collector");
            t.setDaemon(true);
            return t;
          });

  private ClusterGateway(
      ClusterConfig config,
      ClusterClients clients,
      EtcdLayout layout,
      Gateway gateway,
      ClusterStore store,
      LongSupplier nanoClock,
      ScheduledExecutorService timers) {
    this.config = config;
    this.clients = clients;
    this.layout = layout;
    this.gateway = gateway;
    this.store = store;
    this.nanoClock = nanoClock;
    this.timers = timers;
  }

  /**
   * Connects to etcd and S3 and joins the cluster.
   *
   * @throws IOException if etcd cannot be reached or refuses
   */
  public static ClusterGateway open(
      ClusterConfig config,
      Duration localLease,
      LongSupplier nanoClock,
      ScheduledExecutorService timers)
      throws IOException {
    ClusterClients clients = ClusterClients.open(config);
    try {
      EtcdLayout layout = new EtcdLayout(config.etcdPrefix());
      Gateway gateway =
          Gateway.join(
              clients.etcd(),
              layout,
              config.leaseTtl(),
              localLease,
              nanoClock,
              timers,
              Duration.ofSeconds(30));
      ClusterStore store =
          new ClusterStore(
              clients.etcd(), clients.s3(), config, layout, gateway::leaseId, clients.stats());
      return new ClusterGateway(config, clients, layout, gateway, store, nanoClock, timers);
    } catch (IOException | RuntimeException e) {
      clients.close();
      throw e;
    }
  }

  public Storage storage() {
    return store;
  }

  /** The hub for this gateway: the cluster's incarnation, seqs from its watch, its lease fence. */
  public InvalidationHub newHub(long leaseNanos, long renewIntervalMillis, int logCapacity) {
    return new InvalidationHub(
        leaseNanos,
        renewIntervalMillis,
        logCapacity,
        nanoClock,
        timers,
        gateway.clusterId(),
        gateway.replayFloor(),
        gateway.fence());
  }

  /**
   * Starts the watch, the timers and the collector; returns the deletes {@code GlobalService} must
   * use. {@code localWaits} awaits this gateway's own Locals (its startup grace must be zero: a
   * gateway starts with no Locals).
   */
  public Deletes start(
      InvalidationHub hub,
      Coherence coherence,
      DeleteCoordinator localWaits,
      Executor executor,
      InstantSource wallClock)
      throws IOException {
    deletes = new ClusterDeletes(clients.etcd(), layout, gateway, store, coherence, executor);
    gateway.run(hub, localWaits, deletes, coherence);
    gateway.awaitJoined(Duration.ofSeconds(30));
    collector = new BlobCollector(store, collectorThread, wallClock);
    collector.start();
    return deletes;
  }

  /** Publishes the address Locals reach this gateway at. */
  public void announce(String address) {
    gateway.announce(address);
    log.info(
        "gateway {} of cluster {} serves at {}; etcd {}, blobs {}",
        gateway.id(),
        gateway.clusterId(),
        address,
        config.etcdEndpoints(),
        config.blobsUrl());
  }

  /** Gauges for the gateway's state: fencing, watch, the gateways deletes wait for. */
  public void bindMetrics(MeterRegistry registry) {
    Gauge.builder("dstore.gateway.granting", gateway, g -> g.granting() ? 1 : 0)
        .description("1 while this gateway may grant Local leases (etcd lease held, watch current)")
        .register(registry);
    Gauge.builder("dstore.gateway.watch.revision", gateway, g -> (double) g.appliedRevision())
        .description("the etcd revision this gateway's watch has applied")
        .register(registry);
    Gauge.builder("dstore.gateway.acknowledged.revision", gateway, g -> (double) g.appliedAck())
        .description("the revision this gateway last acknowledged to the others")
        .register(registry);
    Gauge.builder("dstore.gateway.watch.lag.revisions", gateway, g -> (double) g.watchLag())
        .description("etcd's latest revision (as last seen) minus the watch's")
        .register(registry);
    Gauge.builder("dstore.gateway.watch.lag.seconds", gateway, Gateway::watchLagSeconds)
        .description("time since a write of this gateway last came back through its watch")
        .register(registry);
    Gauge.builder("dstore.gateway.peers", gateway, g -> (double) g.gateways().size())
        .description("live gateways of the cluster, this one included")
        .register(registry);
    Gauge.builder(
            "dstore.gateway.deletes.waiting_for",
            this,
            c -> c.deletes == null ? 0 : c.deletes.waitedFor().size())
        .description("gateways the oldest strict delete of this gateway still waits for")
        .register(registry);
    clients.stats().bind(registry);
  }

  @Override
  public void close() {
    if (deletes != null) {
      deletes.close();
    }
    if (collector != null) {
      collector.close();
    }
    collectorThread.shutdownNow();
    gateway.close();
    store.close();
    clients.close();
  }
}
