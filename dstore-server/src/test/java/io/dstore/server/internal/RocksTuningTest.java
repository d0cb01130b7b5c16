package io.dstore.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.RocksDB;

/**
 * The memtable cap on small filesystems: RocksDB resumes after a full disk only once free space
 * reaches its largest memtable, so no memtable may be a large part of the disk.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RocksTuningTest {
  private static final long MIB = 1 << 20;

  static {
    RocksDB.loadLibrary();
  }

  @Test
  void aSixtyFourMibDiskGetsMemtablesOfASixteenthOfIt() {
    try (RocksTuning tuning = new RocksTuning(true, 64 * MIB)) {
      assertThat(largestMemtable(tuning)).isEqualTo(4 * MIB);
    }
  }

  @Test
  void disksOfOneGibAndMoreKeepTheFullSizes() {
    try (RocksTuning small = new RocksTuning(true, 1L << 30);
        RocksTuning big = new RocksTuning(true, 1L << 40);
        RocksTuning unknown = new RocksTuning(true)) {
      assertThat(largestMemtable(small)).isEqualTo(64 * MIB);
      assertThat(largestMemtable(big)).isEqualTo(64 * MIB);
      assertThat(largestMemtable(unknown)).isEqualTo(64 * MIB);
    }
  }

  @Test
  void theCapNeverGoesBelowOneMib() {
    assertThat(RocksTuning.writeBufferCap(4 * MIB)).isEqualTo(MIB);
    assertThat(RocksTuning.writeBufferCap(0)).isEqualTo(Long.MAX_VALUE);
  }

  private static long largestMemtable(RocksTuning tuning) {
    return tuning.families().stream()
        .map(ColumnFamilyDescriptor::getOptions)
        .mapToLong(o -> o.writeBufferSize())
        .max()
        .orElseThrow();
  }
}
