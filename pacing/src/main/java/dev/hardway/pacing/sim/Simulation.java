package dev.hardway.pacing.sim;

import dev.hardway.pacing.Allocation;
import dev.hardway.pacing.BoxId;
import dev.hardway.pacing.Budget;
import dev.hardway.pacing.BudgetSpec;
import dev.hardway.pacing.BudgetStats;
import dev.hardway.pacing.Coordinator;
import dev.hardway.pacing.CoordinatorSnapshot;
import dev.hardway.pacing.Lease;
import dev.hardway.pacing.Pacer;
import dev.hardway.pacing.SpendReport;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;

/**
 * One run of one scenario: real {@link Pacer}s and a real {@link Coordinator} on a virtual clock advanced 1 s per
 * step. Each step delivers due reports, lets the coordinator allocate on its cadence, syncs the boxes whose turn it
 * is, ticks every pacer and plays each box's opportunities (Poisson, seeded) through {@code shouldBid} and
 * {@code trySpend}; the true spend is the sum of the successful spends.
 */
final class Simulation {
  static final String BUDGET = "campaign";
  static final Instant EPOCH = Instant.parse("2026-03-02T00:00:00Z");
  private static final String[] REGION_NAMES = {"us-west", "us-east", "eu-west", "eu-central", "ap-southeast",
      "sa-east", "af-south", "ap-south", "ap-northeast", "au-east"};
  private static final int[] REGION_OFFSETS = {-8, -5, 0, 1, 8, -3, 2, 5, 9, 10};
  private static final double[] REGION_WEIGHTS = {0.2, 0.3, 0.2, 0.15, 0.15, 0.1, 0.05, 0.1, 0.1, 0.05};
  private static final int SYNC_SECONDS = 10;
  private static final int COORDINATOR_PHASE = 5;
  private static final int SLOTS = 96;
  private static final long TAIL_SECONDS = 120;

  private final Scenario sc;
  private final SplittableRandom traffic;
  private final SplittableRandom network;
  private final SplittableRandom placement;
  private final long simStartMillis;
  private final long measuredStartMillis;
  private final long measuredEndMillis;
  private final long measuredPeriod;
  private final double[] regionTotal;
  private final double[] targetCumulative;
  private final double scale;
  private final List<SimBox> boxes = new ArrayList<>();
  private final PriorityQueue<Delivery> inFlight = new PriorityQueue<>();
  private final Map<Long, Long> spentByPeriod = new HashMap<>();
  private final Map<Long, Long> amountByPeriod = new HashMap<>();
  private final long[] slotSpend = new long[SLOTS];
  private final List<Scenario.Event> pending;
  private final Set<Integer> partitioned = new LinkedHashSet<>();
  private BudgetSpec spec;
  private long nowMillis;
  private long seq;
  private @Nullable Coordinator coordinator;
  private @Nullable CoordinatorSnapshot lastSnapshot;
  private long term = 1;
  private long storeTerm = -1;
  private @Nullable Allocation published;
  private boolean outage;
  private long measuredSpent;
  private double maxGap;
  private double maxCommitted;
  private long holdsBefore;
  private long holds;
  private double newBoxSeconds = -1;
  private double newBoxSecondsFromSync = -1;
  private int joined;

