package io.dstore.server.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the connections that may make calls. Every connection is counted as it becomes ready; up
 * to {@code max} are admitted, and calls on a connection beyond that are refused with
 * RESOURCE_EXHAUSTED naming the limit, while it stays open. A refused connection is admitted as
 * soon as a slot frees up (checked on each of its calls), so a client need not reconnect.
 *
 * <p>Refusing calls rather than closing the connection gives the client a clear error instead of a
 * reset it would retry at once; gRPC offers a transport filter no handle to close its transport
 * anyway. An idle refused connection costs one socket; the OS and {@code ulimit} bound those.
 * Thread-safe.
 */
public final class ConnectionLimiter extends ServerTransportFilter implements ServerInterceptor {
  private static final Attributes.Key<Admission> ADMISSION = Attributes.Key.create("admission");

  private final int max;
  private final AtomicInteger admitted = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();

  public ConnectionLimiter(int max) {
    this.max = max;
  }

  /** Connections open now (admitted or not). */
  public int open() {
    return open.get();
  }

  @Override
  public Attributes transportReady(Attributes attributes) {
    open.incrementAndGet();
    Admission a = new Admission();
    a.tryAdmit();
    return attributes.toBuilder().set(ADMISSION, a).build();
  }

  @Override
  public void transportTerminated(Attributes attributes) {
    // Null when the transport never became ready (a failed TLS handshake, say).
    Admission a = attributes == null ? null : attributes.get(ADMISSION);
    if (a != null) {
      open.decrementAndGet();
      a.release();
    }
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Admission a = call.getAttributes().get(ADMISSION);
    if (a == null || a.tryAdmit()) {
      return next.startCall(call, headers);
    }
    StatusRuntimeException refusal =
        GrpcErrors.status(
            ErrorCode.RESOURCE_EXHAUSTED,
            "too many connections to Global: the limit is "
                + max
                + " (set with --max-connections); close idle clients or try again later");
    call.close(refusal.getStatus(), refusal.getTrailers());
    return new ServerCall.Listener<>() {};
  }

  /** Whether one connection holds a slot. */
  private final class Admission {
    @GuardedBy("this")
    private boolean admitted;

    private boolean released;

    synchronized boolean tryAdmit() {
      if (admitted) {
        return true;
      }
      if (released) {
        return false;
      }
      if (ConnectionLimiter.this.admitted.incrementAndGet() <= max) {
        admitted = true;
        return true;
      }
      ConnectionLimiter.this.admitted.decrementAndGet();
      return false;
    }

    synchronized void release() {
      released = true;
      if (admitted) {
        admitted = false;
        ConnectionLimiter.this.admitted.decrementAndGet();
      }
    }
  }
}
