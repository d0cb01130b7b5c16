package io.dstore.daemon.internal;

import io.dstore.Dstore;
import io.dstore.DstoreMetrics;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Local daemon's metrics: the Local's cache figures ({@link DstoreMetrics}) and {@code
 * dstore_requests_seconds{op,status}} for the calls it serves, in a Prometheus registry that the
 * serving stack serves at {@code /metrics}. Thread-safe; {@link #close} is idempotent.
 */
public final class DaemonMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final DstoreMetrics local;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Binds the meters of {@code dstore} to a new registry. */
  public DaemonMetrics(Dstore dstore) {
    this.local = DstoreMetrics.bind(dstore, registry);
  }

  /** The registry to serve at {@code /metrics}. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Times every call by operation and status; install it outermost. */
  public ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String op =
            String.valueOf(call.getMethodDescriptor().getBareMethodName()).toLowerCase(Locale.ROOT);
        long start = System.nanoTime();
        AtomicBoolean recorded = new AtomicBoolean();
        ServerCall<Q, R> timed =
            new SimpleForwardingServerCall<>(call) {
              @Override
              public void close(Status status, Metadata trailers) {
                record(op, status.getCode(), start, recorded);
                super.close(status, trailers);
              }
            };
        return new SimpleForwardingServerCallListener<>(next.startCall(timed, headers)) {
          @Override
          public void onCancel() {
            record(op, Status.Code.CANCELLED, start, recorded);
            super.onCancel();
          }
        };
      }
    };
  }

  private void record(String op, Status.Code code, long start, AtomicBoolean recorded) {
    if (recorded.compareAndSet(false, true)) {
      Timer.builder("dstore.requests")
          .description("Requests served by this Local daemon, by operation and status")
          .tags("op", op, "status", code.name())
          .register(registry)
          .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      local.close();
      registry.close();
    }
  }
}
