package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The last-rate policy keeps a box spending at its last rate while the coordinator is out of reach. */
class PacerLastRateTest {
  private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
  private static final BoxId BOX = new BoxId("eu-west", "box-0");
  private static final BudgetSpec SPEC = BudgetSpec.daily("c", 1_000_000_000L, ZoneOffset.UTC);

  /** Lease of 1000 micros/s, fresh for 10 minutes, then 2 h of last rate; demand 10 000 micros/s. */
  private static long spendOverDegradedHour(long seed) {
    TestClock clock = TestClock.at(T0);
    Pacer pacer = Pacer.builder().box(BOX).clock(clock).backgroundTick(false).build();
    Budget budget = pacer.budget("c");
    long period = SPEC.period(T0);
    long end = SPEC.periodEnd(period).toEpochMilli();
    long fresh = T0.plusSeconds(600).toEpochMilli();
    Lease lease = new Lease(1, 100_000_000L, 1_000, 4_000, fresh, fresh + 7_200_000);
    pacer.apply(new Allocation(1, 1, T0.toEpochMilli(),
        Map.of("c", new Allocation.BudgetLeases(period, end, Degradation.LAST_RATE, Map.of(BOX, lease)))));
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
    long degradedSpend = 0;
    for (int s = 0; s < 600 + 3_600; s++) {
      pacer.tick();
      for (int i = 0; i < 10; i++) {
        long price = 500 + rnd.nextInt(1_001);
        if (budget.shouldBid() && budget.trySpend(price) && s >= 600) {
          degradedSpend += price;
        }
      }
      clock.advance(Duration.ofSeconds(1));
    }
    assertThat(budget.stats().mode()).isEqualTo(BudgetStats.Mode.DEGRADED);
    return degradedSpend;
  }

  @Test
  void lastRate_whenLeaseIsStale_keepsSpendingNearTheLastRateForTheHour() {
    // Before the fix the re-measured rate decayed towards zero: about 0.5 M in the hour.
    assertThat(spendOverDegradedHour(1)).isGreaterThan(2_700_000L);
  }

  @Test
  void lastRate_neverFeedsFasterThanTheLeaseRate() {
    assertThat(spendOverDegradedHour(2)).isLessThanOrEqualTo(1_000L * 3_600 + 4_000);
  }
}
