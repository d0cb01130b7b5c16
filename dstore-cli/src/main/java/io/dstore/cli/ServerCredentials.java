package io.dstore.cli;

import java.nio.file.Path;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import picocli.CommandLine.ParameterException;

/**
 * The TLS and token files of a server that a command starts (Global, or a Local daemon), with the
 * prefix of that command's option names: {@code --} for {@code dstore global}'s {@code --tls-cert},
 * {@code --listen-} for the daemon's {@code --listen-tls-cert}, and so on. One set of rules for
 * both: what goes together, how the files are read, how they are named when the server cannot
 * start. Any of the paths may be null (not given).
 */
record ServerCredentials(String prefix, Path cert, Path key, Path clientCa, Path tokenFile) {

  private String option(String name) {
    return prefix + name;
  }

  /**
   * Checks that the options go together, before anything is read.
   *
   * @throws ParameterException (exit 2) from {@code usage}, naming the problem
   */
  void check(Function<String, ParameterException> usage) {
    if ((cert == null) != (key == null)) {
      throw usage.apply(
          option("tls-cert") + " and " + option("tls-key") + " go together: give both or neither");
    }
    if (clientCa != null && cert == null) {
      throw usage.apply(
          option("tls-client-ca")
              + " needs TLS: give "
              + option("tls-cert")
              + " and "
              + option("tls-key")
              + " as well");
    }
  }

  /**
   * Hands each file given, once checked readable (the token read), to the server's builder.
   *
   * @throws Failure (exit 2) naming the option of a file that cannot be read
   */
  void applyTo(BiConsumer<Path, Path> tls, Consumer<Path> tlsClientCa, Consumer<String> token) {
    if (cert != null) {
      tls.accept(
          Credentials.readable(cert, option("tls-cert")),
          Credentials.readable(key, option("tls-key")));
    }
    if (clientCa != null) {
      tlsClientCa.accept(Credentials.readable(clientCa, option("tls-client-ca")));
    }
    if (tokenFile != null) {
      token.accept(Credentials.tokenFile(tokenFile, option("token-file")));
    }
  }

  /** The TLS files, named with their options, for a start failure; null without TLS. */
  String describeTls() {
    if (cert == null) {
      return null;
    }
    return option("tls-cert")
        + " "
        + cert
        + " and "
        + option("tls-key")
        + " "
        + key
        + (clientCa != null ? " and " + option("tls-client-ca") + " " + clientCa : "");
  }
}
