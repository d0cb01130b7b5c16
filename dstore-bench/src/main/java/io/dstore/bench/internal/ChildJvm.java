package io.dstore.bench.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line for a child JVM of the harness: the same java binary and class path as this JVM,
 * quiet logging, native access for Netty, and the module openings Hazelcast asks for (so that a
 * Hazelcast client in a child runs as Hazelcast recommends).
 */
final class ChildJvm {
  /** The logback configuration children use (WARN and above, to stderr). */
  static final String LOGBACK_CONFIG = "io/dstore/bench/logback-bench.xml";

  /** The JVM options Hazelcast recommends on Java 9+ (it warns and runs slower without them). */
  static final List<String> HAZELCAST_OPTIONS =
      List.of(
          "--add-modules",
          "java.se",
          "--add-exports",
          "java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens",
          "java.base/java.lang=ALL-UNNAMED",
          "--add-opens",
          "java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens",
          "java.management/sun.management=ALL-UNNAMED",
          "--add-opens",
          "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  private ChildJvm() {}

  static List<String> command(Class<?> main, List<String> args) {
    return command(main, args, null);
  }

  /**
   * As {@link #command(Class, List)}, adding the JVM options in system property {@code
   * optionsProperty} (space-separated), if set.
   */
  static List<String> command(Class<?> main, List<String> args, String optionsProperty) {
    return command(main, args, optionsProperty, List.of());
  }

  /**
   * As {@link #command(Class, List, String)}, with JVM options {@code defaults} when {@code
   * optionsProperty} is unset or blank.
   */
  static List<String> command(
      Class<?> main, List<String> args, String optionsProperty, List<String> defaults) {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("--enable-native-access=ALL-UNNAMED");
    command.addAll(HAZELCAST_OPTIONS);
    command.add("-Dlogback.configurationFile=" + LOGBACK_CONFIG);
    command.add("-Dhazelcast.phone.home.enabled=false");
    String extra = optionsProperty == null ? null : System.getProperty(optionsProperty);
    if (extra != null && !extra.isBlank()) {
      command.addAll(List.of(extra.trim().split("\\s+", -1)));
    } else {
      command.addAll(defaults);
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(args);
    return command;
  }
}
