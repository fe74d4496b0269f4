package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a box reports as its demand: the coordinator shares the budget by it. */
class PacerDemandReportTest {
  private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
  private static final BoxId BOX = new BoxId("us-east", "box-1");
  private static final BudgetSpec SPEC = BudgetSpec.daily("c", 1_000_000_000L, ZoneOffset.UTC);

  private static Allocation lease(long rate) {
    long period = SPEC.period(T0);
    long end = SPEC.periodEnd(period).toEpochMilli();
    Lease l = new Lease(1, 500_000_000L, rate, 4 * rate, end, end);
    return new Allocation(1, 1, T0.toEpochMilli(),
        Map.of("c", new Allocation.BudgetLeases(period, end, Degradation.LAST_RATE, Map.of(BOX, l))));
  }

  @Test
  void wantedMicros_whenThrottled_reportsDemandAsIfEveryOpportunityWereBidOn() {
    TestClock clock = TestClock.at(T0);
    Pacer pacer = Pacer.builder().box(BOX).clock(clock).backgroundTick(false).build();
    Budget budget = pacer.budget("c");
    pacer.apply(lease(1_000));
    long wantedAt60 = 0;
    for (int s = 0; s < 300; s++) {
      pacer.tick();
      // 10 opportunities of 1000 micros a second: a demand of 10 000 micros/s against a lease of 1 000 micros/s.
      for (int i = 0; i < 10; i++) {
        if (budget.shouldBid()) {
          budget.trySpend(1_000);
        }
      }
      if (s == 59) {
        wantedAt60 = pacer.reports().getFirst().wantedMicros();
      }
      clock.advance(Duration.ofSeconds(1));
    }
    assertThat(budget.stats().bidProbability()).isLessThan(0.5);
    double demandPerSecond = (pacer.reports().getFirst().wantedMicros() - wantedAt60) / 240.0;
    assertThat(demandPerSecond).isBetween(7_000.0, 13_000.0);
  }

  @Test
  void wantedMicros_countsARefundedSpendOnce() {
    TestClock clock = TestClock.at(T0);
    Pacer pacer = Pacer.builder().box(BOX).clock(clock).backgroundTick(false).build();
    Budget budget = pacer.budget("c");
    pacer.apply(lease(10_000));
    pacer.tick();
    clock.advance(Duration.ofSeconds(1));
    pacer.tick();
    assertThat(budget.trySpend(1_000)).isTrue();
    budget.refund(400);
    SpendReport r = pacer.reports().getFirst();
    assertThat(r.spentMicros()).isEqualTo(1_000);
    assertThat(r.refundedMicros()).isEqualTo(400);
    assertThat(r.wantedMicros()).isEqualTo(1_000);
  }
}