  Simulation(Scenario scenario) {
    this.sc = scenario;
    this.traffic = new SplittableRandom(sc.seed);
    this.network = new SplittableRandom(sc.seed * 31 + 7);
    this.placement = new SplittableRandom(sc.seed * 17 + 3);
    boolean daily = sc.periodSeconds == 86_400;
    // A short lifetime budget starts at 10:00 UTC, where traffic is neither at its peak nor its trough.
    this.simStartMillis = EPOCH.toEpochMilli() + (daily ? 0 : 10 * 3_600_000L);
    this.measuredStartMillis = simStartMillis + (sc.periods - 1) * sc.periodSeconds * 1000;
    this.measuredEndMillis = measuredStartMillis + sc.periodSeconds * 1000;
    this.spec = daily ? BudgetSpec.daily(BUDGET, sc.budgetMicros, ZoneOffset.UTC).withDegradation(sc.degradation)
        : BudgetSpec.lifetime(BUDGET, sc.budgetMicros, Instant.ofEpochMilli(simStartMillis),
            Instant.ofEpochMilli(simStartMillis + sc.periodSeconds * 1000)).withDegradation(sc.degradation);
    this.measuredPeriod = spec.period(Instant.ofEpochMilli(measuredStartMillis));
    this.regionTotal = new double[sc.regions];
    placeBoxes();
    this.targetCumulative = new double[(int) sc.periodSeconds + 1];
    for (int s = 0; s < sc.periodSeconds; s++) {
      targetCumulative[s + 1] = targetCumulative[s] + totalShape(measuredStartMillis + s * 1000L);
    }
    double integral = targetCumulative[(int) sc.periodSeconds];
    for (int s = 0; s <= sc.periodSeconds; s++) {
      targetCumulative[s] /= integral;
    }
    // Micros of demand per unit of weight x shape per second, so that the period's demand is supply x budget.
    this.scale = sc.supply * sc.budgetMicros / integral;
    this.pending = new ArrayList<>();
    for (Scenario.Event e : sc.events) {
      pending.add(e);
    }
  }

  private void placeBoxes() {
    int n = sc.regions * sc.boxesPerRegion;
    double[] zipf = new double[n];
    if (sc.skew == Scenario.Skew.ZIPF) {
      int[] rank = new int[n];
      for (int i = 0; i < n; i++) {
        rank[i] = i + 1;
      }
      for (int i = n - 1; i > 0; i--) {
        int j = placement.nextInt(i + 1);
        int t = rank[i];
        rank[i] = rank[j];
        rank[j] = t;
      }
      double sum = 0;
      for (int i = 0; i < n; i++) {
        zipf[i] = 1.0 / rank[i];
        sum += zipf[i];
      }
      for (int i = 0; i < n; i++) {
        zipf[i] /= sum;
      }
    }
    double regionSum = 0;
    for (int r = 0; r < sc.regions; r++) {
      regionSum += REGION_WEIGHTS[r];
    }
    for (int r = 0; r < sc.regions; r++) {
      for (int k = 0; k < sc.boxesPerRegion; k++) {
        double within = switch (sc.skew) {
          case EVEN -> 1.0 / sc.boxesPerRegion;
          case SEVENTY -> sc.boxesPerRegion == 1 ? 1.0 : k == 0 ? 0.7 : 0.3 / (sc.boxesPerRegion - 1);
          case ZIPF -> 0;
        };
        double w = sc.skew == Scenario.Skew.ZIPF ? zipf[r * sc.boxesPerRegion + k] : REGION_WEIGHTS[r] / regionSum
            * within;
        regionTotal[r] += w;
        boxes.add(newBox(r, "box-" + k, w));
      }
    }
  }

  private SimBox newBox(int region, String name, double weight) {
    long skew = sc.clockSkewMillis == 0 ? 0 : placement.nextLong(-sc.clockSkewMillis, sc.clockSkewMillis + 1L);
    BoxId id = new BoxId(REGION_NAMES[region], name);
    InstantSource clock = () -> Instant.ofEpochMilli(nowMillis + skew);
    Pacer pacer = Pacer.builder().box(id).clock(clock).backgroundTick(false).build();
    return new SimBox(id, region, weight, placement.nextInt(SYNC_SECONDS), pacer);
  }

  private Coordinator.Builder settings() {
    Set<String> regions = new LinkedHashSet<>(Arrays.asList(REGION_NAMES).subList(0, sc.regions));
    return Coordinator.builder().budgets(List.of(spec)).regions(regions)
        .reserveHorizon(Duration.ofSeconds(sc.reserveHorizonSeconds))
        .clock(() -> Instant.ofEpochMilli(nowMillis)).term(term);
  }

