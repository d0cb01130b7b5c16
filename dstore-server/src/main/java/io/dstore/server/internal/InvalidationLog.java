package io.dstore.server.internal;

import io.dstore.proto.Invalidation;
import java.util.ArrayList;
import java.util.List;

/**
 * The most recent invalidations, kept so that a Local that reconnects can be sent exactly what it
 * missed. A ring buffer of fixed capacity; seqs increase but may skip (a cluster's seqs are etcd
 * revisions), so what the log covers is told by its {@link #floor}: every invalidation with a seq
 * above the floor is held. Each appended invalidation gets its {@code previous_seq}: the seq of the
 * one before it, or the floor for the first. Not thread-safe: {@link InvalidationHub} guards it
 * with its sequencer lock.
 */
final class InvalidationLog {
  private final Invalidation[] ring;
  private int head; // index of the oldest held
  private int size;
  private long floor;
  private long lastSeq;

  /**
   * @param floor the seq this log starts after: 0 for a new single Global; for a gateway, the etcd
   *     revision its watch starts after (nothing before it will ever be held)
   */
  InvalidationLog(int capacity, long floor) {
    this.ring = new Invalidation[capacity];
    this.floor = floor;
    this.lastSeq = floor;
  }

  /**
   * Appends {@code event} (whose seq must be above {@link #lastSeq}) with its {@code previous_seq}
   * set, evicting the oldest when full; returns it as appended.
   */
  Invalidation append(Invalidation event) {
    if (event.getSeq() <= lastSeq) {
      throw new IllegalArgumentException(
          "seq " + event.getSeq() + " does not follow " + lastSeq + " in the invalidation log");
    }
    Invalidation logged = event.toBuilder().setPreviousSeq(lastSeq).build();
    if (size == ring.length) {
      floor = ring[head].getSeq();
      ring[head] = logged;
      head = (head + 1) % ring.length;
    } else {
      ring[(head + size) % ring.length] = logged;
      size++;
    }
    lastSeq = event.getSeq();
    return logged;
  }

  /**
   * Forgets every invalidation held and starts again after {@code newFloor} (at least the last
   * seq): for a gateway whose watch lost events to etcd's compaction.
   */
  void resetFloor(long newFloor) {
    java.util.Arrays.fill(ring, null);
    head = 0;
    size = 0;
    floor = Math.max(newFloor, lastSeq);
    lastSeq = floor;
  }

  /** The seq of the last invalidation appended, or the floor when none was. */
  long lastSeq() {
    return lastSeq;
  }

  /** Every invalidation with a seq above this is held. */
  long floor() {
    return floor;
  }

  /**
   * Whether a Local that applied everything up to {@code seq} can be sent all it missed from here:
   * nothing it missed is older than the floor. A seq beyond {@link #lastSeq} qualifies too (a Local
   * coming from a gateway whose watch ran ahead of this one's): it missed nothing held here.
   */
  boolean reachesBackTo(long seq) {
    return seq >= floor;
  }

  /** The invalidations after {@code seq}, in order; requires {@link #reachesBackTo(long)}. */
  List<Invalidation> after(long seq) {
    if (!reachesBackTo(seq)) {
      throw new IllegalArgumentException(
          "log holds " + floor + ".." + lastSeq + ", cannot replay after " + seq);
    }
    List<Invalidation> events = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      Invalidation inv = ring[(head + i) % ring.length];
      if (inv.getSeq() > seq) {
        events.add(inv);
      }
    }
    return events;
  }
}
