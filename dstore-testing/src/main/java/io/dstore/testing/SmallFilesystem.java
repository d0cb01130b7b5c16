package io.dstore.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real filesystem of a fixed, small size for tests that must run out of disk space: a {@code
 * tmpfs} mounted on a fresh temporary directory, unmounted (and the directory removed) on {@link
 * #close}. Mounting needs Linux, the {@code mount} and {@code umount} programs and root (or
 * CAP_SYS_ADMIN); when any is missing, {@link #mount} throws {@link Unavailable} whose message says
 * which, and {@link #mountOrSkip} turns that into a skipped test with that reason.
 *
 * <p>Unmounting tries {@code umount}, then a lazy {@code umount -l} (the filesystem disappears once
 * the last process holding a file on it lets go). A shutdown hook unmounts lazily what a test left
 * mounted, so an aborted test run does not leave tmpfs mounts behind (a SIGKILL of the JVM still
 * can). Not thread-safe: one test owns one instance.
 */
public final class SmallFilesystem implements AutoCloseable {
  private static final long COMMAND_SECONDS = 30;

  private final Path dir;
  private final long size;
  private final Thread unmountAtExit;
  private boolean closed;

  /** Why a small filesystem cannot be mounted here (not root, no mount program, refused...). */
  public static final class Unavailable extends IOException {
    private static final long serialVersionUID = 1L;

    Unavailable(String reason) {
      super(reason);
    }
  }

  private SmallFilesystem(Path dir, long size) {
    this.dir = dir;
    this.size = size;
    this.unmountAtExit =
        new Thread(() -> unmount(true), "small-filesystem-unmount-" + dir.getFileName());
  }

  /**
   * Mounts a tmpfs of {@code bytes} (rounded up to whole pages by the kernel) on a fresh directory
   * under the system's temporary directory.
   *
   * @throws Unavailable if it cannot be done here; the message says what is missing
   * @throws IOException if the temporary directory cannot be created or removed again
   */
  public static SmallFilesystem mount(long bytes) throws IOException {
    if (bytes <= 0) {
      throw new IllegalArgumentException("size must be > 0, got " + bytes);
    }
    String os = System.getProperty("os.name", "");
    if (!os.toLowerCase(Locale.ROOT).contains("linux")) {
      throw new Unavailable("a tmpfs mount needs Linux; this is " + os);
    }
    for (String program : List.of("mount", "umount")) {
      if (Tools.onPath(program).isEmpty()) {
        throw new Unavailable("a tmpfs mount needs the '" + program + "' program on PATH");
      }
    }
    String uid = effectiveUid();
    if (!"0".equals(uid)) {
      throw new Unavailable(
          "a tmpfs mount needs root; this test runs as uid " + uid + " (run it as root)");
    }
    Path dir = Files.createTempDirectory("dstore-small-fs-");
    Result mounted = run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", dir.toString());
    if (mounted.exit() != 0) {
      Files.deleteIfExists(dir);
      throw new Unavailable(
          "mount -t tmpfs refused (exit " + mounted.exit() + "): " + mounted.output().strip());
    }
    SmallFilesystem fs = new SmallFilesystem(dir, bytes);
    Runtime.getRuntime().addShutdownHook(fs.unmountAtExit);
    FileStore store = Files.getFileStore(dir);
    if (!"tmpfs".equals(store.type())) {
      fs.close();
      throw new Unavailable("mounted a tmpfs on " + dir + " but it reads as " + store.type());
    }
    return fs;
  }

  /**
   * {@link #mount}, or aborts the calling JUnit test (a skip, not a failure) with the reason it
   * cannot be done here.
   */
  public static SmallFilesystem mountOrSkip(long bytes) throws IOException {
    try {
      return mount(bytes);
    } catch (Unavailable e) {
      String reason = "needs a " + bytes + "-byte tmpfs: " + e.getMessage();
      System.out.println("skipped: " + reason);
      Assumptions.abort(reason);
      throw new AssertionError("unreachable", e);
    }
  }

  /** The mount point: an empty directory when mounted. */
  public Path directory() {
    return dir;
  }

  /** The size asked for, in bytes. */
  public long size() {
    return size;
  }

  /** Bytes still free for this process. */
  public long freeBytes() throws IOException {
    return Files.getFileStore(dir).getUsableSpace();
  }

  /**
   * Writes {@code name} (in the mount point) until the filesystem refuses (ENOSPC), then returns
   * its path: another process's file filling the disk. Writes 1 MiB blocks, then smaller ones down
   * to 4 KiB, so what is left free is less than one page.
   */
  public Path fill(String name) throws IOException {
    Path file = dir.resolve(name);
    try (OutputStream out =
        Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      for (int block = 1 << 20; block >= 4096; block /= 2) {
        byte[] bytes = new byte[block];
        while (true) {
          try {
            out.write(bytes);
            out.flush();
          } catch (IOException e) {
            break; // full at this block size; try a smaller one
          }
        }
      }
    } catch (IOException e) {
      // closing a file that hit ENOSPC may report it again: the file stays as it is
    }
    return file;
  }

  /**
   * {@link #fill}, then gives back {@code freeBytes} (rounded to whole pages by the kernel) by
   * cutting the filler short: a disk that fills up after that many more bytes.
   */
  public Path fillLeaving(String name, long freeBytes) throws IOException {
    Path file = fill(name);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(Math.max(0, channel.size() - freeBytes));
    }
    return file;
  }

  /**
   * Unmounts (lazily if it is busy) and removes the mount point. Idempotent.
   *
   * @throws IOException if neither umount nor umount -l worked; the message says why
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(unmountAtExit);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook unmounts
    }
    String failure = unmount(false);
    if (failure != null) {
      throw new IOException(failure);
    }
  }

  /** Unmounts and removes the directory; returns null, or why it could not. */
  private String unmount(boolean quiet) {
    try {
      Result plain = run("umount", dir.toString());
      if (plain.exit() != 0) {
        Result lazy = run("umount", "-l", dir.toString());
        if (lazy.exit() != 0) {
          return "cannot unmount the tmpfs on "
              + dir
              + ": umount: "
              + plain.output().strip()
              + "; umount -l: "
              + lazy.output().strip();
        }
        if (!quiet) {
          System.out.println("[small-filesystem] " + dir + " was busy: unmounted lazily");
        }
      }
      deleteTree(dir);
      return null;
    } catch (IOException e) {
      return "cannot unmount or remove " + dir + ": " + e;
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(root)) {
      paths = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
    }
    for (Path p : paths) {
      Files.deleteIfExists(p);
    }
  }

  private static String effectiveUid() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (Files.isReadable(status)) {
      for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
        if (line.startsWith("Uid:")) {
          String[] ids = line.substring(4).trim().split("\\s+");
          return ids.length > 1 ? ids[1] : ids[0]; // real, effective, saved, filesystem
        }
      }
    }
    return run("id", "-u").output().strip();
  }

  private record Result(int exit, String output) {}

  private static Result run(String... command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      p.getOutputStream().close();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, String.join(" ", command) + " did not finish");
      }
      return new Result(p.exitValue(), output);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted while running " + String.join(" ", command), e);
    }
  }
}
