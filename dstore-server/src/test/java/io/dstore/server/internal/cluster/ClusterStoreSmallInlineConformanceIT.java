package io.dstore.server.internal.cluster;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * The shared contract again with a 1 KiB inline threshold, so that the suite's small values of a
 * few KiB (and the 1 KiB keys' values) go through S3 too.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterStoreSmallInlineConformanceIT extends ClusterStoreConformanceIT {
  @Override
  protected int inlineThreshold() {
    return 1024;
  }
}
