package io.dstore.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.ValueInfo;
import io.dstore.server.Coherence;
import io.dstore.testing.EtcdCluster;
import io.dstore.testing.S3Proxy;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a cluster store acknowledged survives a crash of everything: puts (small ones inline in
 * etcd, large ones in S3) and deletes through two gateways, then kill -9 of both gateways, of every
 * etcd member and of s3proxy, all restarted on the same ports and data; every acknowledged put is
 * read back with its bytes and SHA-256, and no acknowledged delete has come back.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ClusterDurabilityIT {
  private static final int INLINE_THRESHOLD = 512;

  @TempDir Path temp;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeEverything() {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        System.out.println("closing " + open.get(i) + ": " + e);
      }
    }
  }

  @Test
  void acknowledgedPutsAndDeletesSurviveAKillNineOfEveryGatewayEtcdMemberAndS3() throws Exception {
    long seed = Long.getLong("dstore.check.seed", System.nanoTime());
    Random random = new Random(seed);
    EtcdCluster etcd = EtcdCluster.start(temp.resolve("etcd"), 3);
    open.add(etcd);
    S3Proxy s3 = S3Proxy.start(temp.resolve("s3"));
    open.add(s3);
    List<GatewayProcess> gateways = new ArrayList<>();
    for (int g = 0; g < 2; g++) {
      GatewayProcess gateway =
          GatewayProcess.start(
              0,
              new GatewayProcess.Settings(
                  etcd.endpointsCsv(),
                  "/durability/",
                  s3.endpoint(),
                  "s3://" + s3.bucket() + "/durability",
                  s3.accessKey(),
                  s3.secretKey(),
                  Coherence.STRICT,
                  Duration.ofMillis(500),
                  Duration.ofSeconds(2),
                  INLINE_THRESHOLD));
      open.add(gateway);
      gateways.add(gateway);
    }
    String g1 = gateways.get(0).address();
    String g2 = gateways.get(1).address();
    Dstore[] locals = {connect(g1 + "," + g2, "a"), connect(g2 + "," + g1, "b")};

    Map<String, byte[]> acknowledged = new LinkedHashMap<>();
    Set<String> deleted = new LinkedHashSet<>();
    int large = 0;
    for (int i = 0; i < 300; i++) {
      Dstore local = locals[i % 2];
      String key = "k" + i;
      byte[] value =
          new byte[random.nextInt(5) == 0 ? 600 + random.nextInt(64 * 1024) : random.nextInt(400)];
      random.nextBytes(value);
      local.put(bytes(key), value);
      acknowledged.put(key, value);
      large += value.length > INLINE_THRESHOLD ? 1 : 0;
      if (i % 3 == 2) {
        // Delete an earlier key through the other gateway.
        String victim = "k" + random.nextInt(i);
        if (!deleted.contains(victim)) {
          locals[(i + 1) % 2].delete(bytes(victim));
          acknowledged.remove(victim);
          deleted.add(victim);
        }
      }
    }
    assertThat(large).as("values over the inline threshold (in S3)").isGreaterThan(20);
    System.out.printf(
        "durability: seed %d, %d live keys (%d large), %d deleted%n",
        seed, acknowledged.size(), large, deleted.size());

    for (Dstore local : locals) {
      local.close();
    }
    for (GatewayProcess g : gateways) {
      g.kill();
    }
    for (int i = 0; i < etcd.size(); i++) {
      etcd.kill(i);
    }
    s3.kill();

    s3.restart();
    // A lone member of three has no quorum and is never healthy: restart them all at once (each
    // call touches only its own member; EtcdCluster has no restart-all yet).
    List<CompletableFuture<Void>> restarts = new ArrayList<>();
    for (int i = 0; i < etcd.size(); i++) {
      int member = i;
      restarts.add(
          CompletableFuture.runAsync(
              () -> {
                try {
                  etcd.restart(member);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              }));
    }
    for (CompletableFuture<Void> r : restarts) {
      r.get(2, TimeUnit.MINUTES);
    }
    for (GatewayProcess g : gateways) {
      g.restart();
    }
    Dstore[] after = {connect(g1 + "," + g2, "a2"), connect(g2 + "," + g1, "b2")};

    for (Map.Entry<String, byte[]> e : acknowledged.entrySet()) {
      for (Dstore local : after) {
        byte[] read = local.get(bytes(e.getKey()));
        ValueInfo info = local.stat(bytes(e.getKey()));
        assertThat(read).as("seed %d: bytes of %s", seed, e.getKey()).isEqualTo(e.getValue());
        assertThat(info.sha256())
            .as("seed %d: SHA-256 of %s", seed, e.getKey())
            .isEqualToIgnoringCase(sha256(e.getValue()));
        assertThat(info.size()).isEqualTo(e.getValue().length);
      }
    }
    for (String key : deleted) {
      for (Dstore local : after) {
        assertThatThrownBy(() -> local.get(bytes(key)))
            .as("seed %d: deleted %s came back", seed, key)
            .isInstanceOfSatisfying(
                DstoreException.class, x -> assertThat(x.code()).isEqualTo(ErrorCode.NOT_FOUND));
      }
    }
  }

  private Dstore connect(String targets, String name) {
    Dstore local =
        Dstore.connect(
            targets,
            DstoreOptions.builder()
                .name("durability-" + name)
                .requestTimeout(Duration.ofSeconds(10))
                .build());
    open.add(local);
    return local;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
