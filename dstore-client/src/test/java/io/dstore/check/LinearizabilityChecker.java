package io.dstore.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
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
 *   <li>an UNKNOWN outcome (a PUT or DELETE failed, its effect is unknown) may take effect anywhere
 *       in its window or not at all; record its response as the latest time its effect could still
 *       happen (or {@link Long#MAX_VALUE})
 * </ul>
 *
 * <p><b>Algorithm.</b> Lowe's just-in-time linearization: walk the calls and returns in time order
 * keeping every <em>configuration</em> still possible, a configuration being the register's state
 * and which of the operations in flight have already taken effect. At each return, extend every
 * configuration by letting operations in flight take effect, in every order, until the returning
 * one has; if no configuration can, the history is not linearizable and that return is the culprit.
 * Operations that cannot change the state (a GET, a PUT answered EXISTS, a DELETE answered
 * NOT_FOUND) are applied greedily as soon as the state matches them, which is always safe for an
 * operation without effect and keeps the search to the orderings of writes. Its cost grows with the
 * number of writes in flight at once, not with the length of the history.
 */
public final class LinearizabilityChecker {
  private static final String ABSENT = null;

  private LinearizabilityChecker() {}

  /** Configurations kept at once before the search gives up as undecided. */
  static final int MAX_CONFIGURATIONS = 1_000_000;

  /** Empty when linearizable; otherwise a description of the first return no order explains. */
  public static Optional<String> check(List<Op> history) {
    int n = history.size();
    List<Event> events = new ArrayList<>(2 * n);
    for (int i = 0; i < n; i++) {
      Op op = history.get(i);
      if (op.response() < op.invoke()) {
        throw new IllegalArgumentException("returns before it is invoked: " + op);
      }
      events.add(new Event(i, true, op.invoke()));
      events.add(new Event(i, false, op.response()));
    }
    // Calls before returns on ties: operations that touch overlap, which allows more orders.
    events.sort(Comparator.comparingLong(Event::time).thenComparing(e -> e.call ? 0 : 1));

    int[] slotOf = new int[n];
    int[] opAt = new int[Math.max(1, n)];
    BitSet usedSlots = new BitSet();
    Set<Config> configs = new HashSet<>();
    configs.add(new Config(ABSENT, new BitSet()));
    for (Event e : events) {
      if (e.call) {
        int slot = usedSlots.nextClearBit(0);
        usedSlots.set(slot);
        slotOf[e.op] = slot;
        opAt[slot] = e.op;
        continue;
      }
      int slot = slotOf[e.op];
      Set<Config> next = new HashSet<>();
      Deque<Config> work = new ArrayDeque<>();
      Set<Config> seen = new HashSet<>();
      boolean unknown = history.get(e.op).outcome() == Op.Outcome.UNKNOWN;
      for (Config c : configs) {
        Config normal = absorb(c, history, usedSlots, opAt);
        if (unknown) {
          next.add(normal.without(slot)); // it never took effect
        }
        if (seen.add(normal)) {
          work.add(normal);
        }
      }
      while (!work.isEmpty()) {
        Config c = work.poll();
        if (c.linearized.get(slot)) {
          next.add(c.without(slot));
          continue; // later effects can still be chosen from there, at later returns
        }
        for (int p = usedSlots.nextSetBit(0); p >= 0; p = usedSlots.nextSetBit(p + 1)) {
          if (c.linearized.get(p)) {
            continue;
          }
          for (String state : steps(c.state, history.get(opAt[p]))) {
            BitSet lin = (BitSet) c.linearized.clone();
            lin.set(p);
            Config d = absorb(new Config(state, lin), history, usedSlots, opAt);
            if (seen.add(d)) {
              if (seen.size() > MAX_CONFIGURATIONS) {
                return Optional.of(
                    "undecided: more than "
                        + MAX_CONFIGURATIONS
                        + " possible configurations with "
                        + usedSlots.cardinality()
                        + " operations in flight at "
                        + history.get(e.op));
              }
              work.add(d);
            }
          }
        }
      }
      usedSlots.clear(slot);
      if (next.isEmpty()) {
        return Optional.of(explain(history, e.op, configs));
      }
      configs = next;
    }
    return Optional.empty();
  }

  /** Applies every pending operation without effect that the state allows now. */
  private static Config absorb(Config c, List<Op> history, BitSet pending, int[] opAt) {
    BitSet lin = null;
    for (int p = pending.nextSetBit(0); p >= 0; p = pending.nextSetBit(p + 1)) {
      if (c.linearized.get(p)) {
        continue;
      }
      Op op = history.get(opAt[p]);
      if (withoutEffect(op) && !steps(c.state, op).isEmpty()) {
        if (lin == null) {
          lin = (BitSet) c.linearized.clone();
        }
        lin.set(p);
      }
    }
    return lin == null ? c : new Config(c.state, lin);
  }

  private static boolean withoutEffect(Op op) {
    return switch (op.kind()) {
      case GET -> op.outcome() != Op.Outcome.UNKNOWN;
      case PUT -> op.outcome() == Op.Outcome.EXISTS;
      case DELETE -> op.outcome() == Op.Outcome.NOT_FOUND;
    };
  }

  private static String explain(List<Op> history, int op, Set<Config> before) {
    List<String> states = new ArrayList<>();
    for (Config c : before) {
      String s = c.state == null ? "absent" : "present " + c.state;
      if (!states.contains(s)) {
        states.add(s);
      }
    }
    return "not linearizable: no order lets this operation take effect before it returned: "
        + history.get(op)
        + " (possible states just before: "
        + String.join(", ", states)
        + ")";
  }

  /** The states {@code op} may leave behind from {@code state}: none if it cannot happen there. */
  private static List<String> steps(String state, Op op) {
    boolean present = state != null;
    List<String> none = List.of();
    List<String> absent = java.util.Collections.singletonList(ABSENT);
    return switch (op.kind()) {
      case PUT ->
          switch (op.outcome()) {
            case OK -> present ? none : List.of(op.value());
            case EXISTS -> present ? List.of(state) : none;
            // Unknown outcomes: only the effect is a step; "no effect" is the same as never
            // taking effect, which the return of an unknown operation allows anyway.
            case UNKNOWN -> present ? none : List.of(op.value());
            default -> none;
          };
      case DELETE ->
          switch (op.outcome()) {
            case OK -> present ? absent : none;
            case NOT_FOUND -> present ? none : absent;
            case UNKNOWN -> present ? absent : none;
            default -> none;
          };
      case GET ->
          switch (op.outcome()) {
            case VALUE -> present && state.equals(op.value()) ? List.of(state) : none;
            case NOT_FOUND -> present ? none : absent;
            default -> none; // a failed read is not recorded: it constrains nothing
          };
    };
  }

  private record Event(int op, boolean call, long time) {}

  /** The register's state and which operations in flight (by slot) have taken effect. */
  private record Config(String state, BitSet linearized) {
    Config without(int slot) {
      if (!linearized.get(slot)) {
        return this;
      }
      BitSet lin = (BitSet) linearized.clone();
      lin.clear(slot);
      return new Config(state, lin);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Config c
          && Objects.equals(state, c.state)
          && linearized.equals(c.linearized);
    }

    @Override
    public int hashCode() {
      return linearized.hashCode() * 31 + Objects.hashCode(state);
    }
  }
}
