package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.ValueInfo;
import io.dstore.wire.DstoreException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code dstore stat}: a value's size, generation and SHA-256, without the value. */
@Command(
    name = "stat",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Prints the size, generation and SHA-256 of the value of KEY, without the value.",
      "On stdout, one per line:",
      "  size: 11",
      "  generation: 7",
      "  sha256: b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
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
final class StatCommand implements Callable<Integer> {
  private final Env env;

  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key (UTF-8 text).")
  String key;

  StatCommand(Env env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    try (Dstore dstore = client.connectThin(env)) {
      ValueInfo info = dstore.stat(PutCommand.keyBytes(key));
      env.out().println("size: " + info.size());
      env.out().println("generation: " + info.generation());
      env.out().println("sha256: " + info.sha256());
      env.out().flush();
    } catch (DstoreException e) {
      throw client.failure(e, key);
    }
    return ExitCodes.OK;
  }
}
