package io.dstore.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.proto.Invalidation;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InvalidationLogTest {

  private static Invalidation at(long seq) {
    return Invalidation.newBuilder().setSeq(seq).build();
  }

  private static List<Long> seqs(List<Invalidation> events) {
    return events.stream().map(Invalidation::getSeq).toList();
  }

  @Test
  void eachInvalidationNamesTheOneBeforeItEvenWhenSeqsSkip() {
    InvalidationLog log = new InvalidationLog(10, 100);

    assertThat(log.append(at(105)).getPreviousSeq()).isEqualTo(100);
    assertThat(log.append(at(106)).getPreviousSeq()).isEqualTo(105);
    assertThat(log.append(at(230)).getPreviousSeq()).isEqualTo(106);
    assertThat(seqs(log.after(105))).containsExactly(106L, 230L);
    assertThat(log.after(106).get(0).getPreviousSeq()).isEqualTo(106);
  }

  @Test
  void aLocalBelowTheFloorCannotBeReplayedAndOneAboveTheLastSeqMissedNothing() {
    InvalidationLog log = new InvalidationLog(10, 100);
    log.append(at(105));

    assertThat(log.reachesBackTo(99)).isFalse();
    assertThat(log.reachesBackTo(100)).isTrue();
    assertThat(log.reachesBackTo(500)).isTrue();
    assertThat(log.after(500)).isEmpty();
  }

  @Test
  void evictingTheOldestRaisesTheFloorToIt() {
    InvalidationLog log = new InvalidationLog(2, 0);
    log.append(at(1));
    log.append(at(3));
    log.append(at(7));

    assertThat(log.floor()).isEqualTo(1);
    assertThat(log.reachesBackTo(0)).isFalse();
    assertThat(seqs(log.after(1))).containsExactly(3L, 7L);
  }

  @Test
  void seqsMustIncrease() {
    InvalidationLog log = new InvalidationLog(4, 10);
    log.append(at(12));

    assertThatThrownBy(() -> log.append(at(12))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> log.append(at(11))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void resettingTheFloorForgetsEverythingHeldAndRefusesOlderLocals() {
    InvalidationLog log = new InvalidationLog(4, 0);
    log.append(at(5));
    log.resetFloor(40);

    assertThat(log.reachesBackTo(5)).isFalse();
    assertThat(log.reachesBackTo(40)).isTrue();
    assertThat(log.append(at(41)).getPreviousSeq()).isEqualTo(40);
  }
}
