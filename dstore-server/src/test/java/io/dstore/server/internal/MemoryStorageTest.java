package io.dstore.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.server.Storage;
import io.dstore.server.StorageConformanceTest;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The heap backend against the shared contract, plus its memory accounting. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MemoryStorageTest extends StorageConformanceTest {
  @Override
  protected Storage newStorage() {
    return Storage.memory();
  }

  @Override
  protected long spaceInUse(Storage storage) {
    return ((MemoryStorage) storage).heldBytes();
  }

  @Test
  void describesItself() {
    assertThat(storage.describe()).isEqualTo("memory");
  }

  @Test
  void smallValuesCostTheirSizeNotAChunk() throws Exception {
    for (int i = 0; i < 1000; i++) {
      put(key("k" + i), new byte[10]);
    }
    for (int i = 0; i < 10; i++) {
      try (Storage.Upload upload = storage.create(key("unknown-size-" + i), -1)) {
        upload.write(java.nio.ByteBuffer.wrap(new byte[100]));
        upload.commit(sha256(new byte[100]));
      }
    }
    assertThat(spaceInUse(storage)).isEqualTo(1000 * 10 + 10 * 100);
  }

  @Test
  void deleteReleasesTheBytes() throws Exception {
    put(key("k"), new byte[3 * MIB]);
    assertThat(spaceInUse(storage)).isEqualTo(3L * MIB);
    storage.delete(key("k"));
    assertThat(spaceInUse(storage)).isZero();
  }
}
