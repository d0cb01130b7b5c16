package io.dstore.server.internal;

import io.dstore.proto.Event;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sending half of one Local's subscription: a queue of events drained onto the gRPC stream in
 * order, only while the transport is ready (flow control), so a slow Local never blocks the sender.
 * Any thread may {@link #offer}; a single drain loop at a time, run by whichever thread finds none
 * running, calls the observer, which keeps gRPC's one-caller-at-a-time rule. A Local that falls
 * {@code maxQueued} events behind is cut off (RESOURCE_EXHAUSTED); it reconnects and catches up by
 * replay or revalidation.
 */
final class EventStream {
  private final ServerCallStreamObserver<Event> observer;
  private final int maxQueued;
  private final ConcurrentLinkedQueue<Event> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger wip = new AtomicInteger();
  private volatile Status terminal; // set once: null means open
  private volatile boolean done;

  EventStream(ServerCallStreamObserver<Event> observer, int maxQueued) {
    this.observer = observer;
    this.maxQueued = maxQueued;
    observer.setOnReadyHandler(this::drainLater);
    observer.setOnCancelHandler(
        () -> {
          done = true;
          queue.clear();
        });
  }

  /** Queues an event; false if the stream is closed or was just cut off for falling behind. */
  boolean offer(Event event) {
    if (terminal != null || done) {
      return false;
    }
    if (queued.incrementAndGet() > maxQueued) {
      close(
          Status.RESOURCE_EXHAUSTED.withDescription(
              "subscriber fell " + maxQueued + " events behind; reconnect to catch up"));
      return false;
    }
    queue.add(event);
    drainLater();
    return true;
  }

  /** Ends the stream after the events already queued: OK completes it, anything else fails it. */
  void close(Status status) {
    synchronized (this) {
      if (terminal != null) {
        return;
      }
      terminal = status;
    }
    drainLater();
  }

  boolean isOpen() {
    return terminal == null && !done;
  }

  /**
   * Sends what is queued, on the calling thread, unless another thread is sending already (it then
   * sends this too before it stops). Sending only hands each event to the transport, which never
   * blocks, so no thread switch is spent on it: that is a delete's latency, times every Local.
   */
  private void drainLater() {
    if (wip.getAndIncrement() == 0) {
      drain();
    }
  }

  private void drain() {
    int missed = 1;
    do {
      try {
        while (!done && observer.isReady()) {
          Event event = queue.poll();
          if (event == null) {
            break;
          }
          queued.decrementAndGet();
          observer.onNext(event);
        }
        Status end = terminal;
        if (!done && end != null && (queue.isEmpty() || !end.isOk())) {
          done = true;
          queue.clear();
          if (end.isOk()) {
            observer.onCompleted();
          } else {
            observer.onError(end.asRuntimeException());
          }
        }
      } catch (RuntimeException e) {
        // The call was cancelled or broke under us: nothing more can be sent.
        done = true;
        queue.clear();
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }
}
