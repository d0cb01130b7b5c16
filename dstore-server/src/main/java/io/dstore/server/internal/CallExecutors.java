package io.dstore.server.internal;

import io.dstore.proto.GlobalGrpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.concurrent.Executor;

/**
 * Where each call's callbacks run. Pipeline streams run on the transport thread itself: their reads
 * are answered in microseconds, and the writes and deletes they carry are handed to the server's
 * executor by the pipeline, so a thread switch per request would be pure cost. Every other call
 * runs on the executor, where blocking on the disk or on other Locals is harmless.
 */
public final class CallExecutors implements ServerCallExecutorSupplier {
  private static final Executor DIRECT = Runnable::run;
  private final Executor executor;

  public CallExecutors(Executor executor) {
    this.executor = executor;
  }

  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata metadata) {
    MethodDescriptor<?, ?> method = call.getMethodDescriptor();
    return method == GlobalGrpc.getPipelineMethod() || method == GlobalGrpc.getSubscribeMethod()
        ? DIRECT
        : executor;
  }
}
