package io.dstore.check;

import static io.dstore.check.Op.Kind.DELETE;
import static io.dstore.check.Op.Kind.GET;
import static io.dstore.check.Op.Kind.PUT;
import static io.dstore.check.Op.Outcome.EXISTS;
import static io.dstore.check.Op.Outcome.NOT_FOUND;
import static io.dstore.check.Op.Outcome.OK;
import static io.dstore.check.Op.Outcome.UNKNOWN;
import static io.dstore.check.Op.Outcome.VALUE;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The checker accepts what a correct store may do and rejects what it may not. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LinearizabilityCheckerTest {
  private static final long NEVER = Long.MAX_VALUE;

  private static Op op(Op.Kind kind, String value, Op.Outcome outcome, long from, long to) {
    return new Op("c", kind, value, outcome, from, to);
  }

  @Test
  void aSequentialHistoryIsLinearizable() {
    assertThat(
            LinearizabilityChecker.check(
                List.of(
                    op(GET, null, NOT_FOUND, 0, 1),
                    op(PUT, "a", OK, 2, 3),
                    op(PUT, "b", EXISTS, 4, 5),
                    op(GET, "a", VALUE, 6, 7),
                    op(DELETE, null, OK, 8, 9),
                    op(GET, null, NOT_FOUND, 10, 11),
                    op(DELETE, null, NOT_FOUND, 12, 13),
                    op(PUT, "c", OK, 14, 15),
                    op(GET, "c", VALUE, 16, 17))))
        .isEmpty();
  }

  @Test
  void aStaleReadAfterTheDeleteReturnedIsCaught() {
    assertThat(
            LinearizabilityChecker.check(
                List.of(
                    op(PUT, "a", OK, 0, 1), op(DELETE, null, OK, 2, 3), op(GET, "a", VALUE, 4, 5))))
        .isPresent()
        .get()
        .asString()
        .contains("not linearizable");
  }

  @Test
  void aReadOverlappingTheDeleteMaySeeEitherAnswer() {
    List<Op> sawOld =
        List.of(op(PUT, "a", OK, 0, 1), op(DELETE, null, OK, 2, 6), op(GET, "a", VALUE, 3, 9));
    List<Op> sawNothing =
        List.of(op(PUT, "a", OK, 0, 1), op(DELETE, null, OK, 2, 6), op(GET, null, NOT_FOUND, 3, 9));
    assertThat(LinearizabilityChecker.check(sawOld)).isEmpty();
    assertThat(LinearizabilityChecker.check(sawNothing)).isEmpty();
  }

  @Test
  void readsMustNotGoBackInTime() {
    // Two reads one after the other: absent, then the old value again.
    assertThat(
            LinearizabilityChecker.check(
                List.of(
                    op(PUT, "a", OK, 0, 1),
                    op(DELETE, null, OK, 2, 20),
                    op(GET, null, NOT_FOUND, 3, 4),
                    op(GET, "a", VALUE, 5, 6))))
        .isPresent();
  }

  @Test
  void aValueNeverWrittenOrOverwrittenIsCaught() {
    assertThat(LinearizabilityChecker.check(List.of(op(GET, "ghost", VALUE, 0, 1)))).isPresent();
    assertThat(
            LinearizabilityChecker.check(List.of(op(PUT, "a", OK, 0, 1), op(PUT, "b", OK, 2, 3))))
        .as("a write-once key cannot be created twice without a delete")
        .isPresent();
  }

  @Test
  void operationsWithUnknownOutcomesMayOrMayNotHaveHappened() {
    List<Op> tookEffect = List.of(op(PUT, "a", UNKNOWN, 0, NEVER), op(GET, "a", VALUE, 5, 6));
    List<Op> didNot = List.of(op(PUT, "a", UNKNOWN, 0, NEVER), op(GET, null, NOT_FOUND, 5, 6));
    List<Op> deleteMaybe =
        List.of(
            op(PUT, "a", OK, 0, 1),
            op(DELETE, null, UNKNOWN, 2, NEVER),
            op(GET, "a", VALUE, 5, 6),
            op(GET, null, NOT_FOUND, 7, 8));
    assertThat(LinearizabilityChecker.check(tookEffect)).isEmpty();
    assertThat(LinearizabilityChecker.check(didNot)).isEmpty();
    assertThat(LinearizabilityChecker.check(deleteMaybe)).isEmpty();
  }

  @Test
  void largeConcurrentHistoriesOfACorrectRegisterAreAcceptedQuickly() {
    // Simulate a correct store: each op takes effect at a random instant inside its interval.
    // Four clients on one key: the IT spreads its threads over many keys, so this is the per-key
    // concurrency it produces.
    Random random = new Random(11);
    int clients = 4;
    long[] clientFree = new long[clients];
    List<long[]> plan = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      int c = random.nextInt(clients);
      long invoke = clientFree[c] + random.nextInt(50);
      long effect = invoke + 1 + random.nextInt(100);
      long response = effect + 1 + random.nextInt(100);
      clientFree[c] = response + 1;
      plan.add(new long[] {c, invoke, effect, response, random.nextInt(10)});
    }
    plan.sort((a, b) -> Long.compare(a[2], b[2]));
    String state = null;
    int next = 0;
    List<Op> history = new ArrayList<>();
    for (long[] p : plan) {
      int dice = (int) p[4];
      Op.Kind kind = dice < 6 ? GET : dice < 8 ? PUT : DELETE;
      String value = null;
      Op.Outcome outcome;
      switch (kind) {
        case PUT -> {
          value = "v" + next++;
          if (state == null) {
            state = value;
            outcome = OK;
          } else {
            outcome = EXISTS;
          }
        }
        case DELETE -> {
          outcome = state == null ? NOT_FOUND : OK;
          state = null;
        }
        default -> {
          value = state;
          outcome = state == null ? NOT_FOUND : VALUE;
        }
      }
      history.add(new Op("c" + p[0], kind, value, outcome, p[1], p[3]));
    }
    assertThat(LinearizabilityChecker.check(history)).isEmpty();

    // The same history with one read made stale must be rejected.
    for (int i = history.size() - 1; i > 0; i--) {
      Op o = history.get(i);
      if (o.kind() == GET && o.outcome() == NOT_FOUND) {
        history.set(i, new Op(o.client(), GET, "v0", VALUE, o.invoke(), o.response()));
        break;
      }
    }
    assertThat(LinearizabilityChecker.check(history)).isPresent();
  }
}
