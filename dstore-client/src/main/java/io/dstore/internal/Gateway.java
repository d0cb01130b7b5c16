package io.dstore.internal;

import io.dstore.proto.GlobalGrpc;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;

/**
 * One gateway a Local may talk to (a Global, or one of a cluster's gateways): its address, its
 * channel, the long-lived {@link Pipeline} on that channel and the {@link Reconnect} helper that
 * makes a call try the channel at once when it is failing. Also what the gateway said its
 * incarnation is, once it said (at Join or Welcome). Thread-safe.
 */
final class Gateway {
  private final String target;
  private final ManagedChannel channel;
  private final boolean owned;
  private final int index;
  private final GlobalGrpc.GlobalBlockingStub blocking;
  private final Pipeline pipeline;
  private volatile Reconnect reconnect; // null: calls go ahead without trying to reconnect first
  private volatile String incarnation = ""; // "" until the gateway told it

  Gateway(String target, ManagedChannel channel, boolean owned, int index) {
    this.target = target;
    this.channel = channel;
    this.owned = owned;
    this.index = index;
    this.blocking = GlobalGrpc.newBlockingStub(channel);
    this.pipeline = new Pipeline(channel, target);
  }

  String target() {
    return target;
  }

  ManagedChannel channel() {
    return channel;
  }

  /** Position in the list of gateways, from 0. */
  int index() {
    return index;
  }

  GlobalGrpc.GlobalBlockingStub blocking() {
    return blocking;
  }

  GlobalGrpc.GlobalStub async() {
    return GlobalGrpc.newStub(channel);
  }

  Pipeline pipeline() {
    return pipeline;
  }

  void reconnectBeforeCalls(Reconnect reconnect) {
    this.reconnect = reconnect;
  }

  /**
   * Lets {@link Reconnect} try to reach the gateway if its channel is failing; returns the
   * channel's state then (TRANSIENT_FAILURE: the gateway cannot be reached now, and a call would
   * fail without sending anything).
   */
  ConnectivityState beforeCall(java.time.Duration timeout) {
    Reconnect r = reconnect;
    if (r != null) {
      return r.beforeCall(timeout);
    }
    return channel.getState(false);
  }

  /** The incarnation the gateway told, or "" if it has not yet. */
  String incarnation() {
    return incarnation;
  }

  void incarnation(String incarnation) {
    this.incarnation = incarnation;
  }

  /** Ends the pipeline; shuts the channel down if this Local opened it. */
  void close() {
    pipeline.close();
  }

  /** Whether the Local opened the channel (and so shuts it down). */
  boolean ownsChannel() {
    return owned;
  }

  @Override
  public String toString() {
    return target;
  }
}
