package io.dstore.server.internal;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/** Builds the parts of a Global server that {@code GlobalServer} configures. */
public final class ServerSetup {
  private ServerSetup() {}

  /**
   * TLS credentials from PEM files; with {@code clientCa}, clients must present a certificate
   * signed by it (the handshake fails otherwise).
   *
   * @throws IOException naming the file that cannot be read
   */
  public static ServerCredentials tls(Path certChain, Path privateKey, Path clientCa)
      throws IOException {
    TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder();
    tls.keyManager(read(certChain, "TLS certificate"), read(privateKey, "TLS private key"));
    if (clientCa != null) {
      tls.trustManager(read(clientCa, "TLS client CA"))
          .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return tls.build();
  }

  /** Idle-stream cut-off on {@code scheduler}, timed by {@code nanoClock} (monotonic, in ns). */
  public static IdleTimeout idleTimeout(
      ScheduledExecutorService scheduler, Duration timeout, LongSupplier nanoClock) {
    return new IdleTimeout(scheduler, timeout, nanoClock);
  }

  private static java.io.InputStream read(Path file, String what) throws IOException {
    try {
      return new java.io.ByteArrayInputStream(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new IOException("cannot read the " + what + " " + file + ": " + e, e);
    }
  }
}