  SimulationReport run() {
    long wallStart = System.nanoTime();
    if (sc.mode != Scenario.Mode.FIXED_SPLIT) {
      coordinator = settings().build();
    }
    long endMillis = measuredEndMillis + TAIL_SECONDS * 1000;
    amountByPeriod.put(measuredPeriod, spec.amountMicros());
    long lastFixedPeriod = Long.MIN_VALUE;
    for (nowMillis = simStartMillis; nowMillis < endMillis; nowMillis += 1000) {
      long sec = (nowMillis - simStartMillis) / 1000;
      long rel = (nowMillis - measuredStartMillis) / 1000;
      applyEvents(rel);
      deliverReports(sec);
      if (sc.mode == Scenario.Mode.FIXED_SPLIT) {
        long p = spec.period(Instant.ofEpochMilli(nowMillis));
        if (p != lastFixedPeriod && nowMillis < measuredEndMillis) {
          lastFixedPeriod = p;
          publishFixedSplit(p);
        }
      } else if (sec % SYNC_SECONDS == COORDINATOR_PHASE) {
        coordinate();
      }
      for (int i = 0; i < boxes.size(); i++) {
        SimBox b = boxes.get(i);
        if (!b.alive) {
          continue;
        }
        if (sec % SYNC_SECONDS == b.phase) {
          sync(b);
        }
        b.pacer.tick();
        play(b);
      }
      trackNewBoxes(rel);
      if (TRACE && rel % TRACE_EVERY == 0) {
        trace(rel);
      }
      if (nowMillis >= measuredStartMillis && nowMillis <= measuredEndMillis && rel % 60 == 0) {
        double target = spec.amountMicros() * targetCumulative[(int) Math.min(rel, sc.periodSeconds)];
        maxGap = Math.max(maxGap, Math.abs(measuredSpent - target) / spec.amountMicros());
      }
    }
    long wall = (System.nanoTime() - wallStart) / 1_000_000;
    return report(wall);
  }

  private void applyEvents(long rel) {
    for (int i = 0; i < pending.size(); i++) {
      Scenario.Event e = pending.get(i);
      boolean done = switch (e) {
        case Scenario.Join j when j.at() == rel -> {
          join(j.region(), j.share(), "box-j" + (++joined), rel);
          yield true;
        }
        case Scenario.Leave l when l.at() == rel -> {
          SimBox gone = regionBox(l.region(), l.box());
          // A clean leave, as PacerSync.close() does it: leave, then one last, final report (which may be lost).
          gone.pacer.leave();
          sync(gone);
          leave(gone);
          yield true;
        }
        case Scenario.Crash c when c.at() <= rel -> {
          SimBox b = regionBox(c.region(), c.box());
          // Just before its sync: what it spent since its last report is never reported.
          if ((rel + measuredOffsetSeconds() + 1) % SYNC_SECONDS != b.phase) {
            yield false;
          }
          double share = b.weight / regionTotal[c.region()];
          leave(b);
          pending.add(new Scenario.Join(rel + c.restartAfter(), c.region(), share));
          yield true;
        }
        case Scenario.Partition p -> {
          if (rel == p.from()) {
            partitioned.add(p.region());
          }
          if (rel == p.to()) {
            partitioned.remove(p.region());
          }
          yield rel >= p.to();
        }
        case Scenario.Outage o -> {
          if (rel == o.from()) {
            outage = true;
            if (coordinator != null) {
              holdsBefore += coordinator.stats().holds();
            }
            coordinator = null;
          }
          if (rel == o.to()) {
            outage = false;
            term++;
            coordinator = lastSnapshot == null ? settings().build() : Coordinator.restore(lastSnapshot, settings());
          }
          yield rel >= o.to();
        }
        case Scenario.Edit ed when ed.at() == rel -> {
          spec = spec.withAmount(Math.round(sc.budgetMicros * ed.fraction()));
          amountByPeriod.put(measuredPeriod, spec.amountMicros());
          if (coordinator != null) {
            coordinator.putBudget(spec);
          }
          yield true;
        }
        default -> false;
      };
      if (done) {
        pending.remove(i--);
      }
    }
  }

  private long measuredOffsetSeconds() {
    return (measuredStartMillis - simStartMillis) / 1000;
  }

