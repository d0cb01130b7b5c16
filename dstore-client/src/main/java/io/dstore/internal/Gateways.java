package io.dstore.internal;

import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The gateways a Local may talk to, and the one it talks to now. A Local talks to one gateway at a
 * time: it starts with the first one listed (so the operator's order decides, and a host may list
 * its nearest gateway first), and moves to the next, round robin, when its gateway fails ({@link
 * #failover}). Calls and the subscription share the current gateway.
 *
 * <p><b>The store.</b> All gateways of one cluster store share one incarnation; a gateway with
 * another incarnation is another store. {@link #storeIncarnation()} is the incarnation the Local's
 * cache belongs to (set by the subscription at each Welcome); callers compare a gateway's own
 * {@link Gateway#incarnation()} against it before trusting the cache there.
 *
 * <p><b>Threads.</b> Thread-safe: the current gateway is switched by compare-and-set, so that many
 * calls failing on the same gateway at once move the Local one step, not several.
 */
final class Gateways {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Gateways.class);
  private final List<Gateway> all;
  private final java.util.concurrent.atomic.AtomicReference<Gateway> current;
  private final List<Consumer<Gateway>> switchListeners = new CopyOnWriteArrayList<>();
  private volatile String storeIncarnation = "";

  Gateways(List<Gateway> all) {
    if (all.isEmpty()) {
      throw new IllegalArgumentException("no gateway");
    }
    this.all = List.copyOf(all);
    this.current = new java.util.concurrent.atomic.AtomicReference<>(all.get(0));
  }

  /**
   * Parses a list of gateway addresses: {@code host:port[,host:port...]}, white space around
   * entries ignored.
   *
   * @throws DstoreException INVALID_ARGUMENT naming the problem: an empty list or entry, an entry
   *     that is not {@code host:port} with a port from 1 to 65535, or an address listed twice
   */
  static List<String> parse(String spec) {
    if (spec.isBlank()) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "no Global address given: expected HOST:PORT[,HOST:PORT...]");
    }
    String[] entries = spec.split(",", -1);
    List<String> targets = new ArrayList<>(entries.length);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < entries.length; i++) {
      String entry = entries[i].strip();
      if (entry.isEmpty()) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT,
            "empty entry "
                + (i + 1)
                + " in the list of Global addresses '"
                + spec
                + "': expected HOST:PORT[,HOST:PORT...]");
      }
      Channels.checkTarget(entry);
      if (!seen.add(entry)) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT,
            "Global address " + entry + " is listed twice in '" + spec + "'");
      }
      targets.add(entry);
    }
    return targets;
  }

  /** The gateway calls go to now. */
  Gateway current() {
    return current.get();
  }

  /** Whether more than one gateway is configured (so that a failed call may go to another). */
  boolean several() {
    return all.size() > 1;
  }

  int size() {
    return all.size();
  }

  List<Gateway> all() {
    return all;
  }

  /**
   * {@code failed} failed: if it is still the current gateway, the next one (round robin) becomes
   * current, and the listeners are told. Returns the current gateway after that (the same one with
   * a single gateway).
   */
  Gateway failover(Gateway failed) {
    if (!several()) {
      return failed;
    }
    Gateway next = all.get((failed.index() + 1) % all.size());
    if (current.compareAndSet(failed, next)) {
      for (Consumer<Gateway> l : switchListeners) {
        try {
          l.accept(next);
        } catch (RuntimeException e) {
          // The caller's call goes on; the listener's own recovery (a reconnect) will follow.
          log.warn("moving to Global {} failed in a listener", next, e);
        }
      }
      return next;
    }
    return current.get();
  }

  /**
   * Runs {@code listener} (on the failing caller's thread) whenever the current gateway changes.
   */
  void onSwitch(Consumer<Gateway> listener) {
    switchListeners.add(listener);
  }

  /** The incarnation the Local's cache belongs to; "" before the first Welcome. */
  String storeIncarnation() {
    return storeIncarnation;
  }

  void storeIncarnation(String incarnation) {
    this.storeIncarnation = incarnation;
  }

  /**
   * Whether {@code g} is known to be another store than the one the Local's cache belongs to:
   * several gateways are configured, both incarnations are known and they differ.
   */
  boolean knownForeign(Gateway g) {
    if (!several()) {
      return false; // one gateway: a new incarnation is Global's restart, handled by Resync alone
    }
    String mine = storeIncarnation;
    String theirs = g.incarnation();
    return !mine.isEmpty() && !theirs.isEmpty() && !mine.equals(theirs);
  }

  /** What {@link io.dstore.Dstore#target()} shows: the gateway the Local talks to now. */
  String describe() {
    return current().target();
  }

  /** Closes the pipelines; shuts down the channels this Local opened, waiting up to 2 s each. */
  void close() {
    for (Gateway g : all) {
      g.close();
    }
    for (Gateway g : all) {
      if (g.ownsChannel()) {
        g.channel().shutdown();
      }
    }
    for (Gateway g : all) {
      if (g.ownsChannel()) {
        try {
          if (!g.channel().awaitTermination(2, TimeUnit.SECONDS)) {
            g.channel().shutdownNow();
          }
        } catch (InterruptedException e) {
          g.channel().shutdownNow();
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
