package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.dstore.proto.DeleteResponse;
import io.dstore.server.Coherence;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.server.internal.DeleteCoordinator.Deleted;
import io.dstore.server.internal.Deletes;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes through a gateway of the cluster store: the single Global's strict delete, made across
 * every gateway.
 *
 * <h2>Design note: the strict delete across gateways</h2>
 *
 * <ol>
 *   <li><b>Mark.</b> One etcd transaction: if {@code k/<key>} still holds the generation read and
 *       no {@code d/<key>} exists, put the mark {@code d/<key>} under this gateway's etcd lease.
 *       Its revision R is the invalidation's seq. A key already marked by another delete: wait
 *       until that mark goes, then start over.
 *   <li><b>Publish.</b> Nothing to do here: every gateway's watch (this one's too) sees the mark,
 *       publishes it to its Locals at seq R and awaits them ({@link Gateway}).
 *   <li><b>Await</b> until this gateway's watch has applied R and every gateway it then sees alive
 *       has acknowledged R or more ({@code a/<id>}); a gateway that dies drops out when etcd
 *       expires its lease. A gateway that joins after R started its watch after R, so it never
 *       needs to be waited for. Fencing ({@link GatewayFence}) makes a gateway's Locals stop
 *       serving before etcd lets it drop out.
 *   <li><b>Remove</b> in one transaction, only if the mark is still ours (same revision): delete
 *       {@code k/<key>} and the mark, and record the answer under {@code r/<request id>}. If our
 *       etcd lease ran out meanwhile, etcd removed the mark: the delete did not happen and is
 *       answered UNAVAILABLE, the key kept.
 * </ol>
 *
 * <p><b>Reads.</b> Until the removal, reads through any gateway still return the value, flagged
 * {@code deleting} when the gateway's watch has seen the mark; a read whose gateway has not yet
 * seen it is safe too, because that gateway has not acknowledged R, so the delete cannot have
 * returned, and its Locals will be told. {@link #flagDeleting} also flags a read during which any
 * mark came or went, if the key changed meanwhile.
 *
 * <p><b>Retries.</b> A delete carrying a request id first looks for {@code r/<id>}: a retry of a
 * completed delete (through any gateway) answers as it did. A retry of one still under way waits
 * for its mark to go, then looks again. Records live at least 5 minutes.
 *
 * <p><b>Eventual mode</b> removes {@code k/<key>} at once (recording the answer) and answers; the
 * gateways' watches publish the removal without awaiting.
 *
 * <p>Thread-safe; no thread blocks on a wait: each step runs when etcd or the watch answers.
 */
public final class ClusterDeletes implements Deletes {
  private static final Logger log = LoggerFactory.getLogger(ClusterDeletes.class);

  private final Client etcd;
  private final EtcdLayout layout;
  private final Gateway gateway;
  private final Storage storage;
  private final Coherence coherence;
  private final Executor executor;

  /** Marks of this gateway's deletes, awaiting acknowledgements, by revision. */
  private final Map<Long, Wait> waits = new ConcurrentHashMap<>();

  /** Deletes waiting for someone else's mark on a key to go. */
  private final Map<ByteString, List<Runnable>> blocked = new ConcurrentHashMap<>();

  private final RecordLease records;
  private volatile boolean closed;

  public ClusterDeletes(
      Client etcd,
      EtcdLayout layout,
      Gateway gateway,
      Storage storage,
      Coherence coherence,
      Executor executor) {
    this.etcd = etcd;
    this.layout = layout;
    this.gateway = gateway;
    this.storage = storage;
    this.coherence = coherence;
    this.executor = executor;
    this.records = new RecordLease(etcd.getLeaseClient());
  }

  @Override
  public CompletableFuture<Deleted> delete(ByteString key, ByteString requestId) {
    CompletableFuture<Deleted> result = new CompletableFuture<>();
    attempt(key, requestId, result);
    return result;
  }

  @Override
  public long beforeRead() {
    return gateway.markEpoch();
  }

  @Override
  public boolean flagDeleting(ByteString key, long generation, long beforeRead) throws IOException {
    if (gateway.markOf(key) != null) {
      return true;
    }
    if (gateway.markEpoch() == beforeRead) {
      return false;
    }
    Optional<StoredInfo> now = storage.stat(key.toByteArray());
    return now.isEmpty() || now.get().generation() != generation;
  }

  @Override
  public boolean isDeleting(ByteString key) {
    return gateway.markOf(key) != null;
  }

  /** Strict deletes of this gateway waiting for acknowledgements now. */
  public int waiting() {
    return waits.size();
  }

  /** The gateways the oldest waiting delete still waits for (for metrics and logs). */
  public List<String> waitedFor() {
    Wait oldest = null;
    for (Wait w : waits.values()) {
      if (oldest == null || w.revision < oldest.revision) {
        oldest = w;
      }
    }
    List<String> ids = new ArrayList<>();
    if (oldest != null) {
      for (Map.Entry<String, String> g : gateway.gateways().entrySet()) {
        if (gateway.ackOf(g.getKey()) < oldest.revision) {
          ids.add(g.getKey() + "@" + g.getValue());
        }
      }
    }
    return ids;
  }

  /**
   * The watch applied more events: ends the waits whose marks every live gateway acknowledged, and
   * fails those whose marks vanished; restarts deletes that were blocked on a mark now gone.
   */
  void viewAdvanced() {
    long applied = gateway.appliedRevision();
    for (Wait w : waits.values()) {
      if (applied < w.revision) {
        continue;
      }
      Long mark = gateway.markOf(w.key);
      if (mark == null || mark.longValue() != w.revision) {
        fail(w, "this gateway lost its etcd lease before every gateway acknowledged");
      } else if (everyoneAcknowledged(w.revision)) {
        if (waits.remove(w.revision, w)) {
          executor.execute(() -> remove(w));
        }
      }
    }
    for (ByteString key : blocked.keySet()) {
      if (gateway.markOf(key) == null) {
        List<Runnable> retries = blocked.remove(key);
        if (retries != null) {
          retries.forEach(executor::execute);
        }
      }
    }
  }

  /** Shutting down: waiting deletes fail UNAVAILABLE, their keys kept (their marks go too). */
  public void close() {
    closed = true;
    for (Wait w : waits.values()) {
      fail(w, "Global is shutting down; the delete did not complete and the key was kept");
    }
    for (ByteString key : blocked.keySet()) {
      List<Runnable> retries = blocked.remove(key);
      if (retries != null) {
        retries.forEach(executor::execute);
      }
    }
  }

  private boolean everyoneAcknowledged(long revision) {
    for (String id : gateway.gateways().keySet()) {
      if (gateway.ackOf(id) < revision) {
        return false;
      }
    }
    return true;
  }

  // ---- the steps -------------------------------------------------------------------------------

  private void attempt(ByteString key, ByteString requestId, CompletableFuture<Deleted> result) {
    if (closed) {
      result.completeExceptionally(
          GrpcErrors.status(ErrorCode.UNAVAILABLE, "Global is shutting down"));
      return;
    }
    byte[] k = key.toByteArray();
    List<Op> reads = new ArrayList<>();
    reads.add(Op.get(layout.meta(k), GetOption.DEFAULT));
    reads.add(Op.get(layout.mark(k), GetOption.DEFAULT));
    if (!requestId.isEmpty()) {
      reads.add(Op.get(layout.request(requestId.toByteArray()), GetOption.DEFAULT));
    }
    etcd.getKVClient()
        .txn()
        .Then(reads.toArray(Op[]::new))
        .commit()
        .whenCompleteAsync(
            (r, e) -> {
              if (e != null) {
                result.completeExceptionally(unavailable("read the key", e));
                return;
              }
              try {
                afterRead(key, requestId, r, result);
              } catch (RuntimeException | IOException x) {
                result.completeExceptionally(x);
              }
            },
            executor);
  }

  private void afterRead(
      ByteString key, ByteString requestId, TxnResponse r, CompletableFuture<Deleted> result)
      throws IOException {
    List<GetResponse> gets = r.getGetResponses();
    if (gets.size() > 2 && !gets.get(2).getKvs().isEmpty()) {
      result.complete(recorded(gets.get(2).getKvs().get(0)));
      return;
    }
    if (gets.get(0).getKvs().isEmpty()) {
      result.completeExceptionally(GrpcErrors.status(ErrorCode.NOT_FOUND, "key not found"));
      return;
    }
    long generation = gets.get(0).getKvs().get(0).getCreateRevision();
    if (!gets.get(1).getKvs().isEmpty()) {
      // Another delete (or our own first attempt) is under way: wait for its mark to go.
      blocked
          .computeIfAbsent(key, x -> new java.util.concurrent.CopyOnWriteArrayList<>())
          .add(() -> attempt(key, requestId, result));
      if (gateway.markOf(key) == null && gateway.appliedRevision() >= r.getHeader().getRevision()) {
        viewAdvanced(); // it went before we registered
      }
      return;
    }
    if (coherence == Coherence.EVENTUAL) {
      removeNow(key, requestId, generation, result);
    } else {
      mark(key, requestId, generation, result);
    }
  }

  private void mark(
      ByteString key, ByteString requestId, long generation, CompletableFuture<Deleted> result) {
    byte[] k = key.toByteArray();
    long lease = gateway.leaseId();
    if (lease == 0) {
      result.completeExceptionally(
          GrpcErrors.status(
              ErrorCode.UNAVAILABLE, "this gateway is not registered with etcd now; retry"));
      return;
    }
    DeleteMark mark = new DeleteMark(generation, requestId.toByteArray(), gateway.id());
    etcd.getKVClient()
        .txn()
        .If(
            new Cmp(layout.meta(k), Cmp.Op.EQUAL, CmpTarget.createRevision(generation)),
            new Cmp(layout.mark(k), Cmp.Op.EQUAL, CmpTarget.version(0)))
        .Then(
            Op.put(
                layout.mark(k),
                ByteSequence.from(mark.encode()),
                PutOption.builder().withLeaseId(lease).build()))
        .commit()
        .whenCompleteAsync(
            (r, e) -> {
              if (e != null) {
                // The mark may or may not exist: look, and go on if it does.
                recoverMark(key, requestId, generation, e, result);
              } else if (!r.isSucceeded()) {
                attempt(key, requestId, result); // changed meanwhile: look again
              } else {
                Wait w = new Wait(key, requestId, generation, r.getHeader().getRevision(), result);
                waits.put(w.revision, w);
                viewAdvanced();
              }
            },
            executor);
  }

  /** The mark transaction failed in transit: go on with the delete if the mark was made. */
  private void recoverMark(
      ByteString key,
      ByteString requestId,
      long generation,
      Throwable failure,
      CompletableFuture<Deleted> result) {
    etcd.getKVClient()
        .get(layout.mark(key.toByteArray()))
        .whenCompleteAsync(
            (r, e) -> {
              KeyValue kv = e == null && !r.getKvs().isEmpty() ? r.getKvs().get(0) : null;
              DeleteMark mark = null;
              if (kv != null) {
                try {
                  mark = DeleteMark.decode(kv.getValue().getBytes());
                } catch (IOException x) {
                  mark = null;
                }
              }
              if (mark != null
                  && mark.gatewayId().equals(gateway.id())
                  && mark.generation() == generation
                  && java.util.Arrays.equals(mark.requestId(), requestId.toByteArray())) {
                Wait w = new Wait(key, requestId, generation, kv.getModRevision(), result);
                waits.put(w.revision, w);
                viewAdvanced();
              } else {
                // No mark of ours (or unknown; an orphan is swept): the delete did not happen.
                result.completeExceptionally(unavailable("mark the key deleting", failure));
              }
            },
            executor);
  }

  /**
   * Removes marks this gateway made that no delete of its own waits on (their delete failed in
   * transit), once seen orphaned by two sweeps in a row: such a mark would block every later delete
   * of its key until this gateway's lease ends. Run every few seconds.
   */
  void sweepOrphanMarks() {
    java.util.Set<Long> orphans = new java.util.HashSet<>();
    for (Map.Entry<ByteString, Gateway.MarkSeen> m : gateway.marks().entrySet()) {
      Gateway.MarkSeen seen = m.getValue();
      if (seen.gatewayId().equals(gateway.id()) && !waits.containsKey(seen.revision())) {
        orphans.add(seen.revision());
        if (lastOrphans.contains(seen.revision())) {
          byte[] k = m.getKey().toByteArray();
          log.warn("removing an orphaned delete mark on a key (revision {})", seen.revision());
          etcd.getKVClient()
              .txn()
              .If(new Cmp(layout.mark(k), Cmp.Op.EQUAL, CmpTarget.modRevision(seen.revision())))
              .Then(Op.delete(layout.mark(k), DeleteOption.DEFAULT))
              .commit();
        }
      }
    }
    lastOrphans = orphans;
  }

  private volatile java.util.Set<Long> lastOrphans = java.util.Set.of();

  private void remove(Wait w) {
    byte[] k = w.key.toByteArray();
    Deleted deleted = new Deleted(w.generation, w.revision);
    List<Op> ops = new ArrayList<>();
    ops.add(Op.delete(layout.meta(k), DeleteOption.DEFAULT));
    ops.add(Op.delete(layout.mark(k), DeleteOption.DEFAULT));
    addRecord(ops, w.requestId, deleted);
    etcd.getKVClient()
        .txn()
        .If(new Cmp(layout.mark(k), Cmp.Op.EQUAL, CmpTarget.modRevision(w.revision)))
        .Then(ops.toArray(Op[]::new))
        .commit()
        .whenComplete(
            (r, e) -> {
              if (e != null) {
                w.result.completeExceptionally(
                    GrpcErrors.status(
                        ErrorCode.OUTCOME_UNKNOWN,
                        "the delete may or may not have completed: etcd failed: " + e.getMessage(),
                        e));
              } else if (!r.isSucceeded()) {
                w.result.completeExceptionally(
                    GrpcErrors.status(
                        ErrorCode.UNAVAILABLE,
                        "this gateway lost its etcd lease during the delete; the key was kept"));
              } else {
                w.result.complete(deleted);
              }
            });
  }

  private void removeNow(
      ByteString key, ByteString requestId, long generation, CompletableFuture<Deleted> result) {
    byte[] k = key.toByteArray();
    List<Op> ops = new ArrayList<>();
    ops.add(Op.delete(layout.meta(k), DeleteOption.DEFAULT));
    // The seq is the revision of this very transaction, known only once it commits; the record
    // says 0 for it, which a retry answers.
    addRecord(ops, requestId, new Deleted(generation, 0));
    etcd.getKVClient()
        .txn()
        .If(new Cmp(layout.meta(k), Cmp.Op.EQUAL, CmpTarget.createRevision(generation)))
        .Then(ops.toArray(Op[]::new))
        .commit()
        .whenCompleteAsync(
            (r, e) -> {
              if (e != null) {
                result.completeExceptionally(
                    GrpcErrors.status(
                        ErrorCode.OUTCOME_UNKNOWN,
                        "the delete may or may not have happened: etcd failed: " + e.getMessage(),
                        e));
              } else if (!r.isSucceeded()) {
                attempt(key, requestId, result);
              } else {
                result.complete(new Deleted(generation, r.getHeader().getRevision()));
              }
            },
            executor);
  }

  private void addRecord(List<Op> ops, ByteString requestId, Deleted deleted) {
    if (requestId.isEmpty()) {
      return;
    }
    long lease = recordsLease();
    byte[] answer =
        DeleteResponse.newBuilder()
            .setGeneration(deleted.generation())
            .setSeq(deleted.seq())
            .build()
            .toByteArray();
    ops.add(
        Op.put(
            layout.request(requestId.toByteArray()),
            ByteSequence.from(answer),
            lease == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(lease).build()));
  }

  private long recordsLease() {
    return records.current();
  }

  private static Deleted recorded(KeyValue kv) throws IOException {
    try {
      DeleteResponse r = DeleteResponse.parseFrom(kv.getValue().getBytes());
      return new Deleted(r.getGeneration(), r.getSeq());
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(
          "unreadable request record " + kv.getKey().toString(UTF_8) + ": " + e.getMessage(), e);
    }
  }

  private void fail(Wait w, String why) {
    if (waits.remove(w.revision, w)) {
      w.result.completeExceptionally(GrpcErrors.status(ErrorCode.UNAVAILABLE, why));
    }
  }

  private static RuntimeException unavailable(String what, Throwable e) {
    Throwable cause = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
    return GrpcErrors.status(
        ErrorCode.UNAVAILABLE,
        "etcd could not " + what + ": " + (cause != null ? cause.getMessage() : e.getMessage()),
        e);
  }

  /** One of this gateway's strict deletes, marked at {@code revision}, awaiting the others. */
  private record Wait(
      ByteString key,
      ByteString requestId,
      long generation,
      long revision,
      CompletableFuture<Deleted> result) {}
}