  private SimBox regionBox(int region, int index) {
    int k = 0;
    for (SimBox b : boxes) {
      if (b.region == region && b.alive && k++ == index) {
        return b;
      }
    }
    throw new IllegalStateException("no box " + index + " alive in region " + region);
  }

  private void join(int region, double share, String name, long rel) {
    for (SimBox b : boxes) {
      if (b.alive && b.region == region) {
        b.weight *= 1 - share;
      }
    }
    SimBox b = newBox(region, name, share * regionTotal[region]);
    b.joinedRel = rel;
    boxes.add(b);
  }

  private void leave(SimBox gone) {
    gone.alive = false;
    gone.pacer.close();
    double rest = 0;
    for (SimBox b : boxes) {
      if (b.alive && b.region == gone.region) {
        rest += b.weight;
      }
    }
    for (SimBox b : boxes) {
      if (b.alive && b.region == gone.region) {
        b.weight += gone.weight * (rest == 0 ? 0 : b.weight / rest);
      }
    }
  }

  private void deliverReports(long sec) {
    while (!inFlight.isEmpty() && inFlight.peek().atSecond <= sec) {
      Delivery d = inFlight.poll();
      if (coordinator != null) {
        coordinator.offer(d.report);
      }
    }
  }

  private void coordinate() {
    Coordinator c = coordinator;
    if (c == null) {
      return;
    }
    Allocation a = c.allocate();
    lastSnapshot = c.snapshot();
    holds = holdsBefore + c.stats().holds();
    Allocation.BudgetLeases bl = a.budgets().get(BUDGET);
    if (bl != null) {
      long sum = 0;
      for (Lease l : bl.leases().values()) {
        sum += l.grantedMicros();
      }
      long amount = amountByPeriod.getOrDefault(bl.period(), sc.budgetMicros);
      maxCommitted = Math.max(maxCommitted, sum / (double) amount);
    }
    publish(a);
  }

  /** The allocation store: a conditional write that refuses a lower term (the fence). */
  private void publish(Allocation a) {
    if (a.term() < storeTerm) {
      return;
    }
    storeTerm = a.term();
    published = a;
  }

  private void publishFixedSplit(long period) {
    long start = spec.periodStart(period).toEpochMilli();
    long end = spec.periodEnd(period).toEpochMilli();
    int n = sc.regions * sc.boxesPerRegion;
    long grant = sc.budgetMicros / n;
    long rate = Math.max(1, 2 * grant * 1000 / (end - start));
    long burst = Math.max(2 * rate, 4 * sc.meanPriceMicros);
    Map<BoxId, Lease> leases = new HashMap<>();
    for (SimBox b : boxes) {
      if (b.alive) {
        leases.put(b.id, new Lease(period + 1, grant, rate, burst, end, end));
      }
    }
    publish(new Allocation(1, period + 1, nowMillis,
        Map.of(BUDGET, new Allocation.BudgetLeases(period, end, spec.degradation(), leases))));
  }

  private void sync(SimBox b) {
    if (partitioned.contains(b.region)) {
      return;
    }
    Allocation a = published;
    if (a != null && !chance(sc.loss)) {
      b.pacer.apply(a);
      if (b.firstSyncRel == Long.MIN_VALUE) {
        b.firstSyncRel = (nowMillis - measuredStartMillis) / 1000;
      }
    }
    if (sc.mode == Scenario.Mode.FIXED_SPLIT) {
      return;
    }
    long sec = (nowMillis - simStartMillis) / 1000;
    for (SpendReport r : b.pacer.reports()) {
      if (chance(sc.loss)) {
        continue;
      }
      inFlight.add(new Delivery(sec + delay(), seq++, r));
      if (chance(sc.duplication)) {
        inFlight.add(new Delivery(sec + delay(), seq++, r));
      }
    }
  }

  private boolean chance(double p) {
    return p > 0 && network.nextDouble() < p;
  }

  private long delay() {
    int d = sc.reportDelaySeconds;
    return d <= 1 ? 1 : Math.max(1, Math.round(d * (0.5 + network.nextDouble())));
  }

