package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.wire.DstoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code dstore put}: creates a key, or stores content under its SHA-256 with {@code --cas}. */
@Command(
    name = "put",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    customSynopsis = {
      "dstore put [--global=HOST:PORT[,HOST:PORT...]] [TLS and token options] KEY [VALUE | --file=PATH]",
      "       dstore put --cas [--global=HOST:PORT[,HOST:PORT...]] [TLS and token options] [VALUE | --file=PATH]"
    },
    description = {
      "Creates KEY with VALUE. Keys are write-once: if KEY exists, nothing changes and the"
          + " command exits 1.",
      "The value is VALUE (as UTF-8 text), or the content of --file (streamed), or, when neither"
          + " is given, everything read from stdin until end of input.",
      "With --cas the value is stored under the key sha256:<hex of its SHA-256>, which is printed"
          + " on stdout; storing the same content again succeeds and changes nothing.",
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
      ExitCodes.LIST_5,
      ExitCodes.LIST_6,
      ExitCodes.LIST_8
    })
final class PutCommand implements Callable<Integer> {
  private final Env env;

  @Spec CommandSpec spec;

  @Mixin ClientOptions client;

  @Option(
      names = "--cas",
      description = "Content-addressed: the key is sha256:<hex of the value's SHA-256>; print it.")
  boolean cas;

  @Option(
      names = {"-f", "--file"},
      paramLabel = "PATH",
      description = "Read the value from this file instead of VALUE or stdin.")
  Path file;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "KEY",
      description = "The key: UTF-8 text of 1 to 1024 bytes. With --cas, this is VALUE instead.")
  String first;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "VALUE",
      description = "The value, as UTF-8 text. Omit it (and --file) to read the value from stdin.")
  String second;

  PutCommand(Env env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    String key;
    String value;
    if (cas) {
      if (second != null) {
        throw usage("With --cas give only VALUE: the key is the value's SHA-256");
      }
      key = null;
      value = first;
    } else {
      if (first == null) {
        throw usage("Missing KEY: dstore put KEY [VALUE | --file PATH]");
      }
      key = first;
      value = second;
    }
    if (value != null && file != null) {
      throw usage("Give VALUE or --file, not both");
    }
    try (Dstore dstore = client.connectThin(env)) {
      if (value != null) {
        store(dstore, key, value.getBytes(StandardCharsets.UTF_8));
      } else if (file != null) {
        storeFile(dstore, key);
      } else {
        storeStdin(dstore, key);
      }
    } catch (DstoreException e) {
      throw client.failure(e, key);
    }
    return ExitCodes.OK;
  }

  private void store(Dstore dstore, String key, byte[] value) {
    if (key == null) {
      env.out().println(dstore.putContent(value));
      env.out().flush();
    } else {
      long generation = dstore.put(keyBytes(key), value);
      created(key, value.length, generation);
    }
  }

  private void storeFile(Dstore dstore, String key) {
    try (InputStream in = Files.newInputStream(file)) {
      long size = Files.isRegularFile(file) ? Files.size(file) : -1;
      storeStream(dstore, key, in, size);
    } catch (IOException e) {
      throw Failure.file("read", file, e);
    }
  }

  private void storeStdin(Dstore dstore, String key) {
    if (env.interactive().getAsBoolean()) {
      env.err().println("Reading the value from stdin; end it with Ctrl-D");
    }
    storeStream(dstore, key, env.in(), -1);
  }

  /** Streams the value; with {@code key} null, under its content key, which is printed. */
  private void storeStream(Dstore dstore, String key, InputStream in, long size) {
    Progress progress = Progress.start(env, size);
    InputStream counted = ProgressStreams.counting(in, progress);
    String contentKey = null;
    long generation;
    try {
      if (key == null) {
        contentKey = dstore.putContent(counted, size);
        generation = -1;
      } else {
        generation = dstore.put(keyBytes(key), counted, size);
      }
    } finally {
      progress.finish(); // ends the bar's line, so that what follows gets a line of its own
    }
    if (contentKey != null) {
      env.out().println(contentKey);
      env.out().flush();
    } else {
      created(key, size, generation);
    }
  }

  private void created(String key, long size, long generation) {
    String bytes = size >= 0 ? Sizes.format(size) + ", " : "";
    env.err()
        .println(
            "Created '" + Text.shorten(key) + "' (" + bytes + "generation " + generation + ")");
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  static byte[] keyBytes(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }
}
