package io.dstore.cli;

/** Placeholder until the CLI lands. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.err.println("dstore: not built yet");
    System.exit(2);
  }
}
