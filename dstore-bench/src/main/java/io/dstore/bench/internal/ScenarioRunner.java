package io.dstore.bench.internal;

import java.util.List;

/** Runs one scenario on every system it applies to, adding one result per measured cell. */
interface ScenarioRunner {
  void run(BenchContext ctx, List<Result> out) throws InterruptedException;

  static ScenarioRunner of(Scenario s) {
    return switch (s) {
      case LOCAL_HIT -> new LocalHitScenario();
      case REMOTE_GET -> new RemoteScenario(false);
      case PUT -> new RemoteScenario(true);
      case INVALIDATE -> new InvalidateScenario();
      case LARGE -> new LargeScenario();
      case MIXED -> new MixedScenario();
      case CLUSTER -> new ClusterScenario();
    };
  }
}
