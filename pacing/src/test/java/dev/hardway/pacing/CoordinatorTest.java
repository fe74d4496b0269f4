package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The coordinator's accounting and allocation rules. */
class CoordinatorTest {
  private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
  private static final long AMOUNT = 864_000_000L; // 10 000 micros/s over the day
  private static final BudgetSpec SPEC = BudgetSpec.daily("c", AMOUNT, ZoneOffset.UTC);
  private static final long PERIOD = SPEC.period(T0);
  private static final BoxId A = new BoxId("r-a", "box-0");
  private static final BoxId B = new BoxId("r-b", "box-0");
  private static final BoxId C = new BoxId("r-c", "box-0");

  private final TestClock clock = TestClock.at(T0);
  private final Map<BoxId, long[]> counters = new HashMap<>(); // spent, fed, wanted, opportunities, epoch

  private Coordinator.Builder settings() {
    return Coordinator.builder().budgets(List.of(SPEC)).regions(Set.of("r-a", "r-b", "r-c")).clock(clock);
  }

  /** A report in which the box spent {@code spend} and wanted {@code wanted} more since its last one. */
  private SpendReport report(BoxId box, long spend, long wanted) {
    long[] c = counters.computeIfAbsent(box, k -> new long[5]);
    c[0] += spend;
    c[1] = Math.max(c[1], c[0]);
    c[2] += wanted;
    c[3] += wanted / 1_000;
    return new SpendReport(box, "c", PERIOD, c[0], 0, c[1], 0, c[3], c[2], c[4], clock.millis());
  }

  private void heard(BoxId box, Lease lease) {
    counters.computeIfAbsent(box, k -> new long[5])[4] = lease.epoch();
  }

  private static Lease lease(Allocation a, BoxId box) {
    return a.budgets().get("c").leases().get(box);
  }

  private static long committed(Allocation a) {
    return a.budgets().get("c").leases().values().stream().mapToLong(Lease::grantedMicros).sum();
  }

  private void tick(Duration d) {
    clock.advance(d);
  }

  /** Every box reports twice, 10 s apart, with demand in the given proportions, then one allocation. */
  private Allocation warmUp(Coordinator c, long wantedA, long wantedB, long wantedC) {
    c.allocate();
    for (int i = 0; i < 2; i++) {
      c.offer(report(A, 0, wantedA));
      c.offer(report(B, 0, wantedB));
      c.offer(report(C, 0, wantedC));
      tick(Duration.ofSeconds(10));
    }
    return c.allocate();
  }

  @Test
  void allocate_sharesTheRateInProportionToDemand() {
    Coordinator c = settings().build();
    // 30 M, 10 M and 10 M micros/s of demand against a plan of about 1.2 M micros/s.
    Allocation a = warmUp(c, 300_000_000, 100_000_000, 100_000_000);
    long ra = lease(a, A).rateMicrosPerSecond();
    long rb = lease(a, B).rateMicrosPerSecond();
    assertThat(ra).isPositive();
    assertThat((double) ra / rb).isBetween(2.8, 3.2);
    assertThat(lease(a, B).rateMicrosPerSecond()).isEqualTo(lease(a, C).rateMicrosPerSecond());
  }

  @Test
  void allocate_capsEachBoxAtItsDemand() {
    Coordinator c = settings().build();
    // 1 000 and 500 micros/s of demand against a plan of about 10 000 micros/s: each gets what it wants.
    Allocation a = warmUp(c, 10_000, 5_000, 0);
    assertThat(lease(a, A).rateMicrosPerSecond()).isBetween(990L, 1_010L);
    assertThat(lease(a, B).rateMicrosPerSecond()).isBetween(495L, 505L);
  }

  @Test
  void allocate_neverCommitsMoreThanTheAmount() {
    Coordinator c = settings().reserveHorizon(Duration.ofHours(48)).build();
    Allocation a = warmUp(c, 1_000_000_000L, 1_000_000_000L, 1_000_000_000L);
    for (int i = 0; i < 50; i++) {
      assertThat(committed(a)).isLessThanOrEqualTo(AMOUNT);
      c.offer(report(A, 1_000_000, 1_000_000_000L));
      c.offer(report(B, 1_000_000, 1_000_000_000L));
      c.offer(report(C, 1_000_000, 1_000_000_000L));
      tick(Duration.ofSeconds(10));
      a = c.allocate();
    }
    assertThat(committed(a)).isEqualTo(AMOUNT);
    assertThat(c.stats().budgets().get("c").uncommittedMicros()).isZero();
  }

