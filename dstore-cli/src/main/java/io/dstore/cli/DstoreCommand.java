package io.dstore.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The top-level {@code dstore} command; its subcommands are registered in {@link Main}. */
@Command(
    name = "dstore",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "dstore: a two-layer key-value store. Locals cache immutable values coherently in front"
          + " of one Global tier.",
      "Data goes to stdout; messages, errors and logs go to stderr."
    },
    commandListHeading = "%nCommands:%n",
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
    },
    footer = {
      "%nIn a source checkout, ./dstore bench runs the benchmark harness (dstore against Redis,"
          + " Hazelcast and Caffeine); it is not part of this command."
    })
final class DstoreCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(
        spec.commandLine(),
        "Missing command: one of " + String.join(", ", spec.subcommands().keySet()));
  }
}
