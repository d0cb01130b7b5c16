package io.dstore.server.internal;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Deletes as {@link GlobalService} sees them: a single Global's {@link DeleteCoordinator}, or a
 * gateway's {@link io.dstore.server.internal.cluster.ClusterDeletes}, which runs the same strict
 * delete across every gateway of a cluster. Implementations are thread-safe and never block the
 * calling thread on a wait for Locals.
 */
public interface Deletes {
  /**
   * Deletes {@code key}. The future completes with what was removed, or fails with NOT_FOUND,
   * UNAVAILABLE (the delete did not happen) or another status.
   *
   * @param requestId the caller's id for exactly-once retries, or empty; a delete retried with the
   *     id of one that completed answers as it did
   */
  CompletableFuture<DeleteCoordinator.Deleted> delete(ByteString key, ByteString requestId);

  /** A mark to take just before reading a value, for {@link #flagDeleting} after the read. */
  long beforeRead();

  /**
   * Whether a value of {@code generation}, read after {@code beforeRead} was taken, must be flagged
   * {@code deleting} (not to be cached): a strict delete of it is under way, or one began and ended
   * while it was being read.
   */
  boolean flagDeleting(ByteString key, long generation, long beforeRead) throws IOException;

  /** Whether a strict delete of {@code key} is under way (revalidation calls copies invalid). */
  boolean isDeleting(ByteString key);
}
