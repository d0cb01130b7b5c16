package io.dstore.serving;

import static java.util.Objects.requireNonNull;

import io.dstore.proto.GlobalGrpc;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Times every call a dstore server serves, from its start to its status, as the histogram {@code
 * dstore_requests_seconds{op,status}}: {@code _bucket{le}} (from 50 µs to 30 s, see {@link
 * #BUCKETS}), {@code _count}, {@code _sum} and {@code _max}, so that Prometheus' {@code
 * histogram_quantile} gives latency percentiles per operation.
 *
 * <ul>
 *   <li>{@code op}: the method in lower case ({@code put}, {@code getstream}, {@code pipeline});
 *       methods of other services than dstore's own are named with their service ({@code
 *       grpc.health.v1.health/check}), so health probes are not mistaken for requests;
 *   <li>{@code status}: the gRPC status code the call ended with ({@code OK}, {@code NOT_FOUND}).
 *       {@code CANCELLED} means the client gave up on the call (or its connection dropped) before
 *       the server answered; a call whose deadline ran out is {@code DEADLINE_EXCEEDED}; a call
 *       whose handler threw (and that gRPC therefore closed itself) is {@code UNKNOWN}.
 * </ul>
 *
 * <p>Install it as the outermost interceptor ({@link ServerStack.Builder#metricsInterceptor}), so
 * that refusals by the interceptors inside it are counted too. Operations carried inside one call
 * (a pipeline's gets and puts) are {@linkplain #record recorded} into the same histogram by the
 * service. Thread-safe; meters are created on first use and cached.
 */
public final class RequestMetrics implements ServerInterceptor {
  /** The meter's name, {@code dstore_requests_seconds} in Prometheus. */
  public static final String NAME = "dstore.requests";

  /**
   * The histogram's upper bounds: 1, 2.5, 5 per decade from 50 µs to 30 s. Fixed buckets keep a
   * series at 19 lines (Micrometer's generated percentile buckets would be about 90) and make
   * {@code le} values an operator can read.
   */
  public static final List<Duration> BUCKETS =
      List.of(
          Duration.ofNanos(50_000),
          Duration.ofNanos(100_000),
          Duration.ofNanos(250_000),
          Duration.ofNanos(500_000),
          Duration.ofMillis(1),
          Duration.ofNanos(2_500_000),
          Duration.ofMillis(5),
          Duration.ofMillis(10),
          Duration.ofMillis(25),
          Duration.ofMillis(50),
          Duration.ofMillis(100),
          Duration.ofMillis(250),
          Duration.ofMillis(500),
          Duration.ofSeconds(1),
          Duration.ofMillis(2_500),
          Duration.ofSeconds(5),
          Duration.ofSeconds(10),
          Duration.ofSeconds(30));

  /** See {@link #deadlineExpired()}. */
  static final Duration DEADLINE_SLACK = Duration.ofMillis(100);

  private static final Duration[] BUCKET_ARRAY = BUCKETS.toArray(new Duration[0]);

  private final MeterRegistry registry;
  private final String description;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  /**
   * Meters in {@code registry}, described by {@code description} (Prometheus' {@code # HELP}, say
   * "Requests by operation and status").
   */
  public RequestMetrics(MeterRegistry registry, String description) {
    this.registry = requireNonNull(registry, "registry");
    this.description = requireNonNull(description, "description");
  }

  /**
   * Records one request of {@code op} that ended with {@code code} after {@code nanos}: for
   * operations carried inside a call, which belong in the same histogram as calls of their own.
   */
  public void record(String op, Status.Code code, long nanos) {
    timer(op, code).record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * The {@code op} tag of calls to {@code method}: the bare method name in lower case for dstore's
   * service, {@code service/method} in lower case for any other.
   */
  public static String op(MethodDescriptor<?, ?> method) {
    String service = method.getServiceName();
    String bare = method.getBareMethodName();
    String name =
        GlobalGrpc.SERVICE_NAME.equals(service) || bare == null ? bare : service + "/" + bare;
    return String.valueOf(name).toLowerCase(Locale.ROOT);
  }

  private Timer timer(String op, Status.Code code) {
    return timers.computeIfAbsent(
        op + ' ' + code.name(),
        k ->
            Timer.builder(NAME)
                .description(description)
                .tags("op", op, "status", code.name())
                .serviceLevelObjectives(BUCKET_ARRAY)
                .register(registry));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Call timed = new Call(op(call.getMethodDescriptor()));
    ServerCall<Q, R> closing =
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            timed.end(status.getCode());
            super.close(status, trailers);
          }
        };
    return new SimpleForwardingServerCallListener<>(next.startCall(closing, headers)) {
      @Override
      public void onCancel() {
        timed.end(deadlineExpired() ? Status.Code.DEADLINE_EXCEEDED : Status.Code.CANCELLED);
        super.onCancel();
      }

      @Override
      public void onComplete() {
        // Completed without passing through close() above: the handler threw, and gRPC closed
        // the call itself with UNKNOWN. (After close() this records nothing.)
        timed.end(Status.Code.UNKNOWN);
        super.onComplete();
      }
    };
  }

  /**
   * In {@code onCancel}, which gRPC runs in the call's context: whether the call was cut off by its
   * deadline rather than given up by the client. A client whose deadline passes cancels the call
   * itself, and that cancellation may reach the server just before the server's copy of the
   * deadline (sent as a timeout, so started a one-way trip later) runs out: a cancellation within
   * {@link #DEADLINE_SLACK} of the deadline counts as the deadline's.
   */
  private static boolean deadlineExpired() {
    Deadline deadline = Context.current().getDeadline();
    return deadline != null
        && deadline.timeRemaining(TimeUnit.NANOSECONDS) <= DEADLINE_SLACK.toNanos();
  }

  /** One call being timed: ends once, with the first status seen. */
  private final class Call {
    private final String op;
    private final long start = System.nanoTime();
    private final AtomicBoolean ended = new AtomicBoolean();

    Call(String op) {
      this.op = op;
    }

    void end(Status.Code code) {
      if (ended.compareAndSet(false, true)) {
        record(op, code, System.nanoTime() - start);
      }
    }
  }
}
