package io.dstore.server.internal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A storage backend on a disk, as {@link DiskSpace} sees it: where its data lives (whose filesystem
 * is watched), whether it stopped writing after the disk filled up, and how to make it write again.
 * {@link RocksDbStorage} implements it: RocksDB's background error after an ENOSPC is sticky until
 * {@code resume()}.
 */
public interface SpaceAware {
  /** The directory holding the data; its filesystem's free space is what counts. */
  Path directory();

  /**
   * Why the storage stopped accepting writes (a write or a background flush ran out of space), or
   * null while it writes normally.
   */
  String writesBlockedBy();

  /**
   * Asks the storage to accept writes again (RocksDB: {@code resume()}). Does nothing when writes
   * are not blocked.
   *
   * @throws IOException if the storage is still unable to write (the disk is still full)
   */
  void resumeWrites() throws IOException;
}
