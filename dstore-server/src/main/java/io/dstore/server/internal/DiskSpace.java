package io.dstore.server.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disk space as a managed resource: the free-space watermark ({@code --min-free-disk}) below which
 * Global refuses new values with {@code NO_SPACE}, and the periodic check that lets a storage that
 * stopped writing after a full disk (RocksDB's sticky background error) write again once space is
 * back, without a restart.
 *
 * <p>Only new values are refused ({@link #checkWrite}): deletes, which free space, and reads are
 * never. Checking costs no system call: the free space is read from a {@link FreeSpace} source (the
 * data directory's {@link FileStore#getUsableSpace}, or one injected by tests) at most every {@link
 * #REFRESH} on the injected monotonic clock when a write asks, and every {@link #CHECK_INTERVAL} by
 * a background thread whatever the clock says. The background check also resumes a blocked storage
 * when free space is at or above the watermark (with the watermark off, whenever free space reads
 * above zero), and logs it.
 *
 * <p>Thread-safe.
 */
public final class DiskSpace implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DiskSpace.class);

  /** How often the background thread reads free space and tries to resume a blocked storage. */
  public static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);

  /** A write re-reads free space when the last reading is older than this. */
  static final Duration REFRESH = Duration.ofMillis(250);

  /** The default watermark's floor: 1 GiB. */
  public static final long DEFAULT_MIN_FREE_BYTES = 1L << 30;

  /** The default watermark: this percentage of the filesystem, when more than 1 GiB. */
  public static final int DEFAULT_MIN_FREE_PERCENT = 5;

  /** Where free space is read from: bytes usable by this process. */
  @FunctionalInterface
  public interface FreeSpace {
    long usableBytes() throws IOException;
  }

  private final FreeSpace source;
  private final long watermark;
  private final String where;
  private final SpaceAware storage; // null when the storage is not on a disk
  private final LongSupplier nanoClock;
  private final AtomicLong refusals = new AtomicLong();
  private final Object readLock = new Object();
  private volatile long free;
  private volatile long readAt;
  private volatile boolean readFailed;

  @GuardedBy("this")
  private ScheduledExecutorService checker;

  /**
   * @param source free space, in bytes
   * @param watermark refuse new values below this many free bytes; 0 never refuses
   * @param where what the source measures, for messages ({@code /data's filesystem})
   * @param storage the storage to resume, or null
   */
  public DiskSpace(
      FreeSpace source, long watermark, String where, SpaceAware storage, LongSupplier nanoClock) {
    if (watermark < 0) {
      throw new IllegalArgumentException("watermark must be >= 0, got " + watermark);
    }
    this.source = source;
    this.watermark = watermark;
    this.where = where;
    this.storage = storage;
    this.nanoClock = nanoClock;
    this.free = Long.MAX_VALUE; // unknown until read: refuse nothing
    this.readAt = nanoClock.getAsLong();
    this.free = read();
  }

  /** The watermark of a filesystem of {@code totalBytes}: the larger of 1 GiB and 5% of it. */
  public static long defaultWatermark(long totalBytes) {
    return Math.max(DEFAULT_MIN_FREE_BYTES, totalBytes / 100 * DEFAULT_MIN_FREE_PERCENT);
  }

  /** The free-space source of the filesystem holding {@code dir}. */
  public static FreeSpace of(FileStore store) {
    return store::getUsableSpace;
  }

  /** The filesystem holding {@code dir}. */
  public static FileStore fileStore(Path dir) throws IOException {
    return Files.getFileStore(dir);
  }

  /** Starts the background check; {@link #close} stops it. */
  public synchronized DiskSpace start() {
    if (checker == null) {
      checker =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "dstore-global-disk");
                t.setDaemon(true);
                return t;
              });
      long every = CHECK_INTERVAL.toMillis();
      checker.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    }
    return this;
  }

  /**
   * Throws {@code NO_SPACE} if a new value must be refused now: free space is below the watermark,
   * or the storage stopped writing after the disk filled up. Cheap: no system call unless the last
   * reading is older than {@link #REFRESH}.
   */
  public void checkWrite() {
    String blockedBy = storage == null ? null : storage.writesBlockedBy();
    long now = nanoClock.getAsLong();
    if (now - readAt >= REFRESH.toNanos()) {
      refresh(now, false);
    }
    long f = free;
    if (watermark > 0 && f < watermark) {
      refusals.incrementAndGet();
      throw GrpcErrors.status(
          ErrorCode.NO_SPACE,
          "refusing new values: "
              + format(f)
              + " free on "
              + where
              + ", below the watermark of "
              + format(watermark)
              + " (--min-free-disk); delete values or free disk space, deletes still work");
    }
    if (blockedBy != null) {
      refusals.incrementAndGet();
      throw GrpcErrors.status(
          ErrorCode.NO_SPACE,
          "refusing new values: the storage stopped writing after running out of disk space ("
              + blockedBy
              + "); it resumes by itself once free space on "
              + where
              + " is at or above the watermark of "
              + format(watermark)
              + " (--min-free-disk); "
              + format(f)
              + " free now");
    }
  }

  /**
   * One round of the background check: reads free space and, if the storage stopped writing and
   * space is back, resumes it. Runs every {@link #CHECK_INTERVAL}; tests may call it directly.
   */
  public void check() {
    try {
      refresh(nanoClock.getAsLong(), true);
      if (storage == null) {
        return;
      }
      String blockedBy = storage.writesBlockedBy();
      long f = free;
      if (blockedBy != null && (watermark > 0 ? f >= watermark : f > 0)) {
        try {
          storage.resumeWrites();
          log.warn(
              "Storage resumed writes after running out of disk space ({}); {} free on {}",
              blockedBy,
              format(f),
              where);
        } catch (IOException | RuntimeException e) {
          log.warn(
              "Storage could not resume writes yet ({} free on {}): {}",
              format(f),
              where,
              e.getMessage()); // no stack trace: this repeats every second until space is back
        }
      }
    } catch (RuntimeException e) {
      log.warn("Disk space check failed", e); // keep the schedule alive
    }
  }

  /** Free bytes at the last reading. */
  public long freeBytes() {
    return free;
  }

  /** The watermark in bytes; 0 when off. */
  public long watermarkBytes() {
    return watermark;
  }

  /** Whether the storage stopped writing after the disk filled up (metric: 0 or 1). */
  public boolean storageWriteBlocked() {
    return storage != null && storage.writesBlockedBy() != null;
  }

  /** New values refused for want of space since the start. */
  public long refusals() {
    return refusals.get();
  }

  /** Stops the background check. Idempotent. */
  @Override
  public synchronized void close() {
    if (checker != null) {
      checker.shutdownNow();
    }
  }

  private void refresh(long now, boolean always) {
    synchronized (readLock) {
      if (always || now - readAt >= REFRESH.toNanos()) { // another write may have just read
        free = read();
        readAt = now;
      }
    }
  }

  private long read() {
    try {
      long f = source.usableBytes();
      if (readFailed) {
        readFailed = false;
        log.info("Free disk space on {} can be read again: {}", where, format(f));
      }
      return f;
    } catch (IOException | RuntimeException e) {
      if (!readFailed) {
        readFailed = true;
        log.warn("Cannot read free disk space on {}; keeping the last reading: {}", where, e);
      }
      return free;
    }
  }

  /** {@code 812.5 MiB}, {@code 1.0 GiB}, {@code 512 B}. */
  static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
      return bytes + " B";
    }
    double value = bytes;
    int unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
  }
}
