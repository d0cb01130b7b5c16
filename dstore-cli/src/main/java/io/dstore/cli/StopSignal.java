package io.dstore.cli;

/** How a long-running command ({@code dstore global}) learns that it should stop. */
interface StopSignal {

  /**
   * Blocks until a stop is requested (SIGTERM or SIGINT for the real process). Meanwhile {@code
   * onAbruptExit} runs if the JVM shuts down by another path (another signal, {@code System.exit}),
   * so that resources are still released.
   */
  void await(Runnable onAbruptExit) throws InterruptedException;
}