  @Test
  void allocate_withoutQuorum_holdsGrantsAndRatesAndRenewsOnlyLiveBoxes() {
    Coordinator c = settings().build();
    Allocation before = warmUp(c, 100_000, 100_000, 100_000);
    // Only region a keeps reporting: 1 of 3 regions, below the majority.
    for (int i = 0; i < 4; i++) {
      tick(Duration.ofSeconds(10));
      c.offer(report(A, 0, 5_000_000));
    }
    Allocation held = c.allocate();
    assertThat(c.stats().quorum()).isFalse();
    assertThat(c.stats().holds()).isEqualTo(1 + 1); // the very first allocation had no reports either
    assertThat(lease(held, A).grantedMicros()).isEqualTo(lease(before, A).grantedMicros());
    assertThat(lease(held, A).rateMicrosPerSecond()).isEqualTo(lease(before, A).rateMicrosPerSecond());
    assertThat(lease(held, A).freshUntilMillis()).isEqualTo(clock.millis() + 30_000);
    assertThat(lease(held, B)).isEqualTo(lease(before, B));
  }

  /** One sync: the boxes report (C only when {@code cReports}), the coordinator allocates, every box applies it. */
  private Allocation round(Coordinator c, long wanted, long wantedC, boolean cReports) {
    tick(Duration.ofSeconds(10));
    c.offer(report(A, 0, wanted));
    c.offer(report(B, 0, wanted));
    if (cReports) {
      c.offer(report(C, 0, wantedC));
    }
    Allocation a = c.allocate();
    for (BoxId box : List.of(A, B, C)) {
      Lease l = lease(a, box);
      if (l != null && (box != C || cReports)) {
        heard(box, l);
      }
    }
    return a;
  }

  /** C had demand, built up a grant, then its demand fell to nothing (its rate to the probe): the grant stays. */
  private Map<Long, Lease> buildIdleGrantOfC(Coordinator c) {
    Map<Long, Lease> leasesOfC = new HashMap<>();
    c.allocate();
    for (int i = 0; i < 40; i++) {
      Lease l = lease(round(c, 100_000, i < 10 ? 100_000 : 0, true), C);
      if (l != null) {
        leasesOfC.put(l.epoch(), l);
      }
    }
    return leasesOfC;
  }

  @Test
  void silentBox_isReclaimedOnlyAfterItsStopPlusSkew_downToItsFeedBound() {
    Coordinator c = settings().reserveHorizon(Duration.ofMinutes(10)).maxClockSkew(Duration.ofSeconds(5)).build();
    Map<Long, Lease> leasesOfC = buildIdleGrantOfC(c);
    SpendReport lastOfC = report(C, 0, 0);
    c.offer(lastOfC);
    long grant = 0;
    Lease reclaimed = null;
    while (reclaimed == null) {
      Lease l = lease(round(c, 100_000, 0, false), C);
      if (l.grantedMicros() < grant) {
        reclaimed = l;
      } else {
        grant = l.grantedMicros();
        leasesOfC.put(l.epoch(), l);
      }
    }
    long maxRate = 0;
    long maxBurst = 0;
    long maxStop = 0;
    for (Lease l : leasesOfC.values()) {
      if (l.epoch() >= lastOfC.leaseEpoch()) {
        maxRate = Math.max(maxRate, l.rateMicrosPerSecond());
        maxBurst = Math.max(maxBurst, l.burstMicros());
        maxStop = Math.max(maxStop, l.stopAtMillis());
      }
    }
    assertThat(clock.millis()).isGreaterThan(maxStop + 5_000).isLessThanOrEqualTo(maxStop + 15_000);
    long bound = (long) Math.ceil(lastOfC.netFedMicros() + maxRate * ((maxStop - lastOfC.sentAtMillis() + 5_000)
        / 1000.0) + maxBurst);
    assertThat(reclaimed.grantedMicros()).isEqualTo(bound).isLessThan(grant);
    assertThat(c.stats().budgets().get("c").reclaimedMicros()).isEqualTo(grant - bound);
  }

