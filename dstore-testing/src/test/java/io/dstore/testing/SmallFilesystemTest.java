package io.dstore.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link SmallFilesystem} on this machine: skipped (with the reason) where it cannot mount. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SmallFilesystemTest {
  private static final long SIZE = 8L << 20;

  @Test
  void mountsATmpfsOfTheSizeAskedAndUnmountsItOnClose() throws Exception {
    Path dir;
    try (SmallFilesystem fs = SmallFilesystem.mountOrSkip(SIZE)) {
      dir = fs.directory();
      assertThat(Files.getFileStore(dir).type()).isEqualTo("tmpfs");
      assertThat(Files.getFileStore(dir).getTotalSpace()).isEqualTo(SIZE);
      assertThat(mounts()).contains(" " + dir + " ");
    }
    assertThat(mounts()).doesNotContain(" " + dir + " ");
    assertThat(dir).doesNotExist();
  }

  @Test
  void fillLeavesLessThanOnePageFreeAndRemovingTheFillerGivesTheSpaceBack() throws Exception {
    try (SmallFilesystem fs = SmallFilesystem.mountOrSkip(SIZE)) {
      Path filler = fs.fill("filler");
      assertThat(fs.freeBytes()).isLessThan(4096);
      assertThat(Files.size(filler)).isGreaterThan(SIZE - (64 << 10));
      Files.delete(filler);
      assertThat(fs.freeBytes()).isEqualTo(SIZE);
    }
  }

  @Test
  void closeUnmountsLazilyWhenAFileIsStillOpen() throws Exception {
    Path dir;
    SmallFilesystem fs = SmallFilesystem.mountOrSkip(SIZE);
    dir = fs.directory();
    Path file = dir.resolve("held");
    Files.writeString(file, "held", StandardCharsets.UTF_8);
    try (var held = Files.newInputStream(file)) {
      fs.close(); // busy: plain umount fails, the lazy one detaches it
      assertThat(mounts()).doesNotContain(" " + dir + " ");
      assertThat(new String(held.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("held");
    }
    fs.close(); // idempotent
  }

  private static String mounts() throws Exception {
    return Files.readString(Path.of("/proc/mounts"), StandardCharsets.UTF_8);
  }
}
