package io.dstore.internal;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Makes a call made while Global is unreachable try to reach it at once, instead of failing on the
 * result of the last attempt until a backoff timer fires. Before each call whose channel is in
 * TRANSIENT_FAILURE, the channel's connect backoff is reset (a connection attempt starts now) and
 * the call waits until the channel is READY, that attempt failed, or {@link #MAX_WAIT} (at most the
 * call's own timeout) passed. Once the channel is READY, a subscription waiting out its
 * reconnection backoff reconnects now too. A READY channel costs a volatile read and, while the
 * subscription is down, one lock.
 *
 * <p>So a Local recovers with the first request after Global is back, and a request while Global is
 * really down still answers UNAVAILABLE promptly: when the attempt is refused, or after at most
 * {@link #MAX_WAIT}.
 */
final class Reconnect {
  /** The longest a call waits for a connection attempt it triggered. */
  static final Duration MAX_WAIT = Duration.ofMillis(500);

  private final ManagedChannel channel;
  private final Runnable subscriptionNow;

  /**
   * @param subscriptionNow makes the subscription reconnect now, if it is waiting out a backoff
   */
  Reconnect(ManagedChannel channel, Runnable subscriptionNow) {
    this.channel = channel;
    this.subscriptionNow = subscriptionNow;
  }

  /**
   * Called before a call with {@code timeout}; returns when the call should go ahead, with the
   * channel's state then (TRANSIENT_FAILURE: the attempt failed, the call would fail unsent).
   */
  ConnectivityState beforeCall(Duration timeout) {
    ConnectivityState state = channel.getState(false);
    if (state == ConnectivityState.TRANSIENT_FAILURE) {
      // The call would fail on the last attempt's error: try again now instead. (IDLE and
      // CONNECTING need nothing: the call itself connects, or waits for the connection.)
      channel.resetConnectBackoff();
      state = awaitAttempt(Math.min(timeout.toNanos(), MAX_WAIT.toNanos()));
    }
    if (state == ConnectivityState.READY) {
      // Only now: a subscription opened before the channel is READY would fail at once and wait
      // out its backoff again.
      subscriptionNow.run();
    }
    return state;
  }

  /**
   * Waits until the channel is READY, the connection attempt under way fails, or {@code nanos}
   * passed; returns the state then.
   */
  private ConnectivityState awaitAttempt(long nanos) {
    long deadline = System.nanoTime() + nanos;
    boolean attempting = false;
    try {
      while (true) {
        ConnectivityState state = channel.getState(false);
        switch (state) {
          case READY, SHUTDOWN -> {
            return state;
          }
          case TRANSIENT_FAILURE -> {
            if (attempting) {
              return state; // the attempt has failed: Global is down
            }
          }
          case IDLE -> {
            attempting = true;
            channel.getState(true); // connect
          }
          case CONNECTING -> attempting = true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return state;
        }
        CountDownLatch changed = new CountDownLatch(1);
        channel.notifyWhenStateChanged(state, changed::countDown);
        if (!changed.await(left, TimeUnit.NANOSECONDS)) {
          return channel.getState(false);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return channel.getState(false);
    }
  }
}
