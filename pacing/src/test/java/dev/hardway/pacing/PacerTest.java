package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The box side, driven tick by tick on a test clock. */
class PacerTest {
  private static final BoxId BOX = new BoxId("us-east", "box-1");
  private static final long PERIOD = 20_000;
  private final TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
  private final Pacer pacer = Pacer.builder().box(BOX).clock(clock).backgroundTick(false).build();
  private long version;

  @AfterEach
  void close() {
    pacer.close();
  }

  private long now() {
    return clock.millis();
  }

  private Allocation allocation(long term, Degradation d, Lease lease) {
    return allocation(term, PERIOD, d, lease);
  }

  private Allocation allocation(long term, long period, Degradation d, Lease lease) {
    return new Allocation(term, ++version, now(), Map.of("c1", new Allocation.BudgetLeases(period,
        now() + Duration.ofHours(12).toMillis(), d, Map.of(BOX, lease))));
  }

  private Lease lease(long epoch, long granted, long rate, long burst, Duration fresh, Duration stop) {
    return new Lease(epoch, granted, rate, burst, now() + fresh.toMillis(), now() + stop.toMillis());
  }

  private void tick(Duration d) {
    clock.advance(d);
    pacer.tick();
  }

  @Test
  void trySpend_withoutALease_refusesAndCounts() {
    Budget b = pacer.budget("c1");
    pacer.tick();
    assertThat(b.trySpend(1)).isFalse();
    assertThat(b.stats().refusals()).isEqualTo(1);
    assertThat(b.stats().mode()).isEqualTo(BudgetStats.Mode.NO_LEASE);
  }

