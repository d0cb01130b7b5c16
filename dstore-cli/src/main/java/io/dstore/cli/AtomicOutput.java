package io.dstore.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file all at once or not at all: the bytes go to a temporary file in the same directory,
 * which is synced and renamed over the target only when the writer succeeded. On any failure the
 * temporary file is removed and the target is left as it was; a shutdown hook removes it too if the
 * process is stopped meanwhile (Ctrl-C).
 */
final class AtomicOutput {
  private AtomicOutput() {}

  /** What writes the content. It may throw unchecked exceptions too; they are passed on. */
  interface Writer {
    void writeTo(OutputStream out) throws IOException;
  }

  /**
   * Writes {@code target} with what {@code writer} produces.
   *
   * @throws IOException if the file cannot be created, written, synced or renamed
   */
  static void write(Path target, Writer writer) throws IOException {
    Path absolute = target.toAbsolutePath();
    Path dir = absolute.getParent();
    Path tmp = null;
    FileChannel channel = null;
    for (int attempt = 0; channel == null; attempt++) {
      tmp =
          dir.resolve(
              "."
                  + absolute.getFileName()
                  + "."
                  + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt())
                  + ".part");
      try {
        channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      } catch (FileAlreadyExistsException e) {
        if (attempt > 10) {
          throw e;
        }
      }
    }
    Path part = tmp;
    Thread cleanup =
        new Thread(
            () -> {
              try {
                Files.deleteIfExists(part);
              } catch (IOException e) {
                // the process is ending: nothing more to do
              }
            },
            "dstore-output-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    boolean moved = false;
    try {
      try (FileChannel ch = channel;
          OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16)) {
        writer.writeTo(out);
        out.flush();
        ch.force(true);
      }
      try {
        Files.move(
            tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
      moved = true;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // already shutting down: the hook removes the temporary file
      }
      if (!moved) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          // keep the original failure; a stray .part file is all that is left
        }
      }
    }
  }
}
