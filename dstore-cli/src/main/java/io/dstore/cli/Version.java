package io.dstore.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/**
 * The version of this build, from the Maven project version (filtered into {@code
 * version.properties} at build time). Also picocli's version provider for {@code --version}.
 */
final class Version implements CommandLine.IVersionProvider {
  private static final String NUMBER = load();

  /** The version number, e.g. {@code 0.1.0}. */
  static String number() {
    return NUMBER;
  }

  /** What {@code dstore --version} and the REPL's {@code .version} print: {@code dstore v0.1.0}. */
  static String text() {
    return "dstore v" + NUMBER;
  }

  @Override
  public String[] getVersion() {
    return new String[] {text()};
  }

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown").strip();
      return v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the version resource", e);
    }
  }
}
