package io.dstore.server.internal;

import com.google.protobuf.ByteString;
import io.dstore.proto.GlobalGrpc;
import io.dstore.server.Coherence;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** An in-process Global with a fake clock, and stubs to talk to it. */
final class GlobalFixture implements AutoCloseable {
  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  final GlobalServer server;
  final ManagedChannel channel;
  final GlobalGrpc.GlobalBlockingStub blocking;
  final GlobalGrpc.GlobalStub async;

  GlobalFixture(Coherence coherence, int logSize) throws IOException {
    this(coherence, logSize, Storage.memory());
  }

  GlobalFixture(Coherence coherence, int logSize, Storage storage) throws IOException {
    String name = "global-" + UUID.randomUUID();
    server =
        GlobalServer.builder()
            .inProcess(name)
            .storage(storage)
            .coherence(coherence)
            .lease(Duration.ofSeconds(2))
            .invalidationLogSize(logSize)
            .maxMessageBytes(256 << 10)
            .nanoClock(nanos::get)
            .build()
            .start();
    // Past the start-up grace period, so strict deletes wait only for live leases.
    nanos.addAndGet(Duration.ofSeconds(2).toNanos() + 1);
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    blocking = GlobalGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    async = GlobalGrpc.newStub(channel);
  }

  /** Moves the fake clock on and lets Global act on expired leases. */
  void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
    ServerInternals.hub(server).expireLeases();
  }

  static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.close();
  }
}
