package io.dstore.internal;

import com.github.benmanes.caffeine.cache.Ticker;
import io.dstore.DstoreOptions;
import io.dstore.server.Coherence;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * An in-process Global over a {@link HoldingStorage}, and Locals connected to it. Global can be
 * stopped and started again over the same storage, under the same name, as a restart would.
 */
final class LocalFixture implements AutoCloseable {
  final String name = "global-" + UUID.randomUUID();
  final HoldingStorage storage = new HoldingStorage(Storage.memory());
  private final Coherence coherence;
  private final int invalidationLog;
  private final List<LocalStore> locals = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  GlobalServer server;

  LocalFixture(Coherence coherence) throws IOException {
    this(coherence, GlobalServer.DEFAULT_INVALIDATION_LOG);
  }

  /** With Global keeping only the last {@code invalidationLog} invalidations for replay. */
  LocalFixture(Coherence coherence, int invalidationLog) throws IOException {
    this.coherence = coherence;
    this.invalidationLog = invalidationLog;
    // A brand-new store: no Local can hold a lease from an earlier run, so no grace is needed.
    start(Duration.ZERO);
  }

  /** Starts Global again, as a restart: it waits out the leases of its previous run. */
  void restartGlobal() throws IOException {
    start(Duration.ofSeconds(2));
  }

  private void start(Duration grace) throws IOException {
    server =
        GlobalServer.builder()
            .inProcess(name)
            .storage(storage)
            .coherence(coherence)
            .lease(Duration.ofSeconds(2))
            .startupGrace(grace)
            .invalidationLogSize(invalidationLog)
            .build()
            .start();
  }

  void stopGlobal() {
    server.close();
  }

  LocalStore local() {
    return local(DstoreOptions.defaults(), Ticker.systemTicker());
  }

  LocalStore local(DstoreOptions options, Ticker ticker) {
    return local(options, ticker, new Partition());
  }

  /** A Local whose every call to Global fails while {@code partition} is cut. */
  LocalStore local(DstoreOptions options, Ticker ticker, Partition partition) {
    ManagedChannel channel = InProcessChannelBuilder.forName(name).intercept(partition).build();
    channels.add(channel);
    LocalStore local =
        LocalStore.create(
            name,
            channel,
            options.toBuilder()
                .reconnectBackoff(Duration.ofMillis(5), Duration.ofMillis(50))
                .nanoClock(ticker::read)
                .build());
    locals.add(local);
    return local;
  }

  /** A Local that holds its lease, so cache hits are served. */
  LocalStore leasedLocal() {
    LocalStore local = local();
    awaitLease(local);
    return local;
  }

  static void awaitLease(LocalStore local) {
    local.awaitReady(Duration.ofSeconds(20));
  }

  @Override
  public void close() {
    for (LocalStore l : locals) {
      l.close();
    }
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    server.close();
    storage.closeForReal();
  }
}
