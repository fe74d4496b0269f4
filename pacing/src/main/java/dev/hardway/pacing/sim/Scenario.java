package dev.hardway.pacing.sim;

import dev.hardway.pacing.Degradation;
import java.util.ArrayList;
import java.util.List;

/** One simulated setting: topology, traffic, faults and how the boxes are paced. Fault times are in seconds from the
 *  start of the measured (last) period. */
final class Scenario {
  enum Skew {
    /** Every box of a region gets the same share. */
    EVEN,
    /** One box per region gets 70 % of the region's connections. */
    SEVENTY,
    /** Boxes ranked (seeded shuffle) with weights 1/rank over all boxes. */
    ZIPF
  }

  enum Mode {
    /** The coordinator allocates; boxes degrade by the budget's policy. */
    COORDINATED,
    /** No coordinator: every box gets budget / boxes for the period, paced at twice the even rate. */
    FIXED_SPLIT,
    /** The coordinator allocates, but during an outage boxes bid on everything and spend without a lease. */
    FREE_DURING_OUTAGE
  }

  sealed interface Event permits Join, Leave, Crash, Partition, Outage, Edit {}

  /** A new box joins a region and takes {@code share} of its connections. */
  record Join(long at, int region, double share) implements Event {}

  /** A box leaves; its connections go to the region's other boxes. */
  record Leave(long at, int region, int box) implements Event {}

  /** A box dies just before its sync (its last seconds of spend unreported); it comes back under a new name. */
  record Crash(long at, int region, int box, long restartAfter) implements Event {}

  /** A region can neither report nor fetch allocations. */
  record Partition(long from, long to, int region) implements Event {}

  /** No coordinator from {@code from} to {@code to}; then one is restored from the last snapshot with a higher term. */
  record Outage(long from, long to) implements Event {}

  /** The budget's amount is edited to {@code fraction} of the original. */
  record Edit(long at, double fraction) implements Event {}

  String name = "target";
  long seed = 42;
  int regions = 5;
  int boxesPerRegion = 4;
  Skew skew = Skew.SEVENTY;
  double supply = 1.5;
  int periods = 2;
  long periodSeconds = 86_400;
  long budgetMicros = 5_000_000_000L;
  long meanPriceMicros = 2_000;
  Mode mode = Mode.COORDINATED;
  Degradation degradation = Degradation.LAST_RATE;
  long reserveHorizonSeconds = 7_200;
  List<Event> events = new ArrayList<>();
  int reportDelaySeconds = 1;
  double loss;
  double duplication;
  int clockSkewMillis;

  static Scenario target() {
    return new Scenario();
  }

  Scenario copy(String newName) {
    Scenario s = new Scenario();
    s.name = newName;
    s.seed = seed;
    s.regions = regions;
    s.boxesPerRegion = boxesPerRegion;
    s.skew = skew;
    s.supply = supply;
    s.periods = periods;
    s.periodSeconds = periodSeconds;
    s.budgetMicros = budgetMicros;
    s.meanPriceMicros = meanPriceMicros;
    s.mode = mode;
    s.degradation = degradation;
    s.reserveHorizonSeconds = reserveHorizonSeconds;
    s.events = new ArrayList<>(events);
    s.reportDelaySeconds = reportDelaySeconds;
    s.loss = loss;
    s.duplication = duplication;
    s.clockSkewMillis = clockSkewMillis;
    return s;
  }

  Scenario with(Event... more) {
    events.addAll(List.of(more));
    return this;
  }

  Scenario supply(double x) {
    this.supply = x;
    return this;
  }

  Scenario skew(Skew s) {
    this.skew = s;
    return this;
  }

  Scenario mode(Mode m) {
    this.mode = m;
    return this;
  }

  Scenario degradation(Degradation d) {
    this.degradation = d;
    return this;
  }

  Scenario delay(int seconds) {
    this.reportDelaySeconds = seconds;
    return this;
  }

  Scenario lossy(double lossShare, double duplicationShare) {
    this.loss = lossShare;
    this.duplication = duplicationShare;
    return this;
  }

  Scenario clockSkew(int millis) {
    this.clockSkewMillis = millis;
    return this;
  }
}
