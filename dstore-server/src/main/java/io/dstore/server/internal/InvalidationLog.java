package io.dstore.server.internal;

import io.dstore.proto.Invalidation;
import java.util.ArrayList;
import java.util.List;

/**
 * The most recent invalidations, kept so that a Local that reconnects can be sent exactly what it
 * missed. A ring buffer of fixed capacity holding consecutive sequence numbers. Not thread-safe:
 * {@link InvalidationHub} guards it with its sequencer lock.
 */
final class InvalidationLog {
  private final Invalidation[] ring;
  private long lastSeq;

  InvalidationLog(int capacity) {
    this.ring = new Invalidation[capacity];
  }

  /** Appends the next event; its seq must follow the last one. */
  void append(Invalidation event) {
    if (event.getSeq() != lastSeq + 1) {
      throw new IllegalArgumentException(
          "seq " + event.getSeq() + " does not follow " + lastSeq + " in the invalidation log");
    }
    ring[(int) (event.getSeq() % ring.length)] = event;
    lastSeq = event.getSeq();
  }

  long lastSeq() {
    return lastSeq;
  }

  /** The oldest seq still held, or lastSeq + 1 when empty. */
  long firstSeq() {
    return Math.max(1, lastSeq - ring.length + 1);
  }

  /** Whether every event after {@code seq} is still held, so a Local at seq can be replayed. */
  boolean reachesBackTo(long seq) {
    return seq >= firstSeq() - 1 && seq <= lastSeq;
  }

  /** The events after {@code seq}, in order; requires {@link #reachesBackTo(long)}. */
  List<Invalidation> after(long seq) {
    if (!reachesBackTo(seq)) {
      throw new IllegalArgumentException(
          "log holds " + firstSeq() + ".." + lastSeq + ", cannot replay after " + seq);
    }
    List<Invalidation> events = new ArrayList<>((int) (lastSeq - seq));
    for (long s = seq + 1; s <= lastSeq; s++) {
      events.add(ring[(int) (s % ring.length)]);
    }
    return events;
  }
}