  @Test
  void silentBox_reportingAgain_keepsItsLoweredGrantAndResumes() {
    Coordinator c = settings().reserveHorizon(Duration.ofMinutes(1)).build();
    buildIdleGrantOfC(c);
    for (int i = 0; i < 20; i++) {
      round(c, 100_000, 0, false);
    }
    long lowered = c.snapshot().periods().getLast().boxes().stream().filter(b -> b.box().equals(C)).findFirst()
        .orElseThrow().grantedMicros();
    assertThat(c.stats().budgets().get("c").reclaimedMicros()).isPositive();
    Lease back = lease(round(c, 100_000, 100_000, true), C);
    assertThat(back.grantedMicros()).isGreaterThanOrEqualTo(lowered);
    assertThat(back.freshUntilMillis()).isEqualTo(clock.millis() + 30_000);
    assertThat(back.rateMicrosPerSecond()).isPositive();
  }

  @Test
  void offer_anOlderOrDuplicateReport_isMergedButIsNotNews() {
    Coordinator c = settings().build();
    warmUp(c, 100_000, 100_000, 100_000);
    SpendReport old = new SpendReport(C, "c", PERIOD, 0, 0, 0, 0, 0, 0, 0, T0.toEpochMilli());
    for (int i = 0; i < 4; i++) {
      tick(Duration.ofSeconds(10));
      c.offer(report(A, 0, 100_000));
      c.offer(old); // replayed: must not keep C alive
    }
    assertThat(c.stats().budgets().get("c").liveBoxes()).isEqualTo(1);
    assertThat(c.stats().quorum()).isFalse();
  }

  @Test
  void offer_ofUnknownBudgetOrPeriod_isCountedAndIgnored() {
    Coordinator c = settings().build();
    c.allocate();
    c.offer(new SpendReport(A, "other", PERIOD, 0, 0, 0, 0, 0, 0, 0, clock.millis()));
    c.offer(new SpendReport(A, "c", PERIOD - 5, 0, 0, 0, 0, 0, 0, 0, clock.millis()));
    assertThat(c.stats().reportsIgnored()).isEqualTo(2);
  }

  @Test
  void versions_increaseWithinATerm_andEpochsCarryTheTerm() {
    Coordinator c = settings().term(7).build();
    Allocation first = warmUp(c, 100_000, 100_000, 100_000);
    Allocation second = c.allocate();
    assertThat(second.newerThan(first)).isTrue();
    assertThat(second.term()).isEqualTo(7);
    assertThat(lease(second, A).epoch()).isGreaterThan(lease(first, A).epoch()).isGreaterThanOrEqualTo(7L << 32);
  }

  @Test
  void restore_withAHigherTerm_keepsGrantsAndSupersedesTheOldLeases() {
    Coordinator c = settings().build();
    Allocation a = warmUp(c, 100_000, 100_000, 100_000);
    CoordinatorSnapshot snap = c.snapshot();
    tick(Duration.ofSeconds(10));
    Coordinator restored = Coordinator.restore(snap, settings().term(2));
    assertThat(restored.snapshot().periods()).isEqualTo(snap.periods());
    assertThat(restored.snapshot().budgets()).isEqualTo(snap.budgets());
    Allocation b = restored.allocate();
    assertThat(b.newerThan(a)).isTrue();
    for (BoxId box : List.of(A, B, C)) {
      assertThat(lease(b, box).grantedMicros()).isGreaterThanOrEqualTo(lease(a, box).grantedMicros());
      assertThat(lease(b, box).epoch()).isGreaterThan(lease(a, box).epoch());
      assertThat(lease(b, box).rateMicrosPerSecond()).isPositive(); // no zero-capacity period
    }
  }

