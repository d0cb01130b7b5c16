package io.dstore.cli;

import io.dstore.Dstore;
import io.dstore.daemon.DstoreDaemon;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options of {@code dstore local} that make its Local a daemon serving other processes: {@code
 * --listen} and, for that server, {@code --metrics-listen} and its own TLS and token options. They
 * are named {@code --listen-...} because the Local's {@code --tls-...} and {@code --token-file}
 * options are those it uses towards Global: the two sides have different credentials.
 */
final class DaemonOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--listen",
      paramLabel = "HOST:PORT",
      converter = HostPort.ListenConverter.class,
      description =
          "Daemon: also serve the client API here, so that other processes (one-shot commands"
              + " with --global HOST:PORT, applications) share this Local's cache; port 0 picks a"
              + " free port. Default: no daemon.")
  HostPort listen;

  @Option(
      names = "--metrics-listen",
      paramLabel = "HOST:PORT",
      converter = HostPort.ListenConverter.class,
      description =
          "Daemon: serve the cache figures and request counts at http://HOST:PORT/metrics"
              + " (Prometheus text format). Needs --listen.")
  HostPort metricsListen;

  @Option(
      names = "--listen-tls-cert",
      paramLabel = "FILE",
      description =
          "Daemon: serve TLS with the certificate chain in this PEM file. Needs"
              + " --listen-tls-key.")
  Path tlsCert;

  @Option(
      names = "--listen-tls-key",
      paramLabel = "FILE",
      description = "Daemon: private key of --listen-tls-cert (PEM, PKCS#8).")
  Path tlsKey;

  @Option(
      names = "--listen-tls-client-ca",
      paramLabel = "FILE",
      description =
          "Daemon: refuse callers without a certificate signed by a CA in this PEM file (mutual"
              + " TLS). Needs --listen-tls-cert.")
  Path tlsClientCa;

  @Option(
      names = "--listen-token-file",
      paramLabel = "FILE",
      description =
          "Daemon: require every caller to send the token held in this file. It is the callers'"
              + " token, not the one this Local sends to Global (--token-file).")
  Path tokenFile;

  /** Whether a daemon was asked for. */
  boolean enabled() {
    return listen != null;
  }

  /**
   * Checks that the options go together.
   *
   * @throws ParameterException (exit 2) naming the problem
   */
  void check() {
    if (listen == null) {
      for (String option :
          new String[] {
            "--metrics-listen",
            "--listen-tls-cert",
            "--listen-tls-key",
            "--listen-tls-client-ca",
            "--listen-token-file"
          }) {
        if (mixee.commandLine().getParseResult().hasMatchedOption(option)) {
          throw usage(option + " is an option of the daemon: it needs --listen HOST:PORT");
        }
      }
      return;
    }
    credentials().check(this::usage);
  }

  private ServerCredentials credentials() {
    return new ServerCredentials("--listen-", tlsCert, tlsKey, tlsClientCa, tokenFile);
  }

  /**
   * Starts the daemon in front of {@code local}, then prints {@code Metrics on
   * http://HOST:PORT/metrics} on stderr (with --metrics-listen) and {@code Dstore local listening
   * on HOST:PORT} on stdout, in that order, with the ports picked for port 0.
   *
   * @throws Failure (exit 2) if a file cannot be read or an address cannot be listened on
   */
  DstoreDaemon start(Dstore local, Env env) {
    DstoreDaemon.Builder builder =
        DstoreDaemon.builder().listen(listen.host(), listen.port()).local(local);
    ServerCredentials credentials = credentials();
    credentials.applyTo(builder::tls, builder::tlsClientCa, builder::token);
    if (metricsListen != null) {
      builder.metricsListen(metricsListen.host(), metricsListen.port());
    }
    DstoreDaemon daemon = builder.build();
    try {
      daemon.start();
    } catch (IOException | RuntimeException e) {
      daemon.close();
      throw StartFailure.of(e, listen, metricsListen, credentials.describeTls());
    }
    if (metricsListen != null) {
      HostPort metrics = new HostPort(metricsListen.host(), daemon.metricsPort());
      env.err().println("Metrics on http://" + metrics + "/metrics");
      env.err().flush();
    }
    env.out().println("Dstore local listening on " + daemon.address());
    env.out().flush();
    return daemon;
  }

  private ParameterException usage(String message) {
    return new ParameterException(mixee.commandLine(), message);
  }
}
