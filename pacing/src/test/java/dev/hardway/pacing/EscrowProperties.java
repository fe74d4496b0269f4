package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The box's escrow guarantee under any sequence of ticks, spends, refunds, lease changes (including lower grants,
 * lapsed freshness, stop times) and period changes: what the box spends never exceeds what its leases granted, its
 * own counters agree with what was really spent, and its reports only grow.
 */
class EscrowProperties {
  private static final BoxId BOX = new BoxId("eu-west", "b1");

  sealed interface Op permits Tick, Spend, Refund, NewLease, NewPeriod {}

  record Tick(int millis) implements Op {}

  record Spend(int micros) implements Op {}

  record Refund(int permille) implements Op {}

  record NewLease(int granted, int rate, int burst, int freshSeconds, int stopSeconds, int policy)
      implements Op {}

  record NewPeriod() implements Op {}

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> lease = Combinators.combine(
        Arbitraries.integers().between(0, 200_000), Arbitraries.integers().between(0, 20_000),
        Arbitraries.integers().between(0, 50_000), Arbitraries.integers().between(0, 120),
        Arbitraries.integers().between(0, 600), Arbitraries.integers().between(0, 2))
        .as((g, r, b, f, s, p) -> new NewLease(g, r, b, f, f + s, p));
    Arbitrary<Op> op = Arbitraries.frequencyOf(
        Tuple.of(5, Arbitraries.integers().between(1, 5_000).map(Tick::new)),
        Tuple.of(8, Arbitraries.integers().between(1, 5_000).map(Spend::new)),
        Tuple.of(2, Arbitraries.integers().between(1, 1_000).map(Refund::new)),
        Tuple.of(2, lease),
        Tuple.of(1, Arbitraries.just(new NewPeriod())));
    return op.list().ofMinSize(1).ofMaxSize(200);
  }

  @Property(tries = 300)
  void aBoxNeverSpendsMoreThanItsLeasesGrant(@ForAll("ops") List<Op> ops) {
    TestClock clock = TestClock.at(Instant.parse("2026-11-28T00:00:00Z"));
    try (Pacer pacer = Pacer.builder().box(BOX).clock(clock).backgroundTick(false).build()) {
      Budget b = pacer.budget("c");
      long period = 1;
      long epoch = 0;
      long version = 0;
      long maxGrant = 0;
      long netSpent = 0;
      SpendReport last = null;
      for (Op op : ops) {
        switch (op) {
          case Tick t -> {
            clock.advance(Duration.ofMillis(t.millis()));
            pacer.tick();
          }
          case Spend s -> {
            if (b.trySpend(s.micros())) {
              netSpent += s.micros();
            }
          }
          case Refund r -> {
            long amount = netSpent * r.permille() / 1000;
            if (amount > 0) {
              b.refund(amount);
              netSpent -= amount;
            }
          }
          case NewLease l -> {
            long now = clock.millis();
            Degradation d = switch (l.policy()) {
              case 0 -> Degradation.STOP;
              case 1 -> Degradation.LAST_RATE;
              default -> new Degradation.SafeRate(l.rate() / 2);
            };
            Lease lease = new Lease(++epoch, l.granted(), l.rate(), l.burst(), now + l.freshSeconds() * 1000L,
                now + l.stopSeconds() * 1000L);
            pacer.apply(new Allocation(1, ++version, now, Map.of("c", new Allocation.BudgetLeases(period,
                now + Duration.ofHours(24).toMillis(), d, Map.of(BOX, lease)))));
            pacer.tick();
            maxGrant = Math.max(maxGrant, l.granted());
          }
          case NewPeriod p -> {
            period++;
            epoch = 0;
            maxGrant = 0;
            netSpent = 0;
            last = null;
            long now = clock.millis();
            pacer.apply(new Allocation(1, ++version, now, Map.of("c", new Allocation.BudgetLeases(period,
                now + Duration.ofHours(24).toMillis(), Degradation.LAST_RATE, Map.of()))));
            pacer.tick();
          }
        }
        BudgetStats s = b.stats();
        assertThat(netSpent).as("net spend within the largest grant of the period").isLessThanOrEqualTo(maxGrant);
        assertThat(s.spentMicros() - s.refundedMicros()).as("the box's own count").isEqualTo(netSpent);
        assertThat(s.spentMicros() - s.refundedMicros() + s.spendableMicros()).isEqualTo(s.fedMicros());
        List<SpendReport> reports = pacer.reports();
        if (!reports.isEmpty()) {
          SpendReport r = reports.get(0);
          assertThat(r.netSpentMicros()).isEqualTo(netSpent);
          assertThat(r.netFedMicros()).isLessThanOrEqualTo(maxGrant);
          if (last != null && last.period() == r.period()) {
            assertThat(r.merge(last)).as("reports only grow").isEqualTo(r);
          }
          last = r;
        }
      }
    }
  }
}
