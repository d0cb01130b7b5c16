package io.dstore.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RedisTargetTest {
  private final RedisTarget.DoublingAllocator allocator = new RedisTarget.DoublingAllocator();

  @Test
  void upToFourMebibytesBuffersGrowAsNettyGrowsThem() {
    for (int min : new int[] {100, 65_536, 3 << 20, 4 << 20}) {
      assertThat(allocator.calculateNewCapacity(min, Integer.MAX_VALUE))
          .isEqualTo(UnpooledByteBufAllocator.DEFAULT.calculateNewCapacity(min, Integer.MAX_VALUE));
    }
  }

  @Test
  void pastFourMebibytesBuffersDoubleInsteadOfGrowingInFourMebibyteSteps() {
    assertThat(allocator.calculateNewCapacity((4 << 20) + 1, Integer.MAX_VALUE)).isEqualTo(8 << 20);
    assertThat(allocator.calculateNewCapacity(300 << 20, Integer.MAX_VALUE)).isEqualTo(512 << 20);
    assertThat(allocator.calculateNewCapacity((512 << 20) + 2, Integer.MAX_VALUE))
        .isEqualTo(1 << 30);
  }

  @Test
  void aDoubledCapacityNeverExceedsTheBuffersMaximum() {
    assertThat(allocator.calculateNewCapacity((1 << 30) + 1, Integer.MAX_VALUE))
        .isEqualTo(Integer.MAX_VALUE);
    assertThat(allocator.calculateNewCapacity(5 << 20, 6 << 20)).isEqualTo(6 << 20);
  }

  @Test
  void aBufferThatOutgrowsFourMebibytesKeepsTheAllocatorThatDoubles() {
    ByteBuf buf = allocator.directBuffer(1024);
    try {
      buf.writeBytes(new byte[(4 << 20) + 10]);
      assertThat(buf.alloc()).isSameAs(allocator);
      assertThat(buf.capacity()).isEqualTo(8 << 20);
    } finally {
      buf.release();
    }
  }
}
