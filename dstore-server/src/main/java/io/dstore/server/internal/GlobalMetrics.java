package io.dstore.server.internal;

import io.dstore.proto.GetChunk;
import io.dstore.proto.GetResponse;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutRequest;
import io.dstore.server.Storage;
import io.dstore.serving.ProcessMetrics;
import io.dstore.serving.RequestMetrics;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Global's meters, in Prometheus names:
 *
 * <ul>
 *   <li>{@code dstore_requests_seconds{op,status}}: every call, timed from its start to its status,
 *       and every request inside a pipeline, as a histogram ({@code _bucket{le}}, {@code _count},
 *       {@code _sum}, {@code _max}; see {@link RequestMetrics} for {@code op} and {@code status});
 *   <li>{@code dstore_value_received_bytes_total}, {@code dstore_value_sent_bytes_total}: value
 *       bytes carried by puts and gets;
 *   <li>{@code dstore_stored_keys}, {@code dstore_stored_value_bytes}: what the storage holds;
 *   <li>{@code dstore_storage_native_memory_bytes{part}}: RocksDB's memtables, table readers and
 *       block cache, outside the Java heap (RocksDB storage only);
 *   <li>{@code dstore_locals_connected} (Locals with an open subscription), {@code
 *       dstore_locals_known}, {@code dstore_deletes_pending} (strict deletes waiting for acks),
 *       {@code dstore_connections}, {@code dstore_subscriptions};
 *   <li>{@code dstore_invalidation_fanout_seconds}: from publishing an invalidation to the delete
 *       being allowed to return (every live Local acknowledged, or its lease ran out, in strict
 *       mode; at once in eventual mode), a histogram with the requests' buckets;
 *   <li>{@code dstore_disk_free_bytes}, {@code dstore_disk_watermark_bytes}, {@code
 *       dstore_storage_write_blocked}, {@code dstore_writes_refused_total{reason="no_space"}}: disk
 *       space (see {@link #diskSpace}), when the storage is on a disk;
 *   <li>the JVM's and the process's meters ({@code jvm_*}, {@code process_*}; see {@link
 *       ProcessMetrics}).
 * </ul>
 *
 * <p>Thread-safe; meters are created on first use and cached. {@link #close} unhooks the JVM meters
 * when the server stops.
 */
public final class GlobalMetrics implements AutoCloseable {
  private final MeterRegistry registry;
  private final Timer fanout;
  private final Counter received;
  private final Counter sent;
  private final RequestMetrics requests;
  private final ProcessMetrics process;

  public GlobalMetrics(
      MeterRegistry registry,
      Storage storage,
      InvalidationHub hub,
      IntSupplier connections,
      IntSupplier subscriptions) {
    this.registry = registry;
    this.requests = new RequestMetrics(registry, "Requests by operation and status");
    this.fanout =
        Timer.builder("dstore.invalidation.fanout")
            .description("From publishing an invalidation until the delete may return")
            .serviceLevelObjectives(RequestMetrics.BUCKETS.toArray(new Duration[0]))
            .register(registry);
    this.received =
        Counter.builder("dstore.value.received")
            .baseUnit("bytes")
            .description("Value bytes received by puts")
            .register(registry);
    this.sent =
        Counter.builder("dstore.value.sent")
            .baseUnit("bytes")
            .description("Value bytes sent by gets")
            .register(registry);
    gauge("dstore.stored.keys", null, "Keys stored", storage, s -> s.keyCount());
    gauge("dstore.stored.value", "bytes", "Bytes of values stored", storage, s -> s.valueBytes());
    FunctionCounter.builder("dstore.integrity.errors", storage, s -> s.integrityErrors())
        .description("Reads refused because the stored data of the key is damaged")
        .register(registry);
    gauge(
        "dstore.locals.connected",
        null,
        "Locals with an open subscription",
        hub,
        InvalidationHub::subscribedCount);
    gauge("dstore.locals.known", null, "Locals known", hub, InvalidationHub::memberCount);
    gauge(
        "dstore.deletes.pending",
        null,
        "Strict deletes waiting for acknowledgements",
        hub,
        InvalidationHub::pendingDeletes);
    gauge("dstore.connections", null, "Open client connections", connections, s -> s.getAsInt());
    gauge("dstore.subscriptions", null, "Open subscriptions", subscriptions, s -> s.getAsInt());
    if (storage instanceof NativeMemory nativeMemory) {
      for (String part : nativeMemory.nativeMemoryBytes().keySet()) {
        Gauge.builder(
                "dstore.storage.native.memory",
                nativeMemory,
                n -> n.nativeMemoryBytes().getOrDefault(part, 0L).doubleValue())
            .tag("part", part)
            .baseUnit("bytes")
            .description("Memory the storage holds outside the Java heap (RocksDB), by part")
            .strongReference(true)
            .register(registry);
      }
    }
    this.process = ProcessMetrics.bindTo(registry);
  }

  private <T> void gauge(
      String name, String unit, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(
            name,
            source,
            s -> {
              try {
                return value.applyAsDouble(s);
              } catch (RuntimeException e) {
                return Double.NaN; // the storage was closed under a late scrape
              }
            })
        .baseUnit(unit)
        .description(description)
        .strongReference(true)
        .register(registry);
  }

  /**
   * Registers the disk-space meters: {@code dstore_disk_free_bytes}, {@code
   * dstore_disk_watermark_bytes} (0 when off), {@code dstore_storage_write_blocked} (1 while the
   * storage refuses writes after the disk filled up, until it resumes) and {@code
   * dstore_writes_refused_total{reason="no_space"}}.
   */
  public void diskSpace(DiskSpace space) {
    gauge(
        "dstore.disk.free",
        "bytes",
        "Free space on the data directory's filesystem at the last reading",
        space,
        DiskSpace::freeBytes);
    gauge(
        "dstore.disk.watermark",
        "bytes",
        "Free space below which new values are refused (--min-free-disk; 0: off)",
        space,
        DiskSpace::watermarkBytes);
    gauge(
        "dstore.storage.write.blocked",
        null,
        "1 while the storage refuses writes after running out of disk space, until it resumes",
        space,
        s -> s.storageWriteBlocked() ? 1 : 0);
    FunctionCounter.builder("dstore.writes.refused", space, s -> (double) s.refusals())
        .tag("reason", "no_space")
        .description("New values refused by Global, by reason")
        .register(registry);
  }

  /** Runs {@code publish} and times it until the future it returns completes. */
  <T> CompletableFuture<T> timeFanout(Supplier<CompletableFuture<T>> publish) {
    long start = System.nanoTime();
    CompletableFuture<T> f = publish.get();
    f.whenComplete((x, e) -> fanout.record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
    return f;
  }

  /** Records one request of {@code op} that ended with {@code code} after {@code nanos}. */
  void recordRequest(String op, Status.Code code, long nanos) {
    requests.record(op, code, nanos);
  }

  /** Counts value bytes received outside the interceptor's view (inside a pipeline). */
  void countReceived(long bytes) {
    if (bytes > 0) {
      received.increment((double) bytes);
    }
  }

  /** Counts value bytes sent outside the interceptor's view (inside a pipeline). */
  void countSent(long bytes) {
    if (bytes > 0) {
      sent.increment((double) bytes);
    }
  }

  /**
   * An interceptor that times every call ({@link RequestMetrics}) and counts the value bytes of
   * puts and gets; install it outermost.
   */
  public ServerInterceptor interceptor() {
    ServerInterceptor bytes = new ValueBytes();
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return requests.interceptCall(
            call, headers, (timed, h) -> bytes.interceptCall(timed, h, next));
      }
    };
  }

  /** Unhooks the JVM meters' listeners; the registry is closed by its owner. Idempotent. */
  @Override
  public void close() {
    process.close();
  }

  private static long bytesIn(Object message) {
    if (message instanceof PutRequest r) {
      return r.getValue().size();
    }
    if (message instanceof PutChunk c) {
      return c.getData().size();
    }
    return 0;
  }

  private static long bytesOut(Object message) {
    if (message instanceof GetResponse r) {
      return r.getValue().size();
    }
    if (message instanceof GetChunk c) {
      return c.getData().size();
    }
    return 0;
  }

  /** Counts the value bytes of the puts and gets passing through. */
  private final class ValueBytes implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      ServerCall<Q, R> counted =
          new SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
              countSent(bytesOut(message));
              super.sendMessage(message);
            }
          };
      return new SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
        @Override
        public void onMessage(Q message) {
          countReceived(bytesIn(message));
          super.onMessage(message);
        }
      };
    }
  }
}
