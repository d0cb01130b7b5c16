package io.dstore.internal;

import io.dstore.DstoreOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;

/** Builds the channel a Local uses to reach Global (or a Local daemon). */
final class Channels {
  private Channels() {}

  /** Checks that {@code target} is {@code host:port} with a valid port. */
  static void checkTarget(String target) {
    int colon = target.lastIndexOf(':');
    if (colon <= 0 || colon == target.length() - 1) {
      throw Statuses.invalidArgument("address must be HOST:PORT, got '" + target + "'");
    }
    try {
      int port = Integer.parseInt(target.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw Statuses.invalidArgument("port must be 1..65535, got " + port);
      }
    } catch (NumberFormatException e) {
      throw Statuses.invalidArgument("address must be HOST:PORT, got '" + target + "'");
    }
  }

  static ManagedChannel open(String target, DstoreOptions options) {
    checkTarget(target);
    return NettyChannelBuilder.forTarget(target)
        .usePlaintext()
        .keepAliveTime(10, TimeUnit.SECONDS)
        .keepAliveTimeout(5, TimeUnit.SECONDS)
        .keepAliveWithoutCalls(true)
        .maxInboundMessageSize(Integer.MAX_VALUE)
        .userAgent("dstore-local")
        .build();
  }
}
