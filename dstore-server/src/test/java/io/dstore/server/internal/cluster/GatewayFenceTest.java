package io.dstore.server.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The gateway's lease fence, on an injected clock (nanoseconds given to each call). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class GatewayFenceTest {
  private static final long MS = 1_000_000L;
  private static final long LOCAL_LEASE = 2_000 * MS;
  private static final long TTL = 10_000 * MS;

  private final GatewayFence fence = new GatewayFence(4_000 * MS, 200 * MS);

  @Test
  void grantsNothingBeforeTheWatchHasConfirmedACatchUp() {
    fence.leaseRenewed(0, TTL);

    assertThat(fence.grantableNanos(100 * MS, LOCAL_LEASE)).isZero();
  }

  @Test
  void grantsAFullLeaseWhileTheEtcdLeaseIsFarFromExpiryAndTheWatchIsCurrent() {
    fence.leaseRenewed(0, TTL);
    fence.caughtUp(50 * MS);

    assertThat(fence.grantableNanos(100 * MS, LOCAL_LEASE)).isEqualTo(LOCAL_LEASE);
  }

  @Test
  void neverGrantsALeaseThatOutlastsTheEtcdLeaseLessTheMargin() {
    fence.leaseRenewed(0, TTL);
    fence.caughtUp(9_000 * MS);

    long granted = fence.grantableNanos(9_000 * MS, LOCAL_LEASE);

    assertThat(granted).isEqualTo(TTL - 200 * MS - 9_000 * MS);
    assertThat(9_000 * MS + granted).isLessThan(TTL);
  }

  @Test
  void grantsNothingOnceTheEtcdLeaseHasRunOutWithoutARenewal() {
    fence.leaseRenewed(0, TTL);
    fence.caughtUp(9_900 * MS);

    assertThat(fence.grantableNanos(9_900 * MS, LOCAL_LEASE)).isZero();
    assertThat(fence.grantableNanos(11_000 * MS, LOCAL_LEASE)).isZero();
  }

  @Test
  void aRenewalCountsFromWhenTheKeepAliveWasSentNotWhenItWasAnswered() {
    fence.leaseRenewed(0, TTL);
    fence.leaseRenewed(5_000 * MS, TTL); // sent at 5 s, answered whenever
    fence.caughtUp(12_000 * MS);

    assertThat(fence.etcdLeaseExpiry()).isEqualTo(15_000 * MS);
    assertThat(fence.grantableNanos(14_000 * MS, LOCAL_LEASE)).isEqualTo(800 * MS);
  }

  @Test
  void anOlderRenewalAnsweredLateDoesNotShortenTheLease() {
    fence.leaseRenewed(5_000 * MS, TTL);
    fence.leaseRenewed(1_000 * MS, TTL);

    assertThat(fence.etcdLeaseExpiry()).isEqualTo(15_000 * MS);
  }

  @Test
  void aStalledWatchStopsGrantsAndKeepAlivesUntilItCatchesUpAgain() {
    fence.leaseRenewed(0, TTL);
    fence.caughtUp(1_000 * MS);

    assertThat(fence.granting(4_000 * MS)).isTrue();
    assertThat(fence.granting(5_500 * MS)).isFalse();
    assertThat(fence.mayKeepAlive(5_500 * MS)).isFalse();

    fence.caughtUp(5_400 * MS);
    assertThat(fence.granting(5_500 * MS)).isTrue();
    assertThat(fence.mayKeepAlive(5_500 * MS)).isTrue();
  }

  @Test
  void aLostEtcdLeaseStopsGrantsUntilANewOneIsTaken() {
    fence.leaseRenewed(0, TTL);
    fence.caughtUp(100 * MS);
    fence.leaseLost();

    assertThat(fence.grantableNanos(200 * MS, LOCAL_LEASE)).isZero();
    assertThat(fence.mayKeepAlive(200 * MS)).isFalse();

    fence.leaseRenewed(3_000 * MS, TTL);
    fence.caughtUp(3_100 * MS);
    assertThat(fence.grantableNanos(3_200 * MS, LOCAL_LEASE)).isEqualTo(LOCAL_LEASE);
  }
}
