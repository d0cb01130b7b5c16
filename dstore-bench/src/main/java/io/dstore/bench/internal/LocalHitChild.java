package io.dstore.bench.internal;

import io.dstore.DstoreOptions;
import io.lettuce.core.RedisClient;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the {@code local-hit} cells of one system in a JVM of its own, so that the JIT compiles that
 * system's read path with a profile no other system polluted (all of them share Caffeine and the
 * harness's call sites; in one JVM whichever runs last loses). Connects a client to the server the
 * harness started, measures, and prints each result on stdout as one line: {@value #RESULT_LINE},
 * the result's variant label ({@code -} for none; the JSON has no room for it), a space, and a
 * one-element JSON array. Progress goes to stderr. Not API.
 *
 * <p>Arguments: system, endpoint (dstore {@code host:port}, Redis port, Hazelcast {@code
 * cluster@port}, or {@code -} for Caffeine), warm-up nanoseconds, measured nanoseconds, run id.
 */
public final class LocalHitChild {
  static final String RESULT_LINE = "dstore-bench-result=";

  private LocalHitChild() {}

  /** Reads back one result line that {@link #main} printed, variant included. */
  static Result parse(String line) {
    String rest = line.substring(RESULT_LINE.length());
    int space = rest.indexOf(' ');
    if (space < 0) {
      throw new BenchException("a malformed result line from a local-hit child JVM: " + line);
    }
    String variant = rest.substring(0, space);
    List<Result> parsed = ResultJson.read(rest.substring(space + 1));
    if (parsed.size() != 1) {
      throw new BenchException("a malformed result line from a local-hit child JVM: " + line);
    }
    return parsed.get(0).withVariant(variant.equals("-") ? null : variant);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: LocalHitChild SYSTEM ENDPOINT WARMUP_NS MEASURE_NS RUN_ID");
      System.exit(2);
    }
    SystemId system = SystemId.parse(args[0]);
    String endpoint = args[1];
    long warmup = Long.parseLong(args[2]);
    long measure = Long.parseLong(args[3]);
    String runId = args[4];
    PrintWriter log = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    List<AutoCloseable> resources = new ArrayList<>();
    List<Result> results;
    try {
      KvClient client =
          switch (system) {
            case DSTORE -> {
              DstoreTarget.DstoreClient c =
                  new DstoreTarget.DstoreClient(
                      io.dstore.Dstore.connect(
                          endpoint,
                          DstoreOptions.builder()
                              .name("bench-local-hit")
                              .cacheSizeBytes(LocalHitScenario.CACHE_BYTES)
                              .build()));
              c.awaitLease(Duration.ofSeconds(30));
              yield c;
            }
            case REDIS -> {
              RedisClient redis = RedisTarget.client(Integer.parseInt(endpoint));
              resources.add(redis::shutdown);
              yield RedisTarget.caching(redis, LocalHitScenario.CACHE_ENTRIES);
            }
            case HAZELCAST -> {
              HazelcastTarget.HazelcastClientHandle handle =
                  HazelcastTarget.nearCachedClient(
                      endpoint, "lh-*", LocalHitScenario.CACHE_ENTRIES);
              resources.add(handle);
              yield handle.map("lh-" + runId);
            }
            case CAFFEINE -> new CaffeineClient(LocalHitScenario.CACHE_BYTES);
            case DSTORE_CLUSTER ->
                throw new IllegalArgumentException("local-hit does not run on the cluster store");
          };
      results = LocalHitScenario.measure(system, client, runId, warmup, measure, log);
    } finally {
      for (int i = resources.size() - 1; i >= 0; i--) {
        resources.get(i).close();
      }
    }
    for (Result r : results) {
      System.out.println(
          RESULT_LINE
              + (r.variant() == null ? "-" : r.variant())
              + " "
              + ResultJson.write(List.of(r.withVariant(null))).replace("\n", ""));
    }
    System.out.flush();
    System.exit(0);
  }
}