  private void play(SimBox b) {
    double lambda = scale * regionShape(b.region, nowMillis) * b.weight / sc.meanPriceMicros;
    int n = poisson(lambda);
    if (n == 0) {
      return;
    }
    boolean free = outage && sc.mode == Scenario.Mode.FREE_DURING_OUTAGE;
    BudgetStats st = b.budget.stats();
    double p = st.bidProbability();
    long period = free ? spec.period(Instant.ofEpochMilli(nowMillis)) : st.period();
    Budget budget = b.budget;
    for (int i = 0; i < n; i++) {
      long price = Math.round(sc.meanPriceMicros * (0.5 + traffic.nextDouble()));
      if (free) {
        spent(period, price);
        continue;
      }
      // shouldBid counts the opportunity (the coordinator's traffic curve); the throttle itself is drawn from the
      // simulator's seeded generator at the same probability, so that runs repeat exactly.
      budget.shouldBid();
      if (traffic.nextDouble() < p && budget.trySpend(price)) {
        spent(period, price);
      }
    }
  }

  private void spent(long period, long micros) {
    spentByPeriod.merge(period, micros, Long::sum);
    if (period == measuredPeriod) {
      measuredSpent += micros;
      if (nowMillis >= measuredStartMillis && nowMillis < measuredEndMillis) {
        slotSpend[(int) ((nowMillis - measuredStartMillis) * SLOTS / (measuredEndMillis - measuredStartMillis))]
            += micros;
      }
    }
  }

  private void trackNewBoxes(long rel) {
    Allocation a = published;
    if (a == null) {
      return;
    }
    Allocation.BudgetLeases bl = a.budgets().get(BUDGET);
    if (bl == null) {
      return;
    }
    for (SimBox b : boxes) {
      if (!b.alive || b.joinedRel == Long.MIN_VALUE || b.reachedFair) {
        continue;
      }
      double totalRate = 0;
      double totalWeight = 0;
      for (SimBox o : boxes) {
        if (o.alive) {
          Lease l = bl.leases().get(o.id);
          totalRate += l == null ? 0 : l.rateMicrosPerSecond();
          totalWeight += o.weight * regionShape(o.region, nowMillis);
        }
      }
      // Its share of the traffic now (regions are at different times of their day), of the total planned rate.
      double fair = totalRate * b.weight * regionShape(b.region, nowMillis) / totalWeight;
      Allocation held = b.pacer.allocation();
      Allocation.BudgetLeases hb = held == null ? null : held.budgets().get(BUDGET);
      Lease own = hb == null ? null : hb.leases().get(b.id);
      long elapsed = rel - b.joinedRel;
      if (TRACE && elapsed % 5 == 0 && elapsed <= 120) {
        System.err.printf("new box %s +%ds own=%s fair=%.0f%n", b.id, elapsed, own, fair);
      }
      if (own != null && fair > 0 && own.rateMicrosPerSecond() >= 0.9 * fair) {
        b.reachedFair = true;
        newBoxSeconds = Math.max(newBoxSeconds, elapsed);
        newBoxSecondsFromSync = Math.max(newBoxSecondsFromSync, rel - b.firstSyncRel);
      } else if (elapsed > 600) {
        b.reachedFair = true;
        newBoxSeconds = Double.POSITIVE_INFINITY;
        newBoxSecondsFromSync = Double.POSITIVE_INFINITY;
      }
    }
  }

