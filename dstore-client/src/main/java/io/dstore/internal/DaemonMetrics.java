package io.dstore.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
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
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Local daemon's metrics: the Local's cache figures ({@link DstoreMetrics}) and {@code
 * dstore_requests_seconds{op,status}} for the calls it serves, in a Prometheus registry served at
 * {@code GET /metrics} by a one-thread JDK HTTP server (404 elsewhere). Loaded only when a daemon
 * is asked to serve metrics, so the optional Micrometer jars are needed only then. Thread-safe;
 * {@link #close} is idempotent.
 */
public final class DaemonMetrics implements AutoCloseable {
  private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final DstoreMetrics local;
  private final HttpServer http;
  private final ExecutorService executor;
  private final AtomicBoolean closed = new AtomicBoolean();

  private DaemonMetrics(
      PrometheusMeterRegistry registry,
      DstoreMetrics local,
      HttpServer http,
      ExecutorService executor) {
    this.registry = registry;
    this.local = local;
    this.http = http;
    this.executor = executor;
  }

  /** Binds {@code host:port} (0: any free port) and serves the meters of {@code dstore}. */
  public static DaemonMetrics start(Dstore dstore, String host, int port) throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      registry.close();
      throw new IOException(
          "cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "dstore-daemon-metrics-http");
              t.setDaemon(true);
              return t;
            });
    http.setExecutor(executor);
    http.createContext("/", exchange -> handle(exchange, registry));
    http.start();
    return new DaemonMetrics(registry, DstoreMetrics.bind(dstore, registry), http, executor);
  }

  private static void handle(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
    try (exchange) {
      boolean metrics = "/metrics".equals(exchange.getRequestURI().getPath());
      boolean get = "GET".equals(exchange.getRequestMethod());
      int status = metrics && get ? 200 : metrics ? 405 : 404;
      String body = status == 200 ? registry.scrape(CONTENT_TYPE) : "not found: try GET /metrics\n";
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange
          .getResponseHeaders()
          .set("Content-Type", status == 200 ? CONTENT_TYPE : "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  public int port() {
    return http.getAddress().getPort();
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
      http.stop(0);
      executor.shutdownNow();
      local.close();
      registry.close();
    }
  }
}
