package io.dstore.server.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Cuts off streams that make no progress: an upload whose client sends nothing, or a download whose
 * client reads nothing, for {@link #timeout()}. Each stream gets a {@link Watch} that it touches on
 * progress; one timer per stream wakes up when the timeout could have run out since the last touch,
 * so touching costs a volatile write and no rescheduling. Thread-safe.
 */
public final class IdleTimeout {
  private final ScheduledExecutorService scheduler;
  private final long timeoutNanos;
  private final LongSupplier nanoClock;

  IdleTimeout(ScheduledExecutorService scheduler, Duration timeout, LongSupplier nanoClock) {
    this.scheduler = scheduler;
    this.timeoutNanos = timeout.toNanos();
    this.nanoClock = nanoClock;
  }

  Duration timeout() {
    return Duration.ofNanos(timeoutNanos);
  }

  /** How a refusal names this limit, for error messages. */
  String describe() {
    Duration d = timeout();
    String amount = d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    return "the idle stream timeout is " + amount + " (set with --idle-timeout)";
  }

  /** Starts watching a stream; {@code onIdle} runs once, on the timer thread, if it goes idle. */
  Watch watch(Runnable onIdle) {
    Watch w = new Watch(onIdle);
    w.schedule(timeoutNanos);
    return w;
  }

  /** The idle timer of one stream. */
  final class Watch {
    private final Runnable onIdle;
    private volatile long lastProgress = nanoClock.getAsLong();
    private volatile boolean stopped;

    @GuardedBy("this")
    private ScheduledFuture<?> timer;

    private Watch(Runnable onIdle) {
      this.onIdle = onIdle;
    }

    /** The stream made progress: the timeout counts from now. */
    void touch() {
      lastProgress = nanoClock.getAsLong();
    }

    /** The stream ended; the timer will not fire. Idempotent. */
    void stop() {
      stopped = true;
      ScheduledFuture<?> t;
      synchronized (this) {
        t = timer;
      }
      if (t != null) {
        t.cancel(false);
      }
    }

    private void check() {
      if (stopped) {
        return;
      }
      long idle = nanoClock.getAsLong() - lastProgress;
      if (idle >= timeoutNanos) {
        stopped = true;
        onIdle.run();
      } else {
        schedule(timeoutNanos - idle);
      }
    }

    private void schedule(long delayNanos) {
      try {
        ScheduledFuture<?> t = scheduler.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
        synchronized (this) {
          timer = t;
        }
        if (stopped) {
          t.cancel(false);
        }
      } catch (RejectedExecutionException e) {
        // The server is shutting down, which ends the stream anyway.
      }
    }
  }
}
