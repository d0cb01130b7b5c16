package io.dstore.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One fetch of a key from Global that concurrent misses may share, and who may keep its bytes.
 *
 * <p><b>Design note.</b> A fetched value's array is handed to the leader's caller without a copy
 * when nobody else can see it: not cached and not shared. Sharing is decided by one race, settled
 * by a compare-and-set on {@link #state}: a joiner {@linkplain #tryJoin() joins} before it waits,
 * the leader {@linkplain #claim() claims} the bytes after it completed the fetch. Whoever comes
 * first wins: a joiner that finds the bytes claimed asks Global itself (as it does when the fetch
 * gave it nothing), and a leader that finds a joiner copies. So a caller never receives an array
 * another caller holds too.
 *
 * <p>Thread-safe.
 */
final class SharedFetch extends CompletableFuture<CachedValue> {
  private static final int OPEN = 0;
  private static final int JOINED = 1;
  private static final int CLAIMED = 2;

  private final AtomicInteger state = new AtomicInteger(OPEN);

  /** A joiner's part: true if it may use the result, false if the leader kept the bytes. */
  boolean tryJoin() {
    return state.compareAndSet(OPEN, JOINED) || state.get() == JOINED;
  }

  /**
   * The leader's part: true if nobody joined, and nobody will: the bytes are the leader's alone.
   */
  boolean claim() {
    return state.compareAndSet(OPEN, CLAIMED);
  }
}
