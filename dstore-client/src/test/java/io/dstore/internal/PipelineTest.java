package io.dstore.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import io.dstore.DstoreOptions;
import io.dstore.server.Coherence;
import io.dstore.testing.Await;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Small calls share one pipeline stream: many threads' puts, gets, stats and deletes are each
 * answered with their own result or error, and Global counts them per operation as if unary.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipelineTest {
  private LocalFixture fixture;

  @BeforeEach
  void start() throws Exception {
    fixture = new LocalFixture(Coherence.STRICT);
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  @Test
  void concurrentCallsOnOneStreamEachGetTheirOwnAnswer() throws Exception {
    LocalStore thin =
        fixture.local(DstoreOptions.builder().coherentCache(false).build(), Ticker.systemTicker());
    int threads = 8;
    int perThread = 300;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> work = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        work.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    byte[] key = ("t" + id + "-" + i).getBytes(UTF_8);
                    byte[] value = ("value of " + id + "/" + i).getBytes(UTF_8);
                    thin.put(key, value);
                    assertThat(thin.get(key)).isEqualTo(value);
                    assertThat(thin.stat(key).size()).isEqualTo(value.length);
                    assertThatThrownBy(() -> thin.put(key, value))
                        .isInstanceOfSatisfying(
                            DstoreException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS));
                    if (i % 2 == 0) {
                      thin.delete(key);
                      assertThatThrownBy(() -> thin.get(key))
                          .isInstanceOfSatisfying(
                              DstoreException.class,
                              e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : work) {
        f.get(50, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fixture.storage.keyCount()).isEqualTo(threads * perThread / 2);
    // They travelled on a pipeline: Global timed each as its operation, and the stream itself
    // once it ended with the Local.
    assertThat(fixture.server.scrapeMetrics()).contains("op=\"get\"");
    thin.close();
    Await.until(
        "the pipeline stream to end",
        () -> fixture.server.scrapeMetrics().contains("op=\"pipeline\""));
  }

  @Test
  void aCallTooBigForThePipelineTakesAStreamOfItsOwn() {
    LocalStore thin =
        fixture.local(DstoreOptions.builder().coherentCache(false).build(), Ticker.systemTicker());
    byte[] value = new byte[GlobalCalls.PIPELINED_BYTES + 1];
    value[value.length - 1] = 7;
    thin.put("big".getBytes(UTF_8), value);
    assertThat(thin.get("big".getBytes(UTF_8))).isEqualTo(value);
  }
}
