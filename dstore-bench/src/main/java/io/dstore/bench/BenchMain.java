package io.dstore.bench;

import picocli.CommandLine;

/**
 * Runs {@link BenchCommand} on its own, without the {@code dstore} CLI: {@code java -cp ...
 * io.dstore.bench.BenchMain --quick}. Logs only warnings (unless {@code logback.configurationFile}
 * is set), and exits with the command's exit code.
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) {
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "io/dstore/bench/logback-bench.xml");
    }
    int code = new CommandLine(new BenchCommand()).execute(args);
    System.exit(code);
  }
}
