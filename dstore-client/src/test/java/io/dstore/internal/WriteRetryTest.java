package io.dstore.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.Dstore;
import io.dstore.DstoreOptions;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once write retries against scripted gateways over real sockets: a gateway applies a write
 * and dies before answering; with two gateways the write is retried on the second with the same
 * request id and answers as the first attempt would have; with one it is not retried; when both die
 * the caller is told the outcome is unknown.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WriteRetryTest {
  private final FakeCluster cluster = new FakeCluster("cluster-1");

  @AfterEach
  void tearDown() {
    cluster.close();
  }

  @Test
  void aPutCutOffAfterItWasAppliedIsRetriedOnTheNextGatewayWithTheSameRequestId() throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    first.dieAfterApplying = true;
    try (Dstore client = thin(first.target() + "," + second.target())) {
      long generation = client.put(b("k"), b("v"));

      assertThat(first.putIds).hasSize(1);
      assertThat(second.putIds).hasSize(1);
      assertThat(first.putIds.get(0).size()).isEqualTo(16);
      assertThat(second.putIds.get(0)).isEqualTo(first.putIds.get(0));
      assertThat(client.stat(b("k")).generation()).isEqualTo(generation);
      assertThat(client.target()).isEqualTo(second.target());
    }
  }

  @Test
  void aDeleteCutOffAfterItWasAppliedIsRetriedWithTheSameRequestIdAndAnswersAsTheFirst()
      throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    cluster.store("k", "v");
    first.dieAfterApplying = true;
    try (Dstore client = thin(first.target() + "," + second.target())) {
      long generation = client.delete(b("k"));

      assertThat(generation).isPositive();
      assertThat(second.deleteIds).containsExactlyElementsOf(first.deleteIds);
      assertThat(first.deleteIds.get(0).size()).isEqualTo(16);
      assertThat(cluster.contains("k")).isFalse();
    }
  }

  @Test
  void everyWriteCarriesAFreshRequestId() throws Exception {
    FakeCluster.Gateway only = cluster.gateway();
    try (Dstore client = thin(only.target())) {
      client.put(b("a"), b("1"));
      client.put(b("b"), b("2"));
      client.delete(b("a"));
    }
    assertThat(only.putIds).hasSize(2).doesNotHaveDuplicates();
    assertThat(only.putIds).allSatisfy(id -> assertThat(id.size()).isEqualTo(16));
    assertThat(only.deleteIds).hasSize(1).doesNotContainAnyElementsOf(only.putIds);
  }

  @Test
  void withOneGatewayAPutCutOffIsNotRetriedAndAnswersUnavailableAsBefore() throws Exception {
    FakeCluster.Gateway only = cluster.gateway();
    only.dieAfterApplying = true;
    try (Dstore client = thin(only.target())) {
      assertThatThrownBy(() -> client.put(b("k"), b("v")))
          .isInstanceOfSatisfying(
              DstoreException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
    }
    assertThat(only.putIds).hasSize(1);
  }

  @Test
  void whenTheRetryIsCutOffTooTheOutcomeIsUnknown() throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    first.dieAfterApplying = true;
    second.dieAfterApplying = true;
    try (Dstore client = thin(first.target() + "," + second.target())) {
      assertThatThrownBy(() -> client.put(b("k"), b("v")))
          .isInstanceOfSatisfying(
              DstoreException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.OUTCOME_UNKNOWN);
                assertThat(e.getMessage())
                    .startsWith("the put of 'k' may or may not have happened");
              });
    }
    assertThat(second.putIds).containsExactlyElementsOf(first.putIds);
  }

  @Test
  void aStreamedPutOfBytesInMemoryIsRetriedWithTheSameRequestId() throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    first.dieAfterApplying = true;
    byte[] big = new byte[20_000]; // over the chunk size: streamed
    Arrays.fill(big, (byte) 7);
    try (Dstore client = thin(first.target() + "," + second.target(), b -> b.chunkSize(4096))) {
      client.put(b("big"), big);
    }
    assertThat(first.putIds).hasSize(1);
    assertThat(second.putIds).containsExactlyElementsOf(first.putIds);
    assertThat(first.putIds.get(0).size()).isEqualTo(16);
  }

  @Test
  void aStreamedPutOfAFileIsRetriedWithTheSameRequestId(@TempDir Path dir) throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    first.dieAfterApplying = true;
    Path file = dir.resolve("value.bin");
    Files.write(file, b("a file's bytes"));
    try (Dstore client = thin(first.target() + "," + second.target())) {
      long generation = client.put(b("f"), file);
      assertThat(client.stat(b("f")).generation()).isEqualTo(generation);
    }
    assertThat(first.putIds).hasSize(1);
    assertThat(second.putIds).containsExactlyElementsOf(first.putIds);
  }

  @Test
  void aStreamedPutFromAnInputStreamThatWasSentIsNotRetriedAndItsOutcomeIsUnknown()
      throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    first.dieAfterApplying = true;
    try (Dstore client = thin(first.target() + "," + second.target())) {
      assertThatThrownBy(() -> client.put(b("k"), new ByteArrayInputStream(b("streamed")), 8))
          .isInstanceOfSatisfying(
              DstoreException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.OUTCOME_UNKNOWN);
                assertThat(e.getMessage())
                    .startsWith("the put of 'k' may or may not have happened")
                    .contains("cannot be read again");
              });
    }
    assertThat(second.putIds).isEmpty();
  }

  @Test
  void aWriteToAGatewayThatRefusesConnectionsGoesToTheNextOneEvenFromAStream() throws Exception {
    FakeCluster.Gateway first = cluster.gateway();
    FakeCluster.Gateway second = cluster.gateway();
    String targets = first.target() + "," + second.target();
    first.kill(); // nothing listens there any more: connection refused, nothing sent
    try (Dstore client = thin(targets)) {
      client.put(b("k"), new ByteArrayInputStream(b("streamed")), 8);
      client.put(b("small"), b("v"));
    }
    assertThat(first.putIds).isEmpty();
    assertThat(second.putIds).hasSize(2);
    assertThat(cluster.contains("k")).isTrue();
  }

  private static Dstore thin(String targets) {
    return thin(targets, b -> b);
  }

  private static Dstore thin(
      String targets, java.util.function.UnaryOperator<DstoreOptions.Builder> more) {
    return Dstore.connect(
        targets,
        more.apply(
                DstoreOptions.builder()
                    .coherentCache(false)
                    .requestTimeout(Duration.ofSeconds(10))
                    .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(500)))
            .build());
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }
}
