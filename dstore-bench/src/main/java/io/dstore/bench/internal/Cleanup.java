package io.dstore.bench.internal;

import java.util.List;

/** Deletes what a cell wrote, so that servers keep memory for the next cells. */
final class Cleanup {
  private Cleanup() {}

  static void deleteAll(KvClient client, List<BenchKey> keys) throws InterruptedException {
    if (keys.isEmpty()) {
      return;
    }
    if (client instanceof RedisTarget.RedisClientConn redis) {
      redis.deleteAll(keys);
      return;
    }
    Cells.parallel(keys.size(), 8, i -> client.delete(keys.get(i)));
  }
}
