package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.wire.DstoreException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code dstore del}: deletes a key from Global and from every Local's cache. */
@Command(
    name = "del",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Deletes KEY from Global and from every Local's cache. With strict coherence it returns"
          + " once no Local can serve the old value any more.",
      "The key may then be created again, with a new generation."
    },
    exitCodeListHeading = ExitCodes.HEADING,
    exitCodeList = {
      ExitCodes.LIST_OK,
      ExitCodes.LIST_1,
      ExitCodes.LIST_2,
      ExitCodes.LIST_3,
      ExitCodes.LIST_4,
      ExitCodes.LIST_6,
      ExitCodes.LIST_8
    })
final class DelCommand implements Callable<Integer> {
  private final Env env;

  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key (UTF-8 text).")
  String key;

  DelCommand(Env env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    try (Dstore dstore = client.connectThin(env)) {
      long generation = dstore.delete(PutCommand.keyBytes(key));
      env.err().println("Deleted '" + Text.shorten(key) + "' (generation " + generation + ")");
    } catch (DstoreException e) {
      throw client.failure(e, key);
    }
    return ExitCodes.OK;
  }
}
