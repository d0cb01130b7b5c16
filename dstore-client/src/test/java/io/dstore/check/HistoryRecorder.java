package io.dstore.check;

import io.dstore.Dstore;
import io.dstore.wire.DstoreException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Runs operations against a Local and records each with its invoke and return times. */
final class HistoryRecorder {
  private final Map<String, List<Op>> byKey = new ConcurrentHashMap<>();
  private final Map<String, java.util.concurrent.atomic.LongAdder> failures =
      new ConcurrentHashMap<>();
  private final long unknownWindowNanos;

  /** A recorder whose unknown outcomes may take effect up to {@link #UNKNOWN_WINDOW_NANOS} late. */
  HistoryRecorder() {
    this(UNKNOWN_WINDOW_NANOS);
  }

  /**
   * A recorder whose failed writes (unknown outcome) may take effect up to {@code
   * unknownWindowNanos} after their caller saw them fail: the longest a fault can hold a request
   * that is still on its way, with room to spare.
   */
  HistoryRecorder(long unknownWindowNanos) {
    this.unknownWindowNanos = unknownWindowNanos;
  }

  /** Failed calls by error code and first words of the message, for the report. */
  Map<String, Long> failures() {
    Map<String, Long> out = new java.util.TreeMap<>();
    failures.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Whether the last call of the current thread failed without an answer (for client backoff). */
  static final ThreadLocal<Boolean> LAST_FAILED = ThreadLocal.withInitial(() -> false);

  private void fail(DstoreException e) {
    LAST_FAILED.set(true);
    String msg = e.getMessage() == null ? "" : e.getMessage();
    String why = e.code() + ": " + msg.substring(0, Math.min(60, msg.length()));
    failures.computeIfAbsent(why, k -> new java.util.concurrent.atomic.LongAdder()).increment();
  }

  Map<String, List<Op>> byKey() {
    return byKey;
  }

  void put(String client, Dstore local, String key, String value) {
    long invoke = System.nanoTime();
    Op.Outcome outcome;
    try {
      local.put(bytes(key), bytes(value));
      outcome = Op.Outcome.OK;
    } catch (DstoreException e) {
      outcome =
          switch (e.code()) {
            case ALREADY_EXISTS -> Op.Outcome.EXISTS;
            default -> {
              fail(e);
              yield Op.Outcome.UNKNOWN;
            }
          };
    }
    record(key, client, Op.Kind.PUT, value, outcome, invoke);
  }

  void get(String client, Dstore local, String key) {
    long invoke = System.nanoTime();
    try {
      byte[] v = local.get(bytes(key));
      record(
          key,
          client,
          Op.Kind.GET,
          new String(v, StandardCharsets.UTF_8),
          Op.Outcome.VALUE,
          invoke);
    } catch (DstoreException e) {
      if (e.code() == io.dstore.wire.ErrorCode.NOT_FOUND) {
        record(key, client, Op.Kind.GET, null, Op.Outcome.NOT_FOUND, invoke);
      } else {
        fail(e);
      }
      // A failed read has no effect and constrains nothing: it is left out.
    }
  }

  void delete(String client, Dstore local, String key) {
    long invoke = System.nanoTime();
    Op.Outcome outcome;
    try {
      local.delete(bytes(key));
      outcome = Op.Outcome.OK;
    } catch (DstoreException e) {
      if (e.code() == io.dstore.wire.ErrorCode.NOT_FOUND) {
        outcome = Op.Outcome.NOT_FOUND;
      } else {
        fail(e);
        outcome = Op.Outcome.UNKNOWN;
      }
    }
    record(key, client, Op.Kind.DELETE, null, outcome, invoke);
  }

  /**
   * How long after its caller saw it fail a call may still take effect at Global: the longest the
   * fault proxy holds bytes (2.5 leases of 500 ms), plus a strict delete's wait for a lease or for
   * a restarted Global's grace period, with room to spare. A killed Global takes nothing in flight
   * with it past the kill, which came before the failure.
   */
  static final long UNKNOWN_WINDOW_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(3);

  private void record(
      String key, String client, Op.Kind kind, String value, Op.Outcome outcome, long invoke) {
    long now = System.nanoTime();
    long response = outcome == Op.Outcome.UNKNOWN ? now + unknownWindowNanos : now;
    List<Op> ops = byKey.computeIfAbsent(key, k -> new ArrayList<>());
    synchronized (ops) {
      ops.add(new Op(client, kind, value, outcome, invoke, response));
    }
  }

  int size() {
    int n = 0;
    for (List<Op> ops : byKey.values()) {
      synchronized (ops) {
        n += ops.size();
      }
    }
    return n;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
