package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Removes the S3 objects that no value references, after a grace period; aborts multipart uploads
 * nobody will complete.
 *
 * <p><b>Why it never removes bytes a visible key or an upload in flight needs.</b> Three rules of
 * {@link ClusterStore} make it safe:
 *
 * <ol>
 *   <li>an object {@code v/<id>} is created (by PutObject or a multipart upload) only after its
 *       intent {@code u/<id>} exists in etcd;
 *   <li>a commit references {@code v/<id>} from a {@code k/} meta only in a txn that requires
 *       {@code u/<id>} to exist, and deletes it;
 *   <li>an intent is never created again once gone (upload ids are random UUIDs, used once).
 * </ol>
 *
 * A pass (1) lists the objects; (2) reads, at one etcd revision X, the objects referenced by {@code
 * k/} metas and the intents; (3) takes as candidate each object listed in (1) that is neither
 * referenced nor has its intent at X. Such an object existed before X (it was listed before X was
 * read), so its intent was created before X (rule 1) and is gone at X: by rule 3 it will never
 * exist again, so by rule 2 no commit after X can reference the object; and no meta references it
 * at X. Nothing ever will. (4) It deletes the objects that were already candidates in a pass at
 * least {@code grace} ago (so always in a later pass than the first that saw them), which gives a
 * reader that opened a value just before its key was deleted the grace to finish reading. An object
 * that is a candidate once stays one, so the memory of candidates only delays deletion; losing it
 * (a restart) only restarts the grace.
 *
 * <p>Multipart uploads: one is aborted when its intent is gone at X (the same argument: it can
 * never be committed) and was already so in a pass at least {@code grace} ago. Its age is measured
 * on the collector's clock from that first pass, not from S3's "initiated" time, whose clock may
 * differ from ours. S3 needs ListMultipartUploads for this (s3proxy 2.6.0 with the filesystem
 * provider has it); a store that lacks it (answers 501) is logged once and skipped.
 *
 * <p>Several gateways may run collectors at once: every step is idempotent (deleting a deleted
 * object or aborting an aborted upload succeeds), so no election is needed; each gateway runs its
 * own, at the cost of repeated listings.
 *
 * <p>Thread-safe: passes are serialised.
 */
public final class BlobCollector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BlobCollector.class);

  private final Blobs blobs;
  private final EtcdCalls etcd;
  private final EtcdLayout layout;
  private final Duration grace;
  private final InstantSource clock;
  private final ScheduledExecutorService scheduler;
  private final Duration interval;

  /** Candidates: object (or multipart upload) → when a pass first found it one. */
  private final Map<String, Instant> candidates = new HashMap<>();

  private boolean multipartUnsupported;
  private ScheduledFuture<?> task;

  /** What one pass did. */
  public record Pass(
      int objects, int referenced, int intents, int candidates, int deleted, int aborted) {}

  /**
   * @param scheduler runs {@link #runOnce} every {@code cfg.collectorInterval()} after {@link
   *     #start}; not shut down by {@link #close}
   * @param clock measures the grace
   */
  public BlobCollector(
      ClusterStore store, ScheduledExecutorService scheduler, InstantSource clock) {
    this.blobs = store.blobs();
    this.etcd = store.etcdCalls();
    this.layout = store.layout();
    this.grace = store.config().collectorGrace();
    this.interval = store.config().collectorInterval();
    this.clock = clock;
    this.scheduler = scheduler;
  }

  /** Runs a pass every interval (the first after one interval); failures are logged. */
  public synchronized void start() {
    if (task == null) {
      task =
          scheduler.scheduleWithFixedDelay(
              () -> {
                try {
                  runOnce();
                } catch (IOException | RuntimeException e) {
                  LOG.warn("blob collector pass failed (next in {}): {}", interval, e.toString());
                }
              },
              interval.toMillis(),
              interval.toMillis(),
              TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
      task = null;
    }
  }

  /**
   * One pass; see the class note.
   *
   * @throws IOException if S3 or etcd failed; nothing was deleted after the failure
   */
  public synchronized Pass runOnce() throws IOException {
    Instant now = clock.instant();
    // (1) objects and unfinished uploads, listed before X is read
    List<Blobs.Blob> objects = blobs.list();
    List<Blobs.Incomplete> incomplete = List.of();
    if (!multipartUnsupported) {
      try {
        incomplete = blobs.listIncomplete();
      } catch (IOException e) {
        if (e.getCause() instanceof S3Exception s3e && s3e.statusCode() == 501) {
          multipartUnsupported = true;
          LOG.warn("S3 does not list multipart uploads; unfinished ones are not aborted: {}", e);
        } else {
          throw e;
        }
      }
    }
    // (2) at one revision X: referenced objects and intents
    Set<String> referenced = new HashSet<>();
    long x =
        etcd.scan(
            layout.metaPrefix(),
            0,
            false,
            kv -> {
              Meta meta = Meta.decode(kv.getKey().toString(UTF_8), kv.getValue().getBytes());
              if (!meta.isInline()) {
                referenced.add(meta.object());
              }
            });
    Set<String> intents = new HashSet<>();
    etcd.scan(layout.uploadPrefix(), x, true, kv -> intents.add(layout.uploadIdOf(kv.getKey())));

    // (3) candidates; (4) delete those that were candidates at least grace ago
    Set<String> stillCandidates = new HashSet<>();
    int deleted = 0;
    for (Blobs.Blob object : objects) {
      String id = blobs.uploadIdOf(object.name());
      if (id == null || referenced.contains(object.name()) || intents.contains(id)) {
        continue;
      }
      stillCandidates.add(object.name());
      Instant since = candidates.putIfAbsent(object.name(), now);
      if (since != null && !since.plus(grace).isAfter(now)) {
        blobs.delete(object.name());
        candidates.remove(object.name());
        stillCandidates.remove(object.name());
        deleted++;
      }
    }
    int aborted = 0;
    for (Blobs.Incomplete upload : incomplete) {
      String id = blobs.uploadIdOf(upload.name());
      if (id == null || intents.contains(id)) {
        continue;
      }
      String tag = "multipart:" + upload.multipartId();
      stillCandidates.add(tag);
      Instant since = candidates.putIfAbsent(tag, now);
      if (since != null && !since.plus(grace).isAfter(now)) {
        blobs.abortMultipart(upload.name(), upload.multipartId());
        candidates.remove(tag);
        stillCandidates.remove(tag);
        aborted++;
      }
    }
    // forget candidates that are gone (deleted by another gateway's collector)
    candidates.keySet().retainAll(stillCandidates);
    Pass pass =
        new Pass(
            objects.size(),
            referenced.size(),
            intents.size(),
            stillCandidates.size(),
            deleted,
            aborted);
    if (deleted > 0 || aborted > 0) {
      LOG.info("blob collector: {}", pass);
    }
    return pass;
  }
}