  @Test
  void restore_withoutAHigherTerm_isRefused() {
    Coordinator c = settings().term(3).build();
    CoordinatorSnapshot snap = c.snapshot();
    assertThatThrownBy(() -> Coordinator.restore(snap, settings().term(3)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("term");
  }

  @Test
  void putBudget_belowWhatIsCommitted_grantsNothingMoreAndStopsOnceSpent() {
    Coordinator c = settings().build();
    Allocation a = warmUp(c, 100_000, 100_000, 100_000);
    long committed = committed(a);
    long grantOfA = lease(a, A).grantedMicros();
    c.putBudget(SPEC.withAmount(grantOfA));
    c.offer(report(A, grantOfA, 100_000)); // A spent its whole grant: the new amount is reached
    tick(Duration.ofSeconds(10));
    Allocation after = c.allocate();
    assertThat(committed(after)).isEqualTo(committed);
    assertThat(c.stats().budgets().get("c").uncommittedMicros()).isZero();
    // The plan's rate is zero, so the boxes stop and give back what they hold spendable.
    assertThat(lease(after, B).rateMicrosPerSecond()).isZero();
    assertThat(c.stats().budgets().get("c").amountMicros()).isEqualTo(grantOfA);
  }

  @Test
  void newPeriod_givesLiveBoxesLeasesAtOnce() {
    Coordinator c = settings().build();
    warmUp(c, 100_000, 100_000, 100_000);
    clock.set(SPEC.periodEnd(PERIOD).minusSeconds(5));
    c.offer(report(A, 0, 100_000));
    c.offer(report(B, 0, 100_000));
    c.offer(report(C, 0, 100_000));
    tick(Duration.ofSeconds(10));
    Allocation.BudgetLeases bl = c.allocate().budgets().get("c");
    assertThat(bl.period()).isEqualTo(PERIOD + 1);
    assertThat(bl.leases()).containsOnlyKeys(A, B, C);
    assertThat(bl.leases().values()).allSatisfy(l -> assertThat(l.rateMicrosPerSecond()).isPositive());
  }

  @Test
  void builder_rejectsBadValuesNamingThem() {
    assertThatThrownBy(() -> Coordinator.builder().quorum(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("quorum").hasMessageContaining("0");
    assertThatThrownBy(() -> Coordinator.builder().syncInterval(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("syncInterval");
    assertThatThrownBy(() -> Coordinator.builder().regions(Set.of("a")).quorum(2).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("quorum");
    assertThatThrownBy(() -> Coordinator.builder().build()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("regions");
    assertThatThrownBy(() -> Coordinator.builder().term(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void lease_stopsAfterTheReserveHorizon_andStopPolicyStopsAtFreshness() {
    Coordinator c = settings().reserveHorizon(Duration.ofMinutes(20)).build();
    Lease l = lease(warmUp(c, 100_000, 100_000, 100_000), A);
    assertThat(l.freshUntilMillis()).isEqualTo(clock.millis() + 30_000);
    assertThat(l.stopAtMillis()).isEqualTo(l.freshUntilMillis() + 20 * 60_000);
    counters.clear();
    Coordinator stop = settings().budgets(List.of(SPEC.withDegradation(Degradation.STOP))).build();
    Lease s = lease(warmUp(stop, 100_000, 100_000, 100_000), A);
    assertThat(s.stopAtMillis()).isEqualTo(s.freshUntilMillis());
  }

  @Test
  void aLeavingReport_returnsTheRestOfTheGrantAtOnce_andTheBoxGetsNoMoreLeases() {
    Coordinator c = settings().build();
    Allocation a = warmUp(c, 300_000_000, 100_000_000, 100_000_000);
    Lease la = lease(a, A);
    assertThat(la.grantedMicros()).isPositive();
    long before = committed(a);
    long[] k = counters.get(A);
    // A fed 1000 and spent 700, then left: it took back the 300 it held.
    c.offer(new SpendReport(A, "c", PERIOD, 700, 0, 1_000, 300, k[3], k[2], la.epoch(), clock.millis(), true));
    tick(Duration.ofSeconds(10));
    c.offer(report(B, 0, 100_000_000));
    c.offer(report(C, 0, 100_000_000));
    Allocation next = c.allocate();
    assertThat(lease(next, A)).isNull();
    assertThat(c.stats().budgets().get("c").committedMicros() - committed(next)).isEqualTo(700);
    assertThat(committed(next)).isLessThanOrEqualTo(AMOUNT);
    assertThat(c.stats().budgets().get("c").reclaimedMicros()).isEqualTo(la.grantedMicros() - 700);
    assertThat(before).isPositive();
  }
}
