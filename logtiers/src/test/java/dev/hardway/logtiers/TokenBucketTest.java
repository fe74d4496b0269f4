package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.logtiers.internal.TokenBucket;
import org.junit.jupiter.api.Test;

/** The per-shard rate limiter, on a fake nano clock. */
class TokenBucketTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void available_waitsForTokens_refillingAtTheRate_upToOneSecondsWorth() {
    TokenBucket b = new TokenBucket(1_000, 0);
    assertThat(b.available(1_000, 0)).isTrue();
    b.take(1_000);
    assertThat(b.available(1, 0)).isFalse();
    assertThat(b.available(1, SECOND / 1_000)).isTrue();
    assertThat(b.available(500, SECOND / 4)).isFalse();
    assertThat(b.available(500, SECOND / 2)).isTrue();
    assertThat(b.tokens(100 * SECOND)).isEqualTo(1_000);
  }

  @Test
  void aCostOverTheWholeBucket_passesOnlyWhenFull_andLeavesDebt() {
    TokenBucket b = new TokenBucket(10_000, 0);
    assertThat(b.available(1 << 20, 0)).isTrue();
    b.take(1 << 20);
    assertThat(b.tokens(0)).isNegative();
    // About 104 s of debt at 10 kB/s before the next one: the long-run rate is the limit.
    assertThat(b.available(1 << 20, 100 * SECOND)).isFalse();
    assertThat(b.available(1 << 20, 106 * SECOND)).isTrue();
  }

  @Test
  void empty_dropsTheTokens_butKeepsDebt() {
    TokenBucket b = new TokenBucket(100, 0);
    b.empty(0);
    assertThat(b.available(1, 0)).isFalse();
    assertThat(b.available(1, SECOND / 100)).isTrue();
  }
}
