package dev.hardway.pacing.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.pacing.Degradation;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

/**
 * Over random fault schedules (coordinator outages and fail-overs, region partitions, crashes with unreported spend,
 * joins and leaves, report delay, loss, duplication, clock skew), the true spend counted by the simulator from
 * successful {@code trySpend}s never exceeds the budget, and no allocation's grants sum above it. Short lifetime
 * budgets (30 to 90 minutes) and short reserve horizons keep a try well under a second, while leases still expire,
 * go stale and get reclaimed inside the window.
 */
class NoOverspendProperties {

  @Property(tries = 40)
  void trueSpendAndGrantsNeverExceedTheBudget(
      @ForAll long seed,
      @ForAll @IntRange(min = 2, max = 5) int regions,
      @ForAll @IntRange(min = 2, max = 4) int boxesPerRegion,
      @ForAll @DoubleRange(min = 1.05, max = 3.0) double supply,
      @ForAll @IntRange(min = 30, max = 90) int minutes,
      @ForAll @IntRange(min = 2, max = 30) int reserveMinutes,
      @ForAll @IntRange(min = 0, max = 2) int degradation) {
    Scenario s = randomSchedule(seed, regions, boxesPerRegion, supply, minutes * 60L, reserveMinutes * 60L,
        degradation);
    Simulation sim = new Simulation(s);
    SimulationReport report = sim.run();
    for (Map.Entry<Long, Long> e : sim.spentByPeriod().entrySet()) {
      assertThat(e.getValue()).as("true spend in period %d of %s", e.getKey(), s.name)
          .isLessThanOrEqualTo(s.budgetMicros);
    }
    assertThat(sim.maxCommittedRatio()).as("sum of grants / budget").isLessThanOrEqualTo(1.0);
    assertThat(report.overspendPercent()).isZero();
  }

  private static Scenario randomSchedule(long seed, int regions, int boxesPerRegion, double supply, long seconds,
      long reserveSeconds, int degradation) {
    SplittableRandom r = new SplittableRandom(seed);
    Scenario s = Scenario.target().copy("random-" + seed);
    s.seed = seed;
    s.regions = regions;
    s.boxesPerRegion = boxesPerRegion;
    s.skew = Scenario.Skew.values()[r.nextInt(3)];
    s.supply = supply;
    s.periods = 1;
    s.periodSeconds = seconds;
    s.budgetMicros = 5_000_000_000L * seconds / 86_400;
    s.reserveHorizonSeconds = reserveSeconds;
    s.degradation = switch (degradation) {
      case 0 -> Degradation.LAST_RATE;
      case 1 -> Degradation.STOP;
      default -> new Degradation.SafeRate(1_000 + r.nextInt(100_000));
    };
    s.reportDelaySeconds = new int[] {1, 10, 60}[r.nextInt(3)];
    s.loss = r.nextDouble() * 0.05;
    s.duplication = r.nextDouble() * 0.05;
    s.clockSkewMillis = r.nextInt(2_001);
    long outageStart = r.nextLong(seconds);
    for (int i = r.nextInt(3); i > 0; i--) {
      long length = 30 + r.nextLong(1_800);
      s.events.add(new Scenario.Outage(outageStart, outageStart + length));
      outageStart += length + 60 + r.nextLong(900);
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      long from = r.nextLong(seconds);
      s.events.add(new Scenario.Partition(from, from + 60 + r.nextLong(1_800), r.nextInt(regions)));
    }
    if (r.nextBoolean()) {
      s.events.add(new Scenario.Crash(r.nextLong(seconds), 0, 0, 60 + r.nextLong(900)));
    }
    if (r.nextBoolean()) {
      s.events.add(new Scenario.Join(r.nextLong(seconds), regions - 1, 0.1 + 0.4 * r.nextDouble()));
    }
    if (r.nextBoolean()) {
      s.events.add(new Scenario.Leave(r.nextLong(seconds), 1, boxesPerRegion - 1));
    }
    return s;
  }
}
