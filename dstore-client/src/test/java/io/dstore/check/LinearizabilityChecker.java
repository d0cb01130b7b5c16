package io.dstore.check;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether the history of one key is linearizable for dstore's model: a write-once register
 * with delete. State is "absent" or "present with value v" (values are unique per put).
 *
 * <ul>
 *   <li>PUT v: absent → present v (OK); present → unchanged (EXISTS)
 *   <li>DELETE: present → absent (OK); absent → absent (NOT_FOUND)
 *   <li>GET: present v → v (VALUE); absent → NOT_FOUND
 *   <li>an UNKNOWN outcome (the call failed, its effect is unknown) may be linearized either with
 *       its effect or as a no-op, anywhere in its window; record its response as the latest time
 *       its effect could still happen (or {@link Long#MAX_VALUE})
 * </ul>
 *
 * <p>The search is Wing and Gong's with Lowe's memoization, as in Knossos and Porcupine: repeatedly
 * pick an operation that may take effect first (invoked before every pending operation returned),
 * apply it if the model allows, and backtrack on a dead end; (linearized set, state) pairs already
 * explored are skipped. It returns a counterexample when no order exists.
 */
public final class LinearizabilityChecker {
  private static final String ABSENT = null;

  private LinearizabilityChecker() {}

  /** Search states explored before giving up as undecided. */
  public static final int DEFAULT_BUDGET = 5_000_000;

  /** Empty when linearizable; otherwise a description of where the search got stuck. */
  public static Optional<String> check(List<Op> history) {
    return check(history, DEFAULT_BUDGET);
  }

  /**
   * As {@link #check(List)}, giving up (and saying so, as a failure) after {@code budget} explored
   * states: the search is exponential in the worst case, which a violation can provoke.
   */
  public static Optional<String> check(List<Op> history, int budget) {
    int n = history.size();
    if (n == 0) {
      return Optional.empty();
    }
    // Events: each op has a call and a return; sorted by time, calls first on ties.
    List<Event> events = new ArrayList<>(2 * n);
    for (int i = 0; i < n; i++) {
      Op op = history.get(i);
      if (op.response() < op.invoke()) {
        throw new IllegalArgumentException("returns before it is invoked: " + op);
      }
      events.add(new Event(i, true, op.invoke()));
      events.add(new Event(i, false, op.response()));
    }
    events.sort(Comparator.comparingLong(Event::time).thenComparing(e -> e.call ? 0 : 1));
    // A doubly linked list over the events, so ops can be lifted out and put back.
    Node head = new Node(null);
    Node prev = head;
    Node[] callOf = new Node[n];
    Node[] returnOf = new Node[n];
    for (Event e : events) {
      Node node = new Node(e);
      prev.next = node;
      node.prev = prev;
      prev = node;
      if (e.call) {
        callOf[e.op] = node;
      } else {
        returnOf[e.op] = node;
      }
    }
    for (int i = 0; i < n; i++) {
      callOf[i].match = returnOf[i];
    }

    BitSet linearized = new BitSet(n);
    Set<Memo> seen = new HashSet<>();
    List<Frame> stack = new ArrayList<>();
    String state = ABSENT;
    int deepest = 0;
    String deepestState = ABSENT;
    Node deepestBlock = null; // the return that stopped the search when it was deepest
    Node entry = head.next;
    int firstCandidate = 0;
    while (head.next != null) {
      if (entry == null) {
        throw new IllegalStateException("ran off the end of the history");
      }
      if (entry.event.call) {
        Op op = history.get(entry.event.op);
        List<String> candidates = steps(state, op);
        boolean advanced = false;
        for (int c = firstCandidate; c < candidates.size() && !advanced; c++) {
          BitSet next = (BitSet) linearized.clone();
          next.set(entry.event.op);
          String nextState = candidates.get(c);
          if (seen.add(new Memo(next, nextState))) {
            if (seen.size() > budget) {
              return Optional.of(
                  "undecided: the search explored "
                      + budget
                      + " states without finding an order (a violation is likely) near "
                      + op);
            }
            stack.add(new Frame(entry, state, c));
            linearized = next;
            state = nextState;
            lift(entry);
            if (stack.size() > deepest) {
              deepest = stack.size();
              deepestState = state;
            }
            entry = head.next;
            advanced = true;
          }
        }
        firstCandidate = 0;
        if (!advanced) {
          entry = entry.next;
        }
      } else {
        // A return reached before its call was linearized: undo the last choice, and try its
        // next candidate (or the next operation).
        if (stack.size() >= deepest && (deepestBlock == null || stack.size() > 0)) {
          if (stack.size() == deepest) {
            deepestBlock = entry;
          }
        }
        if (stack.isEmpty()) {
          return Optional.of(
              explain(history, deepest, deepestState, deepestBlock != null ? deepestBlock : entry));
        }
        Frame top = stack.remove(stack.size() - 1);
        state = top.state;
        linearized.clear(top.call.event.op);
        unlift(top.call);
        entry = top.call;
        firstCandidate = top.candidate + 1;
      }
    }
    return Optional.empty();
  }

  private static String explain(List<Op> history, int deepest, String state, Node stuckAt) {
    Op blocked = history.get(stuckAt.event.op);
    return "not linearizable: at most "
        + deepest
        + " of "
        + history.size()
        + " operations can be ordered (state then: "
        + (state == null ? "absent" : "present " + state)
        + "); there, no order lets this one take effect before it returned: "
        + blocked;
  }

  /** The states {@code op} may leave behind from {@code state}: none if it cannot happen there. */
  private static List<String> steps(String state, Op op) {
    boolean present = state != null;
    List<String> none = List.of();
    return switch (op.kind()) {
      case PUT ->
          switch (op.outcome()) {
            case OK -> present ? none : List.of(op.value());
            case EXISTS -> present ? List.of(state) : none;
            case UNKNOWN -> present ? List.of(state) : java.util.Arrays.asList(op.value(), ABSENT);
            default -> none;
          };
      case DELETE ->
          switch (op.outcome()) {
            case OK -> present ? java.util.Collections.singletonList(ABSENT) : none;
            case NOT_FOUND -> present ? none : java.util.Collections.singletonList(ABSENT);
            case UNKNOWN ->
                present
                    ? java.util.Arrays.asList(ABSENT, state)
                    : java.util.Collections.singletonList(ABSENT);
            default -> none;
          };
      case GET ->
          switch (op.outcome()) {
            case VALUE -> present && state.equals(op.value()) ? List.of(state) : none;
            case NOT_FOUND -> present ? none : java.util.Collections.singletonList(ABSENT);
            case UNKNOWN -> java.util.Collections.singletonList(state);
            default -> none;
          };
    };
  }

  private static void lift(Node call) {
    call.prev.next = call.next;
    if (call.next != null) {
      call.next.prev = call.prev;
    }
    Node ret = call.match;
    ret.prev.next = ret.next;
    if (ret.next != null) {
      ret.next.prev = ret.prev;
    }
  }

  private static void unlift(Node call) {
    Node ret = call.match;
    ret.prev.next = ret;
    if (ret.next != null) {
      ret.next.prev = ret;
    }
    call.prev.next = call;
    if (call.next != null) {
      call.next.prev = call;
    }
  }

  private record Event(int op, boolean call, long time) {}

  private static final class Node {
    final Event event;
    Node prev;
    Node next;
    Node match;

    Node(Event event) {
      this.event = event;
    }
  }

  private record Frame(Node call, String state, int candidate) {}

  private record Memo(BitSet linearized, String state) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Memo m
          && linearized.equals(m.linearized)
          && Objects.equals(state, m.state);
    }

    @Override
    public int hashCode() {
      return linearized.hashCode() * 31 + Objects.hashCode(state);
    }
  }
}
