package io.dstore.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.ValueInfo;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Who may keep a shared fetch's bytes: the leader alone, or every reader with a copy. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedFetchTest {
  private static CachedValue value() {
    return new CachedValue(new byte[] {1, 2, 3}, new ValueInfo(3, 1, "0".repeat(64)));
  }

  @Test
  void aLeaderNobodyJoinedKeepsTheBytes() {
    SharedFetch fetch = new SharedFetch();
    fetch.complete(value());
    assertThat(fetch.claim()).isTrue();
  }

  @Test
  void aJoinerArrivingAfterTheClaimMustFetchForItself() {
    SharedFetch fetch = new SharedFetch();
    fetch.complete(value());
    assertThat(fetch.claim()).isTrue();
    assertThat(fetch.tryJoin()).isFalse();
  }

  @Test
  void aLeaderWithJoinersCannotClaimTheBytes() {
    SharedFetch fetch = new SharedFetch();
    assertThat(fetch.tryJoin()).isTrue();
    assertThat(fetch.tryJoin()).isTrue(); // a second joiner may share too
    fetch.complete(value());
    assertThat(fetch.claim()).isFalse();
  }

  @Test
  void exactlyOneSideWinsWhenJoinersAndTheLeaderRace() throws InterruptedException {
    for (int round = 0; round < 200; round++) {
      SharedFetch fetch = new SharedFetch();
      fetch.complete(value());
      CountDownLatch go = new CountDownLatch(1);
      AtomicInteger joined = new AtomicInteger();
      Thread[] joiners = new Thread[3];
      for (int i = 0; i < joiners.length; i++) {
        joiners[i] =
            new Thread(
                () -> {
                  try {
                    go.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  if (fetch.tryJoin()) {
                    joined.incrementAndGet();
                  }
                });
        joiners[i].start();
      }
      go.countDown();
      boolean claimed = fetch.claim();
      for (Thread t : joiners) {
        t.join();
      }
      if (claimed) {
        assertThat(joined).hasValue(0);
      } else {
        assertThat(joined.get()).isPositive();
      }
    }
  }
}
