package io.dstore.daemon.internal;

import io.dstore.Dstore;
import io.dstore.DstoreMetrics;
import io.dstore.serving.ProcessMetrics;
import io.dstore.serving.RequestMetrics;
import io.grpc.ServerInterceptor;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Local daemon's metrics, in a Prometheus registry that the serving stack serves at {@code
 * /metrics}: the Local's cache figures ({@link DstoreMetrics}), the histogram {@code
 * dstore_requests_seconds{op,status}} of the calls it serves ({@link RequestMetrics}), and the
 * JVM's and the process's meters ({@link ProcessMetrics}). Thread-safe; {@link #close} is
 * idempotent.
 */
public final class DaemonMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final DstoreMetrics local;
  private final RequestMetrics requests =
      new RequestMetrics(registry, "Requests served by this Local daemon, by operation and status");
  private final ProcessMetrics process;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Binds the meters of {@code dstore} and of this process to a new registry. */
  public DaemonMetrics(Dstore dstore) {
    this.local = DstoreMetrics.bind(dstore, registry);
    this.process = ProcessMetrics.bindTo(registry);
  }

  /** The registry to serve at {@code /metrics}. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Times every call by operation and status; install it outermost. */
  public ServerInterceptor interceptor() {
    return requests;
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      process.close();
      local.close();
      registry.close();
    }
  }
}
