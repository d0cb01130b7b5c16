package io.dstore.cli;

import io.dstore.DstoreOptions;
import io.dstore.server.GlobalServer;
import io.dstore.server.Storage;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code dstore demo}: an in-memory Global and a Local REPL in one process. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "The one-command first look: starts an in-memory Global on 127.0.0.1 (a free port) and a"
          + " Local REPL connected to it, in this process. Everything is lost on exit.",
      "The REPL is the one of 'dstore local'; see 'dstore local --help' for its commands."
    },
    exitCodeListHeading = ExitCodes.HEADING,
    exitCodeList = {ExitCodes.LIST_OK})
final class DemoCommand implements Callable<Integer> {
  private final Env env;

  DemoCommand(Env env) {
    this.env = env;
  }

  @Override
  public Integer call() throws IOException {
    try (GlobalServer server =
        GlobalServer.builder().listen("127.0.0.1", 0).storage(Storage.memory()).build().start()) {
      env.err()
          .println(
              "dstore demo: an in-memory Global on "
                  + server.address()
                  + " and a Local REPL connected to it; nothing is kept after exit");
      return LocalRepl.run(
          env,
          ClientOptions.Globals.of(new HostPort(server.host(), server.port())),
          DstoreOptions.builder().name("demo").build(),
          null);
    }
  }
}
