package dev.hardway.pacing;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The banker: merges the boxes' cumulative {@link SpendReport}s and allocates each budget's remainder as escrow
 * {@link Lease}s. Pure logic with an injected clock and no I/O: a transport feeds it reports with
 * {@link #offer(SpendReport)}, calls {@link #allocate()} every sync interval, stores {@link #snapshot()} and publishes
 * the allocation.
 *
 * <pre>{@code
 * Coordinator banker = Coordinator.builder()
 *     .budgets(List.of(BudgetSpec.daily("campaign-42", 1_000_000_000L, ZoneId.of("America/New_York"))))
 *     .regions(Set.of("us-east", "us-west", "eu-west", "eu-central", "ap-southeast"))
 *     .term(leadershipTerm)                       // the fencing token claimed in the store
 *     .build();
 * reports.forEach(banker::offer);                 // every 10 s
 * Allocation allocation = banker.allocate();
 * store.putSnapshot(banker.snapshot());           // first: write-ahead
 * store.publishIfTermNotLower(allocation);        // then publish, fenced by term
 * }</pre>
 *
 * <h2>Accounting: why the budget is never overspent</h2>
 *
 * Per budget and period the coordinator keeps, for every box i: its cumulative grant G<sub>i</sub>, the leases it
 * issued that the box may still hold (every epoch at or above the one the box last reported), the merge of its reports
 * (maximum per field, so loss, duplication and reordering are harmless), and when it last heard from the box on its
 * own clock.
 * <ol>
 *   <li>A box never makes spendable more than its lease's grant ({@link Pacer}), and the lease carries G<sub>i</sub>.
 *   <li>Committed = &Sigma; G<sub>i</sub>. An allocation raises grants by at most the uncommitted amount (budget
 *       amount - committed, floored at 0), so committed never exceeds the amount by the coordinator's doing. Hence
 *       the true spend, &Sigma; spent<sub>i</sub> &le; &Sigma; fed<sub>i</sub> &le; &Sigma; G<sub>i</sub> &le; amount.
 *   <li>G<sub>i</sub> never goes down while the box may still feed. It is lowered only for a <em>silent</em> box (no
 *       newer report within the quorum window) once the latest stop time of the leases it may hold, plus
 *       {@code maxClockSkew}, has passed: by then it feeds nothing, and what it fed is at most
 *       {@code min(G, report.netFed + maxRate x (stopAt - report.sentAt + skew) + maxBurst)}, with the maximum over
 *       those leases. G<sub>i</sub> is set to that bound and the rest is free again. A box that reports again keeps its
 *       (possibly lowered) G<sub>i</sub> and resumes.
 *   <li>Fencing: {@link Allocation#term()} is the coordinator's term, and lease epochs start at {@code term << 32}, so
 *       a restored coordinator's leases supersede the deposed one's in every box. The store must reject a
 *       publication of a lower term, the new coordinator must claim its term there before it reads the snapshot, and
 *       each snapshot must be stored before its allocation is published: then no box can hold a grant the restored
 *       coordinator does not know. A report showing more fed than G<sub>i</sub> (which only a broken store can cause)
 *       raises G<sub>i</sub> to the truth.
 * </ol>
 *
 * <h2>Allocation</h2>
 *
 * <ul>
 *   <li><b>Target curve.</b> The share of the period's opportunities per slot ({@value #SLOTS} equal slots), learned
 *       from the reports of previous periods of a daily budget (half the old curve, half the last period's); uniform
 *       until one whole period was seen, or as configured with {@link Builder#trafficCurve(List)}.
 *   <li><b>Total rate</b> {@code R = (amount x curve(t + h) - netSpent) / h}, floored at 0, with the plan horizon
 *       h = 30 sync intervals (5 min at 10 s), cut at the period's end (so the last minutes spend what is left).
 *   <li><b>Per box</b>: R is shared in proportion to each live box's predicted demand (moving average of wanted micros
 *       per second over 3 sync intervals), capped at that demand, the leftover re-shared among the uncapped boxes
 *       (water-filling). Every live box also gets at least 1 % of an even share of what was allocated, so that a box
 *       whose demand dropped to zero keeps bidding a little and its demand stays measurable. A box's first report seeds its demand with what
 *       it wanted over one sync interval (capped at the largest known box's demand), so a new box gets its share at
 *       the next allocation.
 *   <li><b>Grants</b> aim at {@code netFed + rate x (stopAt - now)}: what the box holds while it can feed without news.
 *       When the raises exceed the uncommitted amount they are scaled down in proportion.
 *   <li><b>Leases</b>: {@code freshUntil = now + leaseFreshFor}; {@code stopAt = freshUntil + reserve}, the
 *       time the grant was sized for (with {@link Degradation#STOP}, {@code stopAt = freshUntil}: the box stops then
 *       anyway, and a shorter stop lets a silent box's money be reclaimed sooner); both cut at the period's end;
 *       {@code burst = max(2 s of rate, 4 x the mean wanted micros per opportunity)}. The reserve is
 *       {@code reserveHorizon}, but at most a twelfth of the period (2 h of a day): with a longer one the first boxes to
 *       report of a short lifetime budget would take all of it as their frozen shares.
 *   <li><b>Quorum missing</b> (fewer than {@code quorum} expected regions heard within the quorum window): hold. No grant
 *       rises, no rate changes; boxes heard from recently get their lease renewed (fresh again, same grant and rate);
 *       silent boxes' money is still reclaimed when its time comes.
 *   <li><b>Edits</b> ({@link #putBudget}) apply at the next allocation. Raising the amount frees more to grant. Lowering
 *       it below the committed amount grants nothing more, and the plan's rate drops to what the new amount allows (to 0
 *       once the net spend reaches it, which makes the boxes stop and give back what they hold spendable). Money already
 *       granted can still be spent where a box loses the coordinator and keeps its last rate, so the period's spend is at
 *       most the larger of the new amount and what was committed when it was edited. Changing a budget's time zone or
 *       window starts a new period when the new period number is higher.
 * </ul>
 *
 * <p>A box's lease is renewed (a new epoch) at every allocation while it is live; a box that restarts must report
 * under a new {@link BoxId} (its counters restart from zero, and the coordinator merges reports by maximum).
 *
 * <p>Thread-safe: every method is synchronized. It is not a hot path.
 */
public final class Coordinator {
  /** Slots per period in the traffic curve. */
  public static final int SLOTS = 96;
  private static final int PLAN_HORIZON_SYNCS = 30;
  private static final double PROBE_SHARE = 0.01;
  private static final int LEASES_KEPT = 32;
  private static final long TERM_LIMIT = 1L << 31;

  private final Set<String> regions;
  private final int quorum;
  private final long syncMillis;
  private final long quorumWindowMillis;
  private final long freshMillis;
  private final long reserveMillis;
  private final long skewMillis;
  private final InstantSource clock;
  private final long term;
  private final double @Nullable [] configuredCurve;
  private final TreeMap<String, BudgetSpec> specs = new TreeMap<>();
  private final TreeMap<String, Book> books = new TreeMap<>();
  private long version;
  private long holds;
  private long reportsIgnored;

  private Coordinator(Builder b) {
    this.regions = Set.copyOf(b.regions);
    this.syncMillis = b.syncInterval.toMillis();
    this.quorum = b.quorum > 0 ? b.quorum : regions.size() / 2 + 1;
    this.quorumWindowMillis = b.quorumWindow != null ? b.quorumWindow.toMillis() : 3 * syncMillis;
    this.freshMillis = b.leaseFreshFor != null ? b.leaseFreshFor.toMillis() : 3 * syncMillis;
    this.reserveMillis = b.reserveHorizon.toMillis();
    this.skewMillis = b.maxClockSkew.toMillis();
    this.clock = b.clock;
    this.term = b.term;
    this.configuredCurve = b.curve == null ? null : cumulative(b.curve);
    for (BudgetSpec s : b.budgets) {
      specs.put(s.id(), s);
    }
  }

  /**
   * Starts a coordinator.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A coordinator that resumes from a snapshot with a higher term: the same grants, leases, reports, demand and
   * learned curves. The budgets of the snapshot are restored, then those given to {@code settings} are applied on top
   * as with {@link #putBudget(BudgetSpec)}.
   *
   * @param snapshot the last snapshot stored
   * @param settings the new coordinator's settings, with its term
   * @return the coordinator
   * @throws IllegalStateException when the settings' term is not above the snapshot's, or their settings are invalid
   * @throws IllegalArgumentException when the snapshot is malformed
   */
  public static Coordinator restore(CoordinatorSnapshot snapshot, Builder settings) {
    if (settings.term <= snapshot.term()) {
      throw new IllegalStateException("a restored coordinator needs a term above the snapshot's " + snapshot.term()
          + ", got " + settings.term);
    }
    Coordinator c = settings.build();
    c.specs.clear();
    for (BudgetSpec s : snapshot.budgets()) {
      c.specs.put(s.id(), s);
    }
    snapshot.learnedCurves().forEach((id, shares) -> {
      double[] d = new double[SLOTS];
      if (shares.size() != SLOTS) {
        throw new IllegalArgumentException("learned curve of " + id + " must have " + SLOTS + " slots, got "
            + shares.size());
      }
      for (int i = 0; i < SLOTS; i++) {
        d[i] = shares.get(i);
      }
      c.books.computeIfAbsent(id, k -> new Book()).learned = d;
    });
    for (CoordinatorSnapshot.Period p : snapshot.periods()) {
      Book book = c.books.computeIfAbsent(p.budgetId(), k -> new Book());
      PeriodBook pb = new PeriodBook(p.period(), p.startMillis(), p.endMillis());
      pb.reclaimedMicros = p.reclaimedMicros();
      for (int i = 0; i < Math.min(SLOTS, p.slotOpportunities().size()); i++) {
        pb.slotOpportunities[i] = p.slotOpportunities().get(i);
      }
      for (CoordinatorSnapshot.Box bx : p.boxes()) {
        BoxBook bb = new BoxBook();
        bb.granted = bx.grantedMicros();
        bb.report = bx.report();
        bb.heardAtMillis = bx.heardAtMillis();
        bb.demand = bx.demandMicrosPerSecond();
        bb.opportunityRate = bx.opportunitiesPerSecond();
        bb.leases.addAll(bx.leases());
        pb.boxes.put(bx.box(), bb);
      }
      if (book.current == null || pb.period > book.current.period) {
        book.previous = book.current;
        book.current = pb;
      } else {
        book.previous = pb;
      }
    }
    for (BudgetSpec s : settings.budgets) {
      c.specs.put(s.id(), s);
    }
    return c;
  }

  /**
   * Takes a report: merges it into the box's account (maximum per field) and, when it is newer than what the
   * coordinator had, records the coordinator's clock as the last time it heard from the box and updates the box's
   * demand. Reports of budgets or periods the coordinator does not hold are counted and ignored.
   *
   * @param report a box's cumulative report
   */
  public synchronized void offer(SpendReport report) {
    Book book = books.get(report.budgetId());
    PeriodBook pb = book == null ? null : book.forPeriod(report.period());
    if (pb == null) {
      reportsIgnored++;
      return;
    }
    long now = clock.millis();
    BoxBook bb = pb.boxes.computeIfAbsent(report.box(), k -> new BoxBook());
    SpendReport prev = bb.report;
    SpendReport merged = prev == null ? report : prev.merge(report);
    bb.report = merged;
    if (prev == null || report.sentAtMillis() > prev.sentAtMillis()) {
      bb.heardAtMillis = now;
      updateDemand(pb, bb, prev, merged);
    }
    if (merged.netFedMicros() > bb.granted) {
      bb.granted = merged.netFedMicros();
    }
    if (merged.leaving()) {
      // The box took back what it held and feeds nothing more: what it fed is final, and the rest of its grant
      // returns to the pool now. It gets no more leases.
      long fin = merged.netFedMicros();
      if (fin < bb.granted) {
        pb.reclaimedMicros += bb.granted - fin;
        bb.granted = fin;
      }
      bb.leases.clear();
      return;
    }
    bb.leases.removeIf(l -> l.epoch() < merged.leaseEpoch());
  }

  private void updateDemand(PeriodBook pb, BoxBook bb, @Nullable SpendReport prev, SpendReport merged) {
    if (prev == null) {
      if (merged.leaseEpoch() == 0 && bb.demand < 0) {
        // It has counted since it first saw the period, about one sync ago: its first estimate, so that it gets its
        // share at the next allocation rather than two later. Capped: a box that waited longer must not take it all.
        double seed = merged.wantedMicros() * 1000.0 / syncMillis;
        double largest = 0;
        for (BoxBook other : pb.boxes.values()) {
          largest = Math.max(largest, other.demand);
        }
        bb.demand = largest > 0 ? Math.min(seed, largest) : seed;
        bb.opportunityRate = merged.opportunities() * 1000.0 / syncMillis;
      }
      return;
    }
    long dt = merged.sentAtMillis() - prev.sentAtMillis();
    if (dt <= 0) {
      return;
    }
    double wanted = Math.max(0, merged.wantedMicros() - prev.wantedMicros()) * 1000.0 / dt;
    double opportunities = Math.max(0, merged.opportunities() - prev.opportunities()) * 1000.0 / dt;
    double alpha = 1 - Math.exp(-dt / (3.0 * syncMillis));
    // A box told to spend at rate 0 does not bid, so its wanted micros say nothing about its demand: keep the last
    // estimate, or it decays to zero and the box never gets a rate again when the plan turns positive.
    boolean stopped = !bb.leases.isEmpty() && bb.lease().rateMicrosPerSecond() == 0;
    if (!stopped || bb.demand < 0) {
      bb.demand = bb.demand < 0 ? wanted : bb.demand + alpha * (wanted - bb.demand);
    }
    bb.opportunityRate = bb.opportunityRate < 0 ? opportunities
        : bb.opportunityRate + alpha * (opportunities - bb.opportunityRate);
  }

  /**
   * Adds a budget or replaces its spec; it takes effect at the next {@link #allocate()}.
   *
   * @param spec the budget as edited
   */
  public synchronized void putBudget(BudgetSpec spec) {
    specs.put(spec.id(), Objects.requireNonNull(spec, "spec"));
  }

  /**
   * Computes the next allocation at the clock's time: reclaims what silent boxes can no longer spend, then, with
   * quorum, plans each budget's rate and raises grants within the uncommitted amount; without quorum, holds.
   *
   * @return the allocation to publish, of this coordinator's term and the next version
   */
  public synchronized Allocation allocate() {
    long now = clock.millis();
    Set<String> fresh = freshRegions(now);
    boolean ok = fresh.size() >= quorum;
    if (!ok) {
      holds++;
    }
    version++;
    Map<String, Allocation.BudgetLeases> out = new HashMap<>();
    for (BudgetSpec spec : specs.values()) {
      Book book = books.computeIfAbsent(spec.id(), k -> new Book());
      PeriodBook pb = roll(book, spec, now);
      recordTraffic(pb, now);
      reclaimSilent(pb, now);
      if (ok) {
        plan(spec, book, pb, now);
      } else {
        hold(spec, pb, now);
      }
      Map<BoxId, Lease> leases = new HashMap<>();
      pb.boxes.forEach((id, bb) -> {
        if (!bb.leases.isEmpty()) {
          leases.put(id, bb.lease());
        }
      });
      out.put(spec.id(), new Allocation.BudgetLeases(pb.period, pb.endMillis, spec.degradation(), leases));
    }
    return new Allocation(term, version, now, out);
  }

  private PeriodBook roll(Book book, BudgetSpec spec, long now) {
    long p = spec.period(Instant.ofEpochMilli(now));
    PeriodBook cur = book.current;
    if (cur != null && p <= cur.period) {
      return cur;
    }
    PeriodBook next = new PeriodBook(p, millis(spec.periodStart(p)), millis(spec.periodEnd(p)));
    if (cur != null) {
      if (spec.zone() != null) {
        learn(book, cur);
      }
      // Boxes live at the turn of the period get a lease for the new one at once, with the demand they had.
      cur.boxes.forEach((id, bb) -> {
        if (live(bb, now)) {
          BoxBook nb = new BoxBook();
          nb.heardAtMillis = bb.heardAtMillis;
          nb.demand = bb.demand;
          nb.opportunityRate = bb.opportunityRate;
          next.boxes.put(id, nb);
        }
      });
    }
    book.previous = cur;
    book.current = next;
    return next;
  }

  private static void recordTraffic(PeriodBook pb, long now) {
    if (now < pb.startMillis || now >= pb.endMillis) {
      return;
    }
    int slot = (int) Math.min(SLOTS - 1, (now - pb.startMillis) * SLOTS / (pb.endMillis - pb.startMillis));
    long total = 0;
    for (BoxBook bb : pb.boxes.values()) {
      if (bb.report != null) {
        total += bb.report.opportunities();
      }
    }
    pb.slotOpportunities[slot] = Math.max(pb.slotOpportunities[slot], total);
  }

  /** Learns the period's traffic curve when the coordinator saw its first and last slots and most in between. */
  private static void learn(Book book, PeriodBook pb) {
    long[] cum = pb.slotOpportunities;
    int known = 0;
    for (long v : cum) {
      known += v >= 0 ? 1 : 0;
    }
    if (cum[0] < 0 || cum[SLOTS - 1] <= 0 || known < SLOTS * 3 / 4) {
      return;
    }
    double[] filled = new double[SLOTS];
    int last = 0;
    filled[0] = cum[0];
    for (int i = 1; i < SLOTS; i++) {
      if (cum[i] < 0) {
        continue;
      }
      filled[i] = Math.max(cum[i], filled[last]);
      for (int j = last + 1; j < i; j++) {
        filled[j] = filled[last] + (filled[i] - filled[last]) * (j - last) / (i - last);
      }
      last = i;
    }
    double total = filled[SLOTS - 1];
    double[] shares = new double[SLOTS];
    for (int i = 0; i < SLOTS; i++) {
      shares[i] = (filled[i] - (i == 0 ? 0 : filled[i - 1])) / total;
    }
    double[] old = book.learned;
    if (old != null) {
      for (int i = 0; i < SLOTS; i++) {
        shares[i] = 0.5 * old[i] + 0.5 * shares[i];
      }
    }
    book.learned = shares;
  }

  private void reclaimSilent(PeriodBook pb, long now) {
    for (BoxBook bb : pb.boxes.values()) {
      if (bb.leases.isEmpty() || live(bb, now)) {
        continue;
      }
      long stop = pb.endMillis;
      long latest = Long.MIN_VALUE;
      for (Lease l : bb.leases) {
        latest = Math.max(latest, l.stopAtMillis());
      }
      stop = Math.min(stop, latest);
      if (now <= stop + skewMillis) {
        continue;
      }
      long bound = feedBound(pb, bb, stop);
      if (bound < bb.granted) {
        pb.reclaimedMicros += bb.granted - bound;
        bb.granted = bound;
        Lease l = bb.lease();
        bb.issue(new Lease(nextEpoch(bb), bound, l.rateMicrosPerSecond(), l.burstMicros(), l.freshUntilMillis(),
            l.stopAtMillis()));
      }
    }
  }

  /** The most a box can have made spendable, net, if it fed at its leases' highest rate from its last report on. */
  private long feedBound(PeriodBook pb, BoxBook bb, long stop) {
    SpendReport r = bb.report;
    long base = r == null ? 0 : r.netFedMicros();
    long from = r == null ? pb.startMillis : r.sentAtMillis();
    long maxRate = 0;
    long maxBurst = 0;
    for (Lease l : bb.leases) {
      maxRate = Math.max(maxRate, l.rateMicrosPerSecond());
      maxBurst = Math.max(maxBurst, l.burstMicros());
    }
    double fed = base + maxRate * (Math.max(0, stop - from + skewMillis) / 1000.0) + maxBurst;
    return fed >= bb.granted ? bb.granted : (long) Math.ceil(fed);
  }

  private void plan(BudgetSpec spec, Book book, PeriodBook pb, long now) {
    long amount = spec.amountMicros();
    long spent = 0;
    long committed = 0;
    for (BoxBook bb : pb.boxes.values()) {
      spent += bb.report == null ? 0 : bb.report.netSpentMicros();
      committed += bb.granted;
    }
    double total = 0;
    long h = Math.max(1, Math.min(PLAN_HORIZON_SYNCS * syncMillis, pb.endMillis - now));
    if (now >= pb.startMillis && now < pb.endMillis) {
      double target = amount * curve(book).at(fraction(pb, now + h));
      total = Math.max(0, (target - spent) / (h / 1000.0));
    }
    pb.plannedRate = total;
    List<BoxBook> live = new ArrayList<>();
    for (BoxBook bb : pb.boxes.values()) {
      if (live(bb, now)) {
        live.add(bb);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    long uncommitted = Math.max(0, amount - committed);
    double[] usable = new double[live.size()];
    double[] headroom = new double[live.size()];
    for (int i = 0; i < live.size(); i++) {
      // A box cannot spend faster than its unfed grant (plus all that is still uncommitted) lasts over the horizon:
      // rate beyond that is wasted on it and goes to the others instead.
      BoxBook bb = live.get(i);
      long netFed = bb.report == null ? 0 : bb.report.netFedMicros();
      headroom[i] = Math.max(0, bb.granted - netFed);
      usable[i] = (headroom[i] + (double) uncommitted) / (h / 1000.0);
    }
    // Once everything is committed, grants no longer move: share by unfed grant, so that every box spends its own
    // along the curve and none runs dry early while another is left holding money it lacks the demand to spend.
    double[] rates = share(live, total, usable, uncommitted == 0 ? headroom : null);
    double wantedPerOpportunity = 0;
    double demandSum = 0;
    double opportunitySum = 0;
    for (BoxBook bb : live) {
      demandSum += Math.max(0, bb.demand);
      opportunitySum += Math.max(0, bb.opportunityRate);
    }
    if (opportunitySum > 0) {
      wantedPerOpportunity = demandSum / opportunitySum;
    }
    long burstFloor = Math.max(1, (long) Math.ceil(4 * wantedPerOpportunity));
    long freshUntil = Math.max(now, Math.min(now + freshMillis, pb.endMillis));
    long stopAt = spec.degradation() instanceof Degradation.Stop ? freshUntil
        : Math.min(saturatedAdd(freshUntil, reserve(pb)), pb.endMillis);
    stopAt = Math.max(stopAt, freshUntil);
    double holdSeconds = Math.max(0, stopAt - now) / 1000.0;
    long[] raises = new long[live.size()];
    long raiseSum = 0;
    for (int i = 0; i < live.size(); i++) {
      BoxBook bb = live.get(i);
      long netFed = bb.report == null ? 0 : bb.report.netFedMicros();
      double aim = netFed + rates[i] * holdSeconds;
      raises[i] = (long) Math.max(0, Math.min(Long.MAX_VALUE / 4, Math.ceil(aim)) - bb.granted);
      raiseSum = saturatedAdd(raiseSum, raises[i]);
    }
    double scale = raiseSum <= uncommitted ? 1.0 : uncommitted / (double) raiseSum;
    long given = 0;
    for (int i = 0; i < live.size(); i++) {
      BoxBook bb = live.get(i);
      long raise = Math.min((long) Math.floor(raises[i] * scale), uncommitted - given);
      given += raise;
      bb.granted += raise;
      long rate = Math.round(rates[i]);
      long burst = Math.max(2 * rate, burstFloor);
      bb.issue(new Lease(nextEpoch(bb), bb.granted, rate, burst, freshUntil, stopAt));
    }
  }

  /**
   * Water-filling: the total in proportion to demand (or to the given weights), each box capped at its demand and at
   * what its grant lets it spend, the leftover re-shared among the others; then the probe.
   */
  private static double[] share(List<BoxBook> live, double total, double[] usable, double @Nullable [] weights) {
    int n = live.size();
    double[] weight = new double[n];
    double[] cap = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      double demand = Math.max(0, live.get(i).demand);
      weight[i] = weights == null ? demand : Math.min(weights[i], demand > 0 ? weights[i] : 0);
      cap[i] = Math.min(demand, usable[i]);
      sum += weight[i];
    }
    if (sum == 0) {
      // No demand measured anywhere (a budget just raised from zero, the first minutes): by opportunities.
      for (int i = 0; i < n; i++) {
        weight[i] = Math.max(0, live.get(i).opportunityRate);
        cap[i] = usable[i];
        sum += weight[i];
      }
      if (sum == 0) {
        Arrays.fill(weight, 1.0);
      }
    }
    double[] rate = new double[n];
    boolean[] capped = new boolean[n];
    double left = total;
    while (left > 1e-9) {
      double w = 0;
      for (int i = 0; i < n; i++) {
        w += capped[i] ? 0 : weight[i];
      }
      if (w == 0) {
        break;
      }
      double lambda = left / w;
      boolean anyCapped = false;
      for (int i = 0; i < n; i++) {
        if (!capped[i] && rate[i] + lambda * weight[i] >= cap[i]) {
          left -= cap[i] - rate[i];
          rate[i] = cap[i];
          capped[i] = true;
          anyCapped = true;
        }
      }
      if (!anyCapped) {
        for (int i = 0; i < n; i++) {
          if (!capped[i]) {
            rate[i] += lambda * weight[i];
          }
        }
        left = 0;
      }
    }
    double allocated = 0;
    for (double r : rate) {
      allocated += r;
    }
    double probe = (allocated > 0 ? allocated : total) * PROBE_SHARE / n;
    for (int i = 0; i < n; i++) {
      rate[i] = Math.max(rate[i], probe);
    }
    return rate;
  }

  private void hold(BudgetSpec spec, PeriodBook pb, long now) {
    long freshUntil = Math.max(now, Math.min(now + freshMillis, pb.endMillis));
    long stopAt = spec.degradation() instanceof Degradation.Stop ? freshUntil
        : Math.max(freshUntil, Math.min(saturatedAdd(freshUntil, reserve(pb)), pb.endMillis));
    for (BoxBook bb : pb.boxes.values()) {
      if (bb.leases.isEmpty() || !live(bb, now)) {
        continue;
      }
      Lease l = bb.lease();
      bb.issue(new Lease(nextEpoch(bb), bb.granted, l.rateMicrosPerSecond(), l.burstMicros(), freshUntil, stopAt));
    }
  }

  /** The frozen-share horizon for a period: the configured one, but at most a twelfth of the period. */
  private long reserve(PeriodBook pb) {
    return Math.min(reserveMillis, Math.max(0, pb.endMillis - pb.startMillis) / 12);
  }

  private long nextEpoch(BoxBook bb) {
    long last = bb.leases.isEmpty() ? 0 : bb.lease().epoch();
    return Math.max(last + 1, term << 32);
  }

  private boolean live(BoxBook bb, long now) {
    return bb.heardAtMillis >= 0 && now - bb.heardAtMillis <= quorumWindowMillis
        && (bb.report == null || !bb.report.leaving());
  }

  private Set<String> freshRegions(long now) {
    TreeSet<String> fresh = new TreeSet<>();
    for (Book book : books.values()) {
      for (PeriodBook pb : new PeriodBook[] {book.current, book.previous}) {
        if (pb == null) {
          continue;
        }
        pb.boxes.forEach((id, bb) -> {
          if (live(bb, now) && regions.contains(id.region())) {
            fresh.add(id.region());
          }
        });
      }
    }
    return fresh;
  }

  private Curve curve(Book book) {
    if (configuredCurve != null) {
      return new Curve(configuredCurve);
    }
    return book.learned != null ? new Curve(cumulative(book.learned)) : Curve.UNIFORM;
  }

  private static double fraction(PeriodBook pb, long t) {
    if (t <= pb.startMillis) {
      return 0;
    }
    if (t >= pb.endMillis) {
      return 1;
    }
    return (t - pb.startMillis) / (double) (pb.endMillis - pb.startMillis);
  }

  /**
   * A snapshot of everything needed to resume: store it before publishing the allocation just made.
   *
   * @return the snapshot
   */
  public synchronized CoordinatorSnapshot snapshot() {
    List<CoordinatorSnapshot.Period> periods = new ArrayList<>();
    Map<String, List<Double>> curves = new TreeMap<>();
    books.forEach((id, book) -> {
      if (book.learned != null) {
        List<Double> l = new ArrayList<>(SLOTS);
        for (double d : book.learned) {
          l.add(d);
        }
        curves.put(id, l);
      }
      for (PeriodBook pb : new PeriodBook[] {book.previous, book.current}) {
        if (pb == null) {
          continue;
        }
        List<Long> slots = new ArrayList<>(SLOTS);
        for (long v : pb.slotOpportunities) {
          slots.add(v);
        }
        List<CoordinatorSnapshot.Box> boxes = new ArrayList<>();
        pb.boxes.forEach((box, bb) -> boxes.add(new CoordinatorSnapshot.Box(box, bb.granted, bb.report,
            bb.heardAtMillis, bb.demand, bb.opportunityRate, bb.leases)));
        periods.add(new CoordinatorSnapshot.Period(id, pb.period, pb.startMillis, pb.endMillis, slots,
            pb.reclaimedMicros, boxes));
      }
    });
    return new CoordinatorSnapshot(term, version, clock.millis(), List.copyOf(specs.values()), periods, curves);
  }

  /**
   * An immutable snapshot of the coordinator's state.
   *
   * @return the stats
   */
  public synchronized CoordinatorStats stats() {
    long now = clock.millis();
    Set<String> fresh = freshRegions(now);
    Map<String, CoordinatorStats.BudgetStatus> budgets = new TreeMap<>();
    TreeSet<BoxId> known = new TreeSet<>();
    specs.forEach((id, spec) -> {
      Book book = books.get(id);
      PeriodBook pb = book == null ? null : book.current;
      if (pb == null) {
        return;
      }
      long committed = 0;
      long spent = 0;
      int live = 0;
      for (Map.Entry<BoxId, BoxBook> e : pb.boxes.entrySet()) {
        BoxBook bb = e.getValue();
        committed += bb.granted;
        spent += bb.report == null ? 0 : bb.report.netSpentMicros();
        live += live(bb, now) ? 1 : 0;
        known.add(e.getKey());
      }
      budgets.put(id, new CoordinatorStats.BudgetStatus(pb.period, spec.amountMicros(), committed,
          Math.max(0, spec.amountMicros() - committed), spent, Math.round(pb.plannedRate), pb.boxes.size(), live,
          pb.reclaimedMicros));
    });
    return new CoordinatorStats(term, version, fresh.size() >= quorum, fresh, known.size(), holds, reportsIgnored,
        budgets);
  }

  /**
   * This coordinator's term.
   *
   * @return the term
   */
  public long term() {
    return term;
  }

  @Override
  public String toString() {
    return "Coordinator[term=" + term + ", budgets=" + specs.keySet() + "]";
  }

  private static long millis(Instant t) {
    if (t.isAfter(Instant.ofEpochMilli(Long.MAX_VALUE / 2))) {
      return Long.MAX_VALUE / 2;
    }
    if (t.isBefore(Instant.ofEpochMilli(Long.MIN_VALUE / 2))) {
      return Long.MIN_VALUE / 2;
    }
    return t.toEpochMilli();
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }

  private static double[] cumulative(double[] shares) {
    double total = 0;
    for (double s : shares) {
      total += s;
    }
    double[] cum = new double[shares.length + 1];
    for (int i = 0; i < shares.length; i++) {
      cum[i + 1] = cum[i] + shares[i] / total;
    }
    cum[shares.length] = 1.0;
    return cum;
  }

  /** A cumulative curve over equal slots, linear within a slot. */
  private record Curve(double[] cumulative) {
    static final Curve UNIFORM = new Curve(new double[] {0.0, 1.0});

    double at(double fraction) {
      int n = cumulative.length - 1;
      double x = Math.min(1.0, Math.max(0.0, fraction)) * n;
      int i = (int) Math.min(n - 1, Math.floor(x));
      return cumulative[i] + (cumulative[i + 1] - cumulative[i]) * (x - i);
    }
  }

  private static final class Book {
    @Nullable PeriodBook current;
    @Nullable PeriodBook previous;
    double @Nullable [] learned;

    @Nullable PeriodBook forPeriod(long period) {
      if (current != null && current.period == period) {
        return current;
      }
      return previous != null && previous.period == period ? previous : null;
    }
  }

  private static final class PeriodBook {
    final long period;
    final long startMillis;
    final long endMillis;
    final TreeMap<BoxId, BoxBook> boxes = new TreeMap<>();
    final long[] slotOpportunities = new long[SLOTS];
    long reclaimedMicros;
    double plannedRate;

    PeriodBook(long period, long startMillis, long endMillis) {
      this.period = period;
      this.startMillis = startMillis;
      this.endMillis = Math.max(endMillis, startMillis + 1);
      Arrays.fill(slotOpportunities, -1);
    }
  }

  private static final class BoxBook {
    @Nullable SpendReport report;
    long heardAtMillis = -1;
    long granted;
    double demand = -1;
    double opportunityRate = -1;
    /** Leases issued that the box may still hold, oldest first; the last is the current one. */
    final ArrayList<Lease> leases = new ArrayList<>();

    Lease lease() {
      return leases.get(leases.size() - 1);
    }

    void issue(Lease lease) {
      leases.add(lease);
      if (leases.size() > LEASES_KEPT) {
        // A box that hears allocations but whose reports lag keeps many epochs open: fold the two oldest into one
        // that is at least as permissive, so that the feed bound stays an upper bound.
        Lease a = leases.get(0);
        Lease b = leases.get(1);
        leases.set(1, new Lease(a.epoch(), Math.max(a.grantedMicros(), b.grantedMicros()),
            Math.max(a.rateMicrosPerSecond(), b.rateMicrosPerSecond()), Math.max(a.burstMicros(), b.burstMicros()),
            Math.max(a.freshUntilMillis(), b.freshUntilMillis()), Math.max(a.stopAtMillis(), b.stopAtMillis())));
        leases.remove(0);
      }
    }
  }

  /** Builds a {@link Coordinator}; every setting has a documented default except the regions. */
  public static final class Builder {
    private final List<BudgetSpec> budgets = new ArrayList<>();
    private Set<String> regions = Set.of();
    private int quorum;
    private @Nullable Duration quorumWindow;
    private Duration syncInterval = Duration.ofSeconds(10);
    private @Nullable Duration leaseFreshFor;
    private Duration reserveHorizon = Duration.ofHours(2);
    private Duration maxClockSkew = Duration.ofSeconds(5);
    private InstantSource clock = InstantSource.system();
    private long term = 1;
    private double @Nullable [] curve;

    private Builder() {}

    /**
     * The budgets to allocate; replaces any set before.
     *
     * @param specs the budgets, with distinct ids
     * @return this builder
     * @throws IllegalArgumentException when two specs share an id
     */
    public Builder budgets(Collection<BudgetSpec> specs) {
      Set<String> ids = new TreeSet<>();
      for (BudgetSpec s : specs) {
        if (!ids.add(s.id())) {
          throw new IllegalArgumentException("budgets must have distinct ids, got " + s.id() + " twice");
        }
      }
      budgets.clear();
      budgets.addAll(specs);
      return this;
    }

    /**
     * The regions expected to report; required.
     *
     * @param expected at least one region name
     * @return this builder
     * @throws IllegalArgumentException when empty
     */
    public Builder regions(Set<String> expected) {
      if (expected.isEmpty()) {
        throw new IllegalArgumentException("regions must name at least one region, got " + expected);
      }
      this.regions = Set.copyOf(expected);
      return this;
    }

    /**
     * How many regions must have reported within the quorum window for the coordinator to trust its global view;
     * default a majority of the regions.
     *
     * @param regionsNeeded 1 to the number of regions
     * @return this builder
     * @throws IllegalArgumentException when below 1
     */
    public Builder quorum(int regionsNeeded) {
      if (regionsNeeded < 1) {
        throw new IllegalArgumentException("quorum must be >= 1, got " + regionsNeeded);
      }
      this.quorum = regionsNeeded;
      return this;
    }

    /**
     * How recent a region's last report must be to count for the quorum, and a box's to count as live; default 3 sync
     * intervals.
     *
     * @param window at least one sync interval
     * @return this builder
     * @throws IllegalArgumentException when not positive
     */
    public Builder quorumWindow(Duration window) {
      this.quorumWindow = positive(window, "quorumWindow");
      return this;
    }

    /**
     * How often boxes report and the coordinator allocates; default 10 s.
     *
     * @param interval positive
     * @return this builder
     * @throws IllegalArgumentException when not positive
     */
    public Builder syncInterval(Duration interval) {
      this.syncInterval = positive(interval, "syncInterval");
      return this;
    }

    /**
     * How long a lease stays fresh after its allocation; default 3 sync intervals.
     *
     * @param duration at least one sync interval
     * @return this builder
     * @throws IllegalArgumentException when not positive
     */
    public Builder leaseFreshFor(Duration duration) {
      this.leaseFreshFor = positive(duration, "leaseFreshFor");
      return this;
    }

    /**
     * How much of its planned rate a box holds as escrow beyond what it has fed, and how long after its lease's
     * freshness it keeps spending before it stops: its frozen share for surviving an outage; default 2 h. A longer one
     * survives longer outages; a shorter one locks less money in a box that vanished.
     *
     * @param horizon positive
     * @return this builder
     * @throws IllegalArgumentException when not positive
     */
    public Builder reserveHorizon(Duration horizon) {
      this.reserveHorizon = positive(horizon, "reserveHorizon");
      return this;
    }

    /**
     * The largest difference between a box's clock and the coordinator's; default 5 s.
     *
     * @param skew zero or more
     * @return this builder
     * @throws IllegalArgumentException when negative
     */
    public Builder maxClockSkew(Duration skew) {
      if (skew.isNegative()) {
        throw new IllegalArgumentException("maxClockSkew must be >= 0, got " + skew);
      }
      this.maxClockSkew = skew;
      return this;
    }

    /**
     * The clock; default the system clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The leadership term, the fencing token; default 1. Claim it in the store before using it.
     *
     * @param term 0 to 2<sup>31</sup> - 1
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder term(long term) {
      if (term < 0 || term >= TERM_LIMIT) {
        throw new IllegalArgumentException("term must be between 0 and " + (TERM_LIMIT - 1) + ", got " + term);
      }
      this.term = term;
      return this;
    }

    /**
     * A known traffic curve for every budget instead of the learned one: the share of a period's opportunities in each
     * of any number of equal slots of the period (for a day in 24 slots, the share of each hour).
     *
     * @param shares non-negative, not all zero
     * @return this builder
     * @throws IllegalArgumentException when empty, negative or all zero
     */
    public Builder trafficCurve(List<Double> shares) {
      double[] d = new double[shares.size()];
      double sum = 0;
      for (int i = 0; i < d.length; i++) {
        d[i] = shares.get(i);
        if (!(d[i] >= 0) || Double.isInfinite(d[i])) {
          throw new IllegalArgumentException("trafficCurve shares must be finite and >= 0, got " + shares);
        }
        sum += d[i];
      }
      if (sum <= 0) {
        throw new IllegalArgumentException("trafficCurve needs a positive share, got " + shares);
      }
      this.curve = d;
      return this;
    }

    private static Duration positive(Duration d, String what) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }

    /**
     * Builds the coordinator.
     *
     * @return the coordinator
     * @throws IllegalStateException when no regions are set, the quorum exceeds them, or a window or freshness is
     *     shorter than the sync interval
     */
    public Coordinator build() {
      if (regions.isEmpty()) {
        throw new IllegalStateException("a Coordinator needs the regions expected to report");
      }
      if (quorum > regions.size()) {
        throw new IllegalStateException("quorum " + quorum + " exceeds the " + regions.size() + " regions");
      }
      if (quorumWindow != null && quorumWindow.compareTo(syncInterval) < 0) {
        throw new IllegalStateException("quorumWindow " + quorumWindow + " is shorter than syncInterval "
            + syncInterval);
      }
      if (leaseFreshFor != null && leaseFreshFor.compareTo(syncInterval) < 0) {
        throw new IllegalStateException("leaseFreshFor " + leaseFreshFor + " is shorter than syncInterval "
            + syncInterval);
      }
      return new Coordinator(this);
    }
  }
}
