package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The {@code --global HOST:PORT} option of the commands that talk to Global. */
final class GlobalOption {
  /** Deadline of a one-shot call: a Global that is down or silent fails the command this fast. */
  static final Duration ONE_SHOT_TIMEOUT = Duration.ofSeconds(10);

  @Option(
      names = "--global",
      paramLabel = "HOST:PORT",
      defaultValue = "127.0.0.1:50051",
      converter = HostPort.Converter.class,
      description = "Address of Global (default: ${DEFAULT-VALUE}).")
  HostPort global;

  /**
   * A thin client for one call: no cache, no subscription, nothing registered at Global. Calls fail
   * at once when Global refuses connections, and after {@link #ONE_SHOT_TIMEOUT} when it does not
   * answer.
   */
  Dstore connectThin() {
    return Dstore.connect(
        global.toString(),
        DstoreOptions.builder()
            .coherentCache(false)
            .cacheSizeBytes(0)
            .requestTimeout(ONE_SHOT_TIMEOUT)
            .name("dstore-cli")
            .build());
  }
}
