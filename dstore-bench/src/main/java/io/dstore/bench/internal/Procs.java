package io.dstore.bench.internal;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/** Process helpers: finding programs, free ports, resident memory, and stopping children. */
final class Procs {
  private Procs() {}

  /** The executable {@code name} on PATH (then /usr/sbin and /usr/local/bin), if any. */
  static Optional<Path> findOnPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "");
    List<String> dirs = new java.util.ArrayList<>(List.of(path.split(File.pathSeparator, -1)));
    dirs.add("/usr/sbin");
    dirs.add("/usr/local/bin");
    for (String dir : dirs) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot bind port 0). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  /** VmRSS of process {@code pid} from /proc, in bytes; empty where /proc has no such figure. */
  static OptionalLong rssBytes(long pid) {
    Path status = Path.of("/proc", Long.toString(pid), "status");
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+", -1);
          long kib = Long.parseLong(parts[0]);
          return OptionalLong.of(kib * 1024);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone
    }
    return OptionalLong.empty();
  }

  /** Stops {@code process} with SIGTERM, then SIGKILL after {@code graceMillis}. Idempotent. */
  static void stop(Process process, long graceMillis) {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
