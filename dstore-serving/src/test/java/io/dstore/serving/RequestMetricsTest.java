package io.dstore.serving;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.StatRequest;
import io.dstore.proto.StatResponse;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RequestMetrics} on a real {@link ServerStack} (in process): every call ends up in the
 * {@code dstore_requests_seconds} histogram once, with the status it really ended with.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RequestMetricsTest {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final RequestMetrics metrics = new RequestMetrics(registry, "Requests");
  private ServerStack server;
  private ManagedChannel channel;

  /** Stat answers by key: "ok", "missing" (NOT_FOUND), "throw" (the handler throws), else never. */
  private static final class Service extends GlobalGrpc.GlobalImplBase {
    @Override
    public void stat(StatRequest request, StreamObserver<StatResponse> responses) {
      switch (request.getKey().toStringUtf8()) {
        case "ok" -> {
          responses.onNext(StatResponse.getDefaultInstance());
          responses.onCompleted();
        }
        case "missing" -> responses.onError(Status.NOT_FOUND.asRuntimeException());
        case "throw" -> throw new IllegalStateException("a bug in the handler");
        default -> {} // hangs until cancelled
      }
    }
  }

  /** The options of a server with nothing of its own to configure. */
  private static final class Options extends ServerOptions<Options> {
    Options() {
      super(0);
    }

    @Override
    protected Options self() {
      return this;
    }
  }

  @BeforeEach
  void start() throws Exception {
    String name = "request-metrics-" + UUID.randomUUID();
    server =
        ServerStack.builder("test", new Service())
            .options(new Options().inProcess(name))
            .metricsInterceptor(metrics)
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdown(Duration.ofSeconds(1));
    registry.close();
  }

  private static StatRequest stat(String key) {
    return StatRequest.newBuilder().setKey(ByteString.copyFrom(key, UTF_8)).build();
  }

  @Test
  void callsAreTimedInAHistogramByOperationAndStatus() {
    GlobalGrpc.GlobalBlockingStub stub = GlobalGrpc.newBlockingStub(channel);
    stub.stat(stat("ok"));
    stub.stat(stat("ok"));
    assertThatThrownBy(() -> stub.stat(stat("missing")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());

    String text = registry.scrape();
    assertThat(count(text, "stat", "OK")).isEqualTo(2);
    assertThat(count(text, "stat", "NOT_FOUND")).isEqualTo(1);
    assertThat(count(text, "grpc.health.v1.health/check", "OK")).isEqualTo(1);
    // Buckets for histogram_quantile: one per bound, and +Inf holding every call.
    Matcher buckets =
        Pattern.compile("(?m)^dstore_requests_seconds_bucket\\{([^}]*)\\} (\\S+)$").matcher(text);
    int okBuckets = 0;
    while (buckets.find()) {
      String labels = buckets.group(1);
      if (labels.contains("op=\"stat\"") && labels.contains("status=\"OK\"")) {
        okBuckets++;
        if (labels.contains("le=\"+Inf\"")) {
          assertThat(Double.parseDouble(buckets.group(2))).isEqualTo(2);
        }
      }
    }
    assertThat(okBuckets).isEqualTo(RequestMetrics.BUCKETS.size() + 1);
    assertThat(text).contains("le=\"5.0E-5\"").contains("le=\"30.0\"");
  }

  @Test
  void aCallTheClientCancelsIsCancelled() throws Exception {
    Context.CancellableContext context = Context.current().withCancellation();
    context.run(
        () ->
            GlobalGrpc.newStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .stat(stat("hang"), new Ignore<>()));
    Thread.sleep(50); // the call reaches the server; not needed for correctness
    context.cancel(null);
    awaitCount("stat", "CANCELLED", 1);
    assertThat(count(registry.scrape(), "stat", "DEADLINE_EXCEEDED")).isZero();
  }

  @Test
  void aCallCutOffByItsDeadlineIsDeadlineExceeded() throws Exception {
    assertThatThrownBy(
            () ->
                GlobalGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                    .stat(stat("hang")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    awaitCount("stat", "DEADLINE_EXCEEDED", 1);
    assertThat(count(registry.scrape(), "stat", "CANCELLED")).isZero();
  }

  @Test
  void aHandlerThatThrowsIsUnknown() throws Exception {
    // gRPC logs the handler's exception with its stack trace: expected here, so not shown.
    java.util.logging.Logger executorLog =
        java.util.logging.Logger.getLogger("io.grpc.internal.SerializingExecutor");
    java.util.logging.Level level = executorLog.getLevel();
    executorLog.setLevel(java.util.logging.Level.OFF);
    try {
      assertThatThrownBy(() -> GlobalGrpc.newBlockingStub(channel).stat(stat("throw")))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN));
    } finally {
      executorLog.setLevel(level);
    }
    awaitCount("stat", "UNKNOWN", 1);
    assertThat(count(registry.scrape(), "stat", "CANCELLED")).isZero();
  }

  @Test
  void operationsInsideACallGoIntoTheSameHistogram() {
    metrics.record("get", Status.Code.OK, TimeUnit.MILLISECONDS.toNanos(3));
    String text = registry.scrape();
    assertThat(count(text, "get", "OK")).isEqualTo(1);
    assertThat(bucket(text, "get", "OK", "0.0025")).isZero();
    assertThat(bucket(text, "get", "OK", "0.005")).isEqualTo(1);
  }

  /** The cumulative count of the bucket {@code le} of {@code op} and {@code status}. */
  private static double bucket(String text, String op, String status, String le) {
    Matcher m =
        Pattern.compile("(?m)^dstore_requests_seconds_bucket\\{([^}]*)\\} (\\S+)$").matcher(text);
    while (m.find()) {
      String labels = m.group(1);
      if (labels.contains("op=\"" + op + "\"")
          && labels.contains("status=\"" + status + "\"")
          && labels.contains("le=\"" + le + "\"")) {
        return Double.parseDouble(m.group(2));
      }
    }
    throw new AssertionError("no bucket le=" + le + " of " + op + "/" + status + " in:\n" + text);
  }

  private void awaitCount(String op, String status, double expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (count(registry.scrape(), op, status) != expected) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "no " + op + "/" + status + " = " + expected + " in:\n" + registry.scrape());
      }
      Thread.sleep(10); // the server ends the call on its own thread: nothing to wait on
    }
  }

  /** {@code dstore_requests_seconds_count} of {@code op} and {@code status} (0 if absent). */
  private static double count(String text, String op, String status) {
    Matcher m =
        Pattern.compile(
                "(?m)^dstore_requests_seconds_count\\{op=\""
                    + Pattern.quote(op)
                    + "\",status=\""
                    + status
                    + "\"\\} (\\S+)$")
            .matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private static final class Ignore<T> implements StreamObserver<T> {
    @Override
    public void onNext(T value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }
}