  private void trace(long rel) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(java.util.Locale.ROOT, "%6.1fh spent=%.4f target=%.4f", rel / 3600.0,
        measuredSpent / (double) spec.amountMicros(),
        rel >= 0 && rel <= sc.periodSeconds ? targetCumulative[(int) rel] : -1.0));
    Coordinator c = coordinator;
    if (c != null) {
      sb.append(' ').append(c.stats().budgets().get(BUDGET));
    }
    for (SimBox b : boxes) {
      if (b.alive) {
        BudgetStats st = b.budget.stats();
        sb.append(String.format(java.util.Locale.ROOT, "%n   %s w=%.3f %s p=%.3f spent=%d fed=%d granted=%d rate=%.0f",
            b.id, b.weight, st.mode(), st.bidProbability(), st.spentMicros(), st.fedMicros(), st.grantedMicros(),
            st.spendRateMicrosPerSecond()));
      }
    }
    System.err.println(sb);
  }

  private static final boolean TRACE = Boolean.getBoolean("pacing.sim.trace");
  private static final long TRACE_EVERY = Long.getLong("pacing.sim.traceEvery", 3_600);

  private SimulationReport report(long wallMillis) {
    long amount = amountByPeriod.get(measuredPeriod);
    double overspend = 0;
    for (Map.Entry<Long, Long> e : spentByPeriod.entrySet()) {
      long a = amountByPeriod.getOrDefault(e.getKey(), sc.budgetMicros);
      overspend = Math.max(overspend, (e.getValue() - a) / (double) a);
    }
    double slotTarget = 0;
    double sq = 0;
    for (int k = 0; k < SLOTS; k++) {
      int from = (int) (k * sc.periodSeconds / SLOTS);
      int to = (int) ((k + 1) * sc.periodSeconds / SLOTS);
      double target = sc.budgetMicros * (targetCumulative[to] - targetCumulative[from]);
      slotTarget += target / SLOTS;
      sq += (slotSpend[k] - target) * (slotSpend[k] - target);
    }
    double rmse = Math.sqrt(sq / SLOTS) / slotTarget;
    Coordinator c = coordinator;
    long h = c == null ? holds : holdsBefore + c.stats().holds();
    return new SimulationReport(sc.name, 100.0 * measuredSpent / amount, 100.0 * overspend, 100.0 * maxGap,
        100.0 * rmse, newBoxSeconds, newBoxSecondsFromSync, 100.0 * maxCommitted, h, wallMillis);
  }

  /** True spend per period number, for the property tests. */
  Map<Long, Long> spentByPeriod() {
    return Map.copyOf(spentByPeriod);
  }

  /** The largest sum of grants in any allocation, as a fraction of the amount. */
  double maxCommittedRatio() {
    return maxCommitted;
  }

  private double totalShape(long millis) {
    double s = 0;
    for (int r = 0; r < sc.regions; r++) {
      s += regionTotal[r] * regionShape(r, millis);
    }
    return s;
  }

  /** A region's traffic at a time: lowest at 08:00 local (0.3), highest at 20:00 (1.0). */
  private static double regionShape(int region, long millis) {
    double hour = Math.floorMod(millis, 86_400_000L) / 3_600_000.0 + REGION_OFFSETS[region];
    return 0.65 + 0.35 * Math.cos(2 * Math.PI * (hour - 20) / 24);
  }

  private int poisson(double lambda) {
    if (lambda <= 0) {
      return 0;
    }
    if (lambda > 30) {
      return (int) Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian()));
    }
    double limit = Math.exp(-lambda);
    double p = traffic.nextDouble();
    int k = 0;
    while (p > limit) {
      p *= traffic.nextDouble();
      k++;
    }
    return k;
  }

  private double gaussian() {
    double u = 1 - traffic.nextDouble();
    double v = traffic.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  private record Delivery(long atSecond, long seq, SpendReport report) implements Comparable<Delivery> {
    @Override
    public int compareTo(Delivery o) {
      int c = Long.compare(atSecond, o.atSecond);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private static final class SimBox {
    final BoxId id;
    final int region;
    final int phase;
    final Pacer pacer;
    final Budget budget;
    double weight;
    boolean alive = true;
    long joinedRel = Long.MIN_VALUE;
    long firstSyncRel = Long.MIN_VALUE;
    boolean reachedFair;

    SimBox(BoxId id, int region, double weight, int phase, Pacer pacer) {
      this.id = id;
      this.region = region;
      this.weight = weight;
      this.phase = phase;
      this.pacer = pacer;
      this.budget = pacer.budget(BUDGET);
    }
  }
}
