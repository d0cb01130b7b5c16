package io.dstore.server.internal;

import io.dstore.server.GlobalServer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How tests and benchmarks reach a running {@link GlobalServer}'s internals without making them
 * API: {@code GlobalServer} hands this class a way in when it is loaded (the JDK's "shared secrets"
 * pattern), and this package is not exported by the module. Not API.
 */
public final class ServerInternals {
  private static volatile @Nullable Function<GlobalServer, InvalidationHub> hubs;

  private ServerInternals() {}

  /** Called once, by {@code GlobalServer}'s static initializer. */
  public static void provideHubs(Function<GlobalServer, InvalidationHub> access) {
    hubs = access;
  }

  /**
   * The coherence hub of a started server: membership, leases and fan-out, with the fault
   * injections tests use ({@code expireLeases}, {@code dropSubscriptions}).
   *
   * @throws IllegalStateException if the server has not started
   */
  public static InvalidationHub hub(GlobalServer server) {
    Function<GlobalServer, InvalidationHub> access = hubs;
    if (access == null) {
      throw new IllegalStateException("GlobalServer has not been loaded");
    }
    return access.apply(server);
  }
}
