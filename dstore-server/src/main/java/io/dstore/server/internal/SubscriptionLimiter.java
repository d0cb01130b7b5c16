package io.dstore.server.internal;

import io.dstore.proto.GlobalGrpc;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the subscriptions (one per connected Local) open at once: a Subscribe beyond the limit is
 * refused with RESOURCE_EXHAUSTED naming it, before it reaches the hub. A subscription frees its
 * slot when its call ends, however it ends. Thread-safe.
 */
public final class SubscriptionLimiter implements ServerInterceptor {
  private static final String SUBSCRIBE = GlobalGrpc.getSubscribeMethod().getFullMethodName();

  private final int max;
  private final AtomicInteger open = new AtomicInteger();

  public SubscriptionLimiter(int max) {
    this.max = max;
  }

  /** Subscriptions open now. */
  public int open() {
    return open.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (!SUBSCRIBE.equals(call.getMethodDescriptor().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    if (open.incrementAndGet() > max) {
      open.decrementAndGet();
      StatusRuntimeException refusal =
          GrpcErrors.status(
              ErrorCode.RESOURCE_EXHAUSTED,
              "too many subscriptions to Global: the limit is "
                  + max
                  + " (set with --max-subscriptions)");
      call.close(refusal.getStatus(), refusal.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    AtomicBoolean released = new AtomicBoolean();
    Runnable release =
        () -> {
          if (released.compareAndSet(false, true)) {
            open.decrementAndGet();
          }
        };
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException e) {
      release.run();
      throw e;
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        release.run();
        super.onComplete();
      }

      @Override
      public void onCancel() {
        release.run();
        super.onCancel();
      }
    };
  }
}
