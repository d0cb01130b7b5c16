package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.ValueInfo;
import io.dstore.wire.DstoreException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dstore get}: writes a value, or a byte range of it, to stdout or to a file. */
@Command(
    name = "get",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Writes the value of KEY to stdout (its bytes and nothing else), or to PATH with --output.",
      "--output writes a temporary file next to PATH and renames it at the end, so PATH is"
          + " either the whole value or untouched; it replaces an existing file.",
      "--offset and --length read a byte range without moving the rest of the value: --offset"
          + " defaults to 0, --length to the rest of the value.",
      "Messages go to stderr; a progress bar is shown there for large values when it is a"
          + " terminal."
    },
    exitCodeListHeading = ExitCodes.HEADING,
    exitCodeList = {
      ExitCodes.LIST_OK,
      ExitCodes.LIST_1,
      ExitCodes.LIST_2,
      ExitCodes.LIST_3,
      ExitCodes.LIST_4,
      ExitCodes.LIST_6
    })
final class GetCommand implements Callable<Integer> {
  private final Env env;

  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key (UTF-8 text).")
  String key;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "PATH",
      description = "Write the value to this file (atomically) instead of stdout.")
  Path output;

  @Option(
      names = "--offset",
      paramLabel = "N",
      converter = Sizes.Converter.class,
      description = "First byte to read (default 0). Accepts units: 4096, 64k, 1MiB.")
  Long offset;

  @Option(
      names = "--length",
      paramLabel = "M",
      converter = Sizes.Converter.class,
      description = "Number of bytes to read (default: to the end). Accepts units: 64k, 1MiB.")
  Long length;

  GetCommand(Env env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    byte[] k = PutCommand.keyBytes(key);
    long off = offset == null ? 0 : offset;
    long len = length == null ? -1 : length;
    try (Dstore dstore = client.connectThin(env)) {
      // No bar over a value being written to the terminal itself.
      boolean barWanted =
          env.stderrIsTerminal().getAsBoolean()
              && (output != null || !env.interactive().getAsBoolean());
      Progress progress = Progress.NONE;
      if (barWanted) {
        // Only to size the bar: a pipe or a file as stderr costs no extra call.
        ValueInfo info = dstore.stat(k);
        progress = Progress.start(env, len >= 0 ? len : Math.max(0, info.size() - off));
      }
      try {
        if (output != null) {
          Progress bar = progress;
          AtomicOutput.write(
              output, out -> dstore.get(k, off, len, ProgressStreams.counting(out, bar)));
        } else {
          OutputStream out = new BufferedOutputStream(env.out(), 1 << 16);
          dstore.get(k, off, len, ProgressStreams.counting(out, progress));
          out.flush();
        }
      } finally {
        progress.finish(); // ends the bar's line, so that an error gets a line of its own
      }
    } catch (DstoreException e) {
      throw client.failure(e, key);
    } catch (IOException e) {
      throw Failure.file("write", output != null ? output : Path.of("(stdout)"), e);
    }
    return ExitCodes.OK;
  }
}