  @Test
  void tick_feedsAtTheLeaseRate_upToTheBurst_neverBeyondTheGrant() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 5_000, 1_000, 1_500, Duration.ofMinutes(1), Duration.ofHours(2))));
    pacer.tick();
    tick(Duration.ofSeconds(1));
    assertThat(b.stats().spendableMicros()).isEqualTo(1_000);
    tick(Duration.ofSeconds(1));
    assertThat(b.stats().spendableMicros()).isEqualTo(1_500); // the burst
    assertThat(b.trySpend(1_500)).isTrue();
    assertThat(b.trySpend(1)).isFalse();
    for (int i = 0; i < 20; i++) {
      tick(Duration.ofSeconds(1));
      while (b.trySpend(100)) {
        // spend everything fed
      }
    }
    BudgetStats s = b.stats();
    assertThat(s.spentMicros()).isEqualTo(5_000);
    assertThat(s.fedMicros()).isEqualTo(5_000);
    assertThat(s.mode()).isEqualTo(BudgetStats.Mode.FRESH);
  }

  @Test
  void degraded_stop_takesBackWhatIsSpendable() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.STOP,
        lease(1, 100_000, 1_000, 5_000, Duration.ofSeconds(10), Duration.ofHours(2))));
    pacer.tick();
    tick(Duration.ofSeconds(5));
    assertThat(b.stats().spendableMicros()).isEqualTo(5_000);
    tick(Duration.ofSeconds(6)); // past freshness
    assertThat(b.stats().mode()).isEqualTo(BudgetStats.Mode.DEGRADED);
    assertThat(b.stats().spendableMicros()).isZero();
    assertThat(b.trySpend(1)).isFalse();
    assertThat(pacer.reports().get(0).reclaimedMicros()).isEqualTo(5_000);
  }

  @Test
  void degraded_lastRate_keepsTheRecentRate_cappedByTheLease_andStopsAtStopAt() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 10_000_000, 1_000, 2_000, Duration.ofMinutes(2), Duration.ofMinutes(10))));
    pacer.tick();
    for (int i = 0; i < 120; i++) {
      tick(Duration.ofSeconds(1));
      b.trySpend(400); // demand of 400/s, below the lease's 1000/s
    }
    long before = b.stats().spentMicros();
    for (int i = 0; i < 60; i++) {
      tick(Duration.ofSeconds(1));
      while (b.trySpend(100)) {
        // take whatever is fed
      }
    }
    assertThat(b.stats().mode()).isEqualTo(BudgetStats.Mode.DEGRADED);
    long degradedMinute = b.stats().spentMicros() - before;
    assertThat(degradedMinute).isBetween(60L * 300, 60L * 500); // about the last rate, not the lease's 1000/s
    clock.advance(Duration.ofMinutes(10));
    pacer.tick();
    assertThat(b.stats().mode()).isEqualTo(BudgetStats.Mode.STOPPED);
    assertThat(b.stats().spendableMicros()).isZero();
  }

  @Test
  void degraded_safeRate_isCappedByTheLeaseRate() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, new Degradation.SafeRate(5_000),
        lease(1, 10_000_000, 2_000, 100_000, Duration.ofSeconds(1), Duration.ofHours(1))));
    pacer.tick();
    tick(Duration.ofSeconds(2));
    long fed = b.stats().fedMicros();
    tick(Duration.ofSeconds(10));
    assertThat(b.stats().fedMicros() - fed).isEqualTo(20_000);
  }

  @Test
  void apply_ignoresOlderTermsAndVersions() {
    Allocation a = allocation(5, Degradation.LAST_RATE, lease(1, 1, 1, 1, Duration.ofSeconds(1), Duration.ofHours(1)));
    assertThat(pacer.apply(a)).isTrue();
    Allocation sameTermOlder = new Allocation(5, a.version() - 1, now(), a.budgets());
    Allocation olderTerm = new Allocation(4, a.version() + 100, now(), a.budgets());
    assertThat(pacer.apply(sameTermOlder)).isFalse();
    assertThat(pacer.apply(olderTerm)).isFalse();
    assertThat(pacer.staleAllocations()).isEqualTo(2);
    assertThat(pacer.allocation()).isSameAs(a);
  }

  @Test
  void aNewPeriod_startsFromZero_andTheOldBalanceIsNoLongerSpendable() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 10_000, 1_000, 1_000, Duration.ofMinutes(1), Duration.ofHours(1))));
    pacer.tick();
    tick(Duration.ofSeconds(1));
    assertThat(b.trySpend(300)).isTrue();
    pacer.apply(allocation(1, PERIOD + 1, Degradation.LAST_RATE,
        lease(1, 10_000, 1_000, 1_000, Duration.ofMinutes(1), Duration.ofHours(1))));
    pacer.tick();
    BudgetStats s = b.stats();
    assertThat(s.period()).isEqualTo(PERIOD + 1);
    assertThat(s.spentMicros()).isZero();
    assertThat(b.trySpend(1)).isFalse();
    tick(Duration.ofSeconds(1));
    assertThat(b.trySpend(1_000)).isTrue();
  }

  @Test
  void aLowerGrant_takesBackWhatIsStillUnspent() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 10_000, 5_000, 5_000, Duration.ofMinutes(1), Duration.ofHours(1))));
    pacer.tick();
    tick(Duration.ofSeconds(1));
    assertThat(b.trySpend(1_000)).isTrue();
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(2, 2_000, 5_000, 5_000, Duration.ofMinutes(1), Duration.ofHours(1))));
    tick(Duration.ofSeconds(1));
    BudgetStats s = b.stats();
    assertThat(s.fedMicros()).isEqualTo(2_000);
    assertThat(s.spendableMicros()).isEqualTo(1_000);
  }

  @Test
  void refund_makesMoneySpendableAgain_andRefusesMoreThanWasSpent() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 10_000, 1_000, 1_000, Duration.ofMinutes(1), Duration.ofHours(1))));
    pacer.tick();
    tick(Duration.ofSeconds(1));
    assertThat(b.trySpend(600)).isTrue();
    b.refund(200);
    assertThat(b.stats().spendableMicros()).isEqualTo(600);
    assertThat(b.stats().spentMicros()).isEqualTo(600);
    assertThat(b.stats().refundedMicros()).isEqualTo(200);
    assertThatThrownBy(() -> b.refund(401)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot refund 401 micros of budget c1: its net spend in this period is 400");
  }

  @Test
  void badInput_namesTheValue() {
    Budget b = pacer.budget("c1");
    assertThatThrownBy(() -> b.trySpend(0)).hasMessage("micros to spend must be > 0, got 0");
    assertThatThrownBy(() -> b.trySpend(-5)).hasMessage("micros to spend must be > 0, got -5");
    assertThatThrownBy(() -> b.refund(-1)).hasMessage("micros to refund must be > 0, got -1");
    assertThatThrownBy(() -> pacer.budget("bad id")).hasMessageContaining("got \"bad id\"");
    assertThatThrownBy(() -> pacer.trySpend("c1", Long.MIN_VALUE)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new BoxId("US EAST", "b")).hasMessageContaining("\"US EAST\"");
  }

  @Test
  void shouldBid_turnsAwayDemandAboveTheRate_evenly() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 100_000_000, 1_000, 1_000, Duration.ofHours(1), Duration.ofHours(2))));
    pacer.tick();
    for (int i = 0; i < 300; i++) {
      tick(Duration.ofSeconds(1));
      for (int k = 0; k < 40; k++) {
        if (b.shouldBid()) {
          b.trySpend(100); // demand 4000/s against a rate of 1000/s
        }
      }
    }
    assertThat(b.stats().bidProbability()).isBetween(0.15, 0.4);
  }

  @Test
  void reports_areCumulative_andNeverGoDown() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 1_000_000, 1_000, 1_000, Duration.ofMinutes(5), Duration.ofHours(1))));
    pacer.tick();
    SpendReport last = null;
    for (int i = 0; i < 50; i++) {
      tick(Duration.ofSeconds(1));
      b.shouldBid();
      b.trySpend(700);
      if (i % 7 == 0) {
        b.refund(100);
      }
      SpendReport r = pacer.reports().get(0);
      if (last != null) {
        assertThat(last.merge(r)).isEqualTo(r.merge(last));
        assertThat(r.spentMicros()).isGreaterThanOrEqualTo(last.spentMicros());
        assertThat(r.refundedMicros()).isGreaterThanOrEqualTo(last.refundedMicros());
        assertThat(r.fedMicros()).isGreaterThanOrEqualTo(last.fedMicros());
        assertThat(r.wantedMicros()).isGreaterThanOrEqualTo(last.wantedMicros());
      }
      assertThat(r.netSpentMicros()).isLessThanOrEqualTo(r.netFedMicros());
      last = r;
    }
  }

  @Test
  void concurrentSpenders_neverSpendMoreThanWasFed() throws Exception {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 1_000_000, 100_000, 50_000, Duration.ofHours(1), Duration.ofHours(2))));
    pacer.tick();
    AtomicLong spent = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      threads.add(Thread.ofPlatform().start(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 200_000; i++) {
          if (b.trySpend(3)) {
            spent.addAndGet(3);
          }
        }
      }));
    }
    start.countDown();
    for (int i = 0; i < 30; i++) {
      tick(Duration.ofMillis(100));
    }
    for (Thread t : threads) {
      t.join();
    }
    BudgetStats s = b.stats();
    assertThat(spent.get()).isEqualTo(s.spentMicros());
    assertThat(s.spentMicros() + s.spendableMicros()).isEqualTo(s.fedMicros());
    assertThat(s.fedMicros()).isLessThanOrEqualTo(1_000_000);
  }

  @Test
  void forThisProcess_givesEachRunItsOwnId() {
    BoxId a = BoxId.forThisProcess("us-east", "box-1");
    BoxId b = BoxId.forThisProcess("us-east", "box-1");
    assertThat(a).isNotEqualTo(b);
    assertThat(a.name()).matches("box-1-[0-9a-z]{7}");
    assertThatThrownBy(() -> BoxId.forThisProcess("us-east", "x".repeat(57))).hasMessageContaining("at most 56");
  }

  @Test
  void leave_takesBackWhatIsSpendable_feedsNoMore_andReportsFinal() {
    Budget b = pacer.budget("c1");
    pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(1, 100_000, 1_000, 5_000, Duration.ofMinutes(5), Duration.ofHours(1))));
    pacer.tick();
    tick(Duration.ofSeconds(3));
    assertThat(b.trySpend(1_000)).isTrue();
    pacer.leave();
    assertThat(b.trySpend(1)).isFalse();
    tick(Duration.ofSeconds(10));
    assertThat(pacer.apply(allocation(1, Degradation.LAST_RATE,
        lease(2, 200_000, 1_000, 5_000, Duration.ofMinutes(5), Duration.ofHours(1))))).isFalse();
    SpendReport r = pacer.reports().get(0);
    assertThat(r.leaving()).isTrue();
    assertThat(r.netFedMicros()).isEqualTo(r.netSpentMicros()).isEqualTo(1_000);
  }
}
