package io.dstore.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made at test time (no key is ever committed): a CA, a server certificate for
 * 127.0.0.1 and localhost, a client certificate signed by the CA, and one signed by another CA.
 * Everything is written as PEM (keys as PKCS#8) into a directory. Shared with the CLI's tests
 * through this module's test-jar.
 */
public final class Certificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  public final Path caCert;
  public final Path serverCert;
  public final Path serverKey;
  public final Path clientCert;
  public final Path clientKey;
  public final Path strangerCert;
  public final Path strangerKey;
  public final Path otherCaCert;

  private Certificates(Path dir) throws Exception {
    KeyPair caKeys = keys();
    X509Certificate ca = ca("CN=dstore test CA", caKeys);
    KeyPair otherCaKeys = keys();
    X509Certificate otherCa = ca("CN=some other CA", otherCaKeys);

    KeyPair serverKeys = keys();
    X509Certificate server = leaf("CN=dstore global", serverKeys, ca, caKeys.getPrivate(), true);
    KeyPair clientKeys = keys();
    X509Certificate client = leaf("CN=dstore local", clientKeys, ca, caKeys.getPrivate(), false);
    KeyPair strangerKeys = keys();
    X509Certificate stranger =
        leaf("CN=stranger", strangerKeys, otherCa, otherCaKeys.getPrivate(), false);

    caCert = write(dir.resolve("ca.pem"), ca);
    otherCaCert = write(dir.resolve("other-ca.pem"), otherCa);
    serverCert = write(dir.resolve("server.pem"), server, ca);
    serverKey = write(dir.resolve("server.key"), serverKeys.getPrivate());
    clientCert = write(dir.resolve("client.pem"), client, ca);
    clientKey = write(dir.resolve("client.key"), clientKeys.getPrivate());
    strangerCert = write(dir.resolve("stranger.pem"), stranger, otherCa);
    strangerKey = write(dir.resolve("stranger.key"), strangerKeys.getPrivate());
  }

  public static Certificates create(Path dir) throws Exception {
    return new Certificates(dir);
  }

  private static KeyPair keys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate ca(String name, KeyPair keys) throws Exception {
    X500Name subject = new X500Name(name);
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            subject, serial(), notBefore(), notAfter(), subject, keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    return sign(b, keys.getPrivate());
  }

  private static X509Certificate leaf(
      String name, KeyPair keys, X509Certificate issuer, PrivateKey issuerKey, boolean server)
      throws Exception {
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            issuer, serial(), notBefore(), notAfter(), new X500Name(name), keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(
        Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
    if (server) {
      byte[] loopback = InetAddress.getByName("127.0.0.1").getAddress();
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(
                    GeneralName.iPAddress, new org.bouncycastle.asn1.DEROctetString(loopback))
              }));
    }
    return sign(b, issuerKey);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIAL.incrementAndGet());
  }

  private static Date notBefore() {
    return Date.from(Instant.now().minus(Duration.ofHours(1)));
  }

  private static Date notAfter() {
    return Date.from(Instant.now().plus(Duration.ofDays(1)));
  }

  private static Path write(Path file, Object... objects) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
      for (Object o : objects) {
        if (o instanceof PrivateKey k) {
          pem.writeObject(new JcaPKCS8Generator(k, null));
        } else {
          pem.writeObject(o);
        }
      }
    }
    Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
    return file;
  }
}
