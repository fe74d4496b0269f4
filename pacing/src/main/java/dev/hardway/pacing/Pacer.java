package dev.hardway.pacing;

import dev.hardway.pacing.Budget.PeriodState;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The pacing client in every box: spends locally, within the escrow leases the coordinator grants.
 *
 * <pre>{@code
 * Pacer pacer = Pacer.builder().box(new BoxId("us-east", "box-1")).build();
 * Budget campaign = pacer.budget("campaign-42");          // keep the handle: the hot path is on it
 * if (campaign.shouldBid() && campaign.trySpend(250_000)) { ... }
 * // a sync component (or the simulator) moves reports out and allocations in:
 * pacer.apply(allocation);
 * List<SpendReport> reports = pacer.reports();
 * }</pre>
 *
 * <p>A background tick (every {@code tickInterval}, 100 ms by default) feeds each budget's spendable balance from its
 * lease at the lease's rate, keeps at most the lease's burst spendable, follows the budget's {@link Degradation}
 * policy once the lease is no longer fresh, stops at the lease's stop time or the period's end, and sets the bid
 * throttle so that demand above the lease's rate is turned away evenly instead of all at once. The spend of a box is
 * therefore never more than its lease's grant, whatever happens to the network.
 *
 * <p>Thread-safe. {@link #close()} stops the background tick.
 */
public final class Pacer implements AutoCloseable {
  private static final double THROTTLE_HEADROOM = 1.2;
  private final BoxId box;
  private final InstantSource clock;
  private final Duration rateWindow;
  private final ConcurrentHashMap<String, Budget> budgets = new ConcurrentHashMap<>();
  private final AtomicReference<@Nullable Allocation> allocation = new AtomicReference<>();
  private final ReentrantLock tickLock = new ReentrantLock();
  private final @Nullable ScheduledExecutorService ticker;
  private long staleAllocations;
  private volatile boolean closed;
  private volatile boolean left;

  private Pacer(Builder b) {
    this.box = Objects.requireNonNull(b.box);
    this.clock = b.clock;
    this.rateWindow = b.rateWindow;
    if (b.backgroundTick) {
      ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("hardway-pacer-tick").factory());
      long ms = b.tickInterval.toMillis();
      s.scheduleAtFixedRate(this::tickQuietly, ms, ms, TimeUnit.MILLISECONDS);
      this.ticker = s;
    } else {
      this.ticker = null;
    }
  }

  /**
   * Starts a pacer.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * This box.
   *
   * @return the box id
   */
  public BoxId box() {
    return box;
  }

  /**
   * The handle of a budget: keep it, its methods are the hot path. A budget no allocation has named yet is valid and
   * spends nothing until a lease for it arrives.
   *
   * @param budgetId the budget id (1-128 of letters, digits and {@code ._:-})
   * @return the handle, the same one for every call with this id
   * @throws IllegalArgumentException when the id is malformed
   */
  public Budget budget(String budgetId) {
    Budget b = budgets.get(budgetId);
    return b != null ? b : budgets.computeIfAbsent(Values.budgetId(budgetId), Budget::new);
  }

  /**
   * Spends from a budget by id: a map lookup, then {@link Budget#trySpend(long)}. Keep the handle where nanoseconds
   * count.
   *
   * @param budgetId the budget id
   * @param micros the amount, more than 0
   * @return whether it was spent
   * @throws IllegalArgumentException when the id is malformed or micros is not positive
   */
  public boolean trySpend(String budgetId, long micros) {
    return budget(budgetId).trySpend(micros);
  }

  /**
   * Takes an allocation from the coordinator if it is newer than the one held (a higher term, or a higher version in
   * the same term); its leases take effect at the next tick.
   *
   * @param next the allocation fetched
   * @return whether it was newer and taken
   */
  public boolean apply(Allocation next) {
    if (left) {
      return false;
    }
    while (true) {
      Allocation held = allocation.get();
      if (held != null && !next.newerThan(held)) {
        synchronized (this) {
          staleAllocations++;
        }
        return false;
      }
      if (allocation.compareAndSet(held, next)) {
        for (String id : next.budgets().keySet()) {
          budget(id);
        }
        return true;
      }
    }
  }

  /**
   * The allocation held, if any.
   *
   * @return the newest allocation taken, or null
   */
  public @Nullable Allocation allocation() {
    return allocation.get();
  }

  /** Runs one tick now, at the clock's time; the background tick calls this, and so does a simulator. */
  public void tick() {
    tick(clock.millis());
  }

  private void tickQuietly() {
    try {
      tick();
    } catch (RuntimeException e) {
      // The tick must keep running; every state change it makes is bounded by the lease.
    }
  }

  private void tick(long now) {
    tickLock.lock();
    try {
      if (left) {
        return;
      }
      Allocation a = allocation.get();
      for (Budget b : budgets.values()) {
        Allocation.BudgetLeases bl = a == null ? null : a.budgets().get(b.id());
        tickBudget(b, bl, now);
      }
    } finally {
      tickLock.unlock();
    }
  }

  private void tickBudget(Budget b, Allocation.@Nullable BudgetLeases bl, long now) {
    PeriodState s = b.state();
    if (bl != null && bl.period() > s.period) {
      // A new period: the old one's balance is no longer spendable; its counters stay with it for its last report.
      reclaimAll(s);
      s.mode = BudgetStats.Mode.STOPPED;
      PeriodState next = new PeriodState(bl.period());
      b.roll(next);
      s = next;
    }
    Lease lease = bl != null && bl.period() == s.period ? bl.leases().get(box) : null;
    Lease held = s.lease;
    if (lease != null && (held == null || lease.epoch() > held.epoch())) {
      s.lease = lease;
      held = lease;
      long over = s.netFed() - lease.grantedMicros();
      if (over > 0) {
        // The coordinator never grants less than a box may have made spendable; if it ever does, take back what is
        // still unspent rather than hold more than the grant.
        long back = Math.min(over, s.spendable.getAndUpdate(v -> v - Math.min(v, over)));
        s.reclaimed += back;
      }
    }
    long elapsed = s.lastTickMillis == Long.MIN_VALUE ? 0 : Math.max(0, now - s.lastTickMillis);
    s.lastTickMillis = now;
    updateRates(s, elapsed);
    if (held == null) {
      s.mode = BudgetStats.Mode.NO_LEASE;
      return;
    }
    long rate;
    if (bl != null && now >= bl.periodEndMillis() || now >= held.stopAtMillis()) {
      s.mode = BudgetStats.Mode.STOPPED;
      rate = 0;
    } else if (now < held.freshUntilMillis()) {
      s.mode = BudgetStats.Mode.FRESH;
      rate = held.rateMicrosPerSecond();
      s.lastRate = -1;
    } else {
      s.mode = BudgetStats.Mode.DEGRADED;
      Degradation d = bl == null ? Degradation.LAST_RATE : bl.degradation();
      rate = switch (d) {
        case Degradation.Stop stop -> 0;
        case Degradation.LastRate last -> {
          // Frozen when the lease stops being fresh: re-measuring it from the spend it allows itself would let it
          // decay to zero within the hour (every tick spends a little less than it feeds).
          if (s.lastRate < 0) {
            s.lastRate = Math.min(held.rateMicrosPerSecond(), (long) s.spendRate);
          }
          yield Math.min(held.rateMicrosPerSecond(), s.lastRate);
        }
        case Degradation.SafeRate safe -> Math.min(held.rateMicrosPerSecond(), safe.microsPerSecond());
      };
    }
    if (rate == 0) {
      reclaimAll(s);
      s.bidProbability = 0.0;
      return;
    }
    double want = s.carry + rate * (elapsed / 1000.0);
    long whole = (long) want;
    long reserve = held.grantedMicros() - s.netFed();
    long room = held.burstMicros() - s.spendable.get();
    long feed = Math.max(0, Math.min(whole, Math.min(reserve, room)));
    s.carry = feed == whole ? want - whole : 0;
    if (feed > 0) {
      s.spendable.addAndGet(feed);
      s.fed += feed;
    }
    // Turn away the share of demand above the rate evenly, instead of spending the burst in the first millisecond.
    // A little above the rate: bids passing at exactly the feed rate make the balance a random walk that is often
    // empty (bids refused) or full (feed lost), and the box spends well under its rate.
    s.bidProbability = s.demandRate <= rate ? 1.0 : Math.min(1.0, Math.max(0.01,
        THROTTLE_HEADROOM * rate / s.demandRate));
  }

  private static void reclaimAll(PeriodState s) {
    long back = s.spendable.getAndSet(0);
    s.reclaimed += back;
  }

  private void updateRates(PeriodState s, long elapsedMillis) {
    long net = s.netSpent();
    long wanted = s.wanted();
    if (elapsedMillis > 0) {
      double seconds = elapsedMillis / 1000.0;
      double alpha = Math.min(1.0, elapsedMillis / (double) rateWindow.toMillis());
      double spentRate = Math.max(0, net - s.lastNetSpent) / seconds;
      // Demand as if every opportunity were bid on: what was wanted, scaled back up by the throttle.
      double p = Math.max(0.01, s.bidProbability);
      double wantedRate = Math.max(0, wanted - s.lastWanted) / seconds / p;
      s.spendRate = s.spendRate + alpha * (spentRate - s.spendRate);
      s.demandRate = s.demandRate + alpha * (wantedRate - s.demandRate);
    }
    s.demandMicros += Math.max(0, wanted - s.lastWanted) / Math.max(0.01, s.bidProbability);
    s.lastNetSpent = net;
    s.lastWanted = wanted;
  }

  /**
   * This box's cumulative reports, one per budget it holds (including a period just ended, until the next one's
   * report replaces it), stamped with the clock's time.
   *
   * @return the reports
   */
  public List<SpendReport> reports() {
    long now = clock.millis();
    tickLock.lock();
    try {
      List<SpendReport> out = new ArrayList<>(budgets.size());
      for (Budget b : budgets.values()) {
        PeriodState s = b.state();
        if (s.period < 0) {
          continue;
        }
        long net = s.netSpent();
        long refunded = s.refunded.get();
        Lease l = s.lease;
        out.add(new SpendReport(box, b.id(), s.period, net + refunded, refunded, s.fed, s.reclaimed,
            s.opportunities.sum(), s.demand(), l == null ? 0 : l.epoch(), now, left));
      }
      return out;
    } finally {
      tickLock.unlock();
    }
  }

  /**
   * Leaves for good: takes back everything spendable, feeds nothing more and takes no more allocations, so that
   * the reports that follow are final and say so ({@link SpendReport#leaving()}): the coordinator then returns the
   * rest of this box's grants to the pool at once instead of waiting for its leases to stop. {@link PacerSync#close()}
   * calls it before its last report. Refunds still work and make money spendable again, within what was fed.
   */
  public void leave() {
    tickLock.lock();
    try {
      if (left) {
        return;
      }
      left = true;
      for (Budget b : budgets.values()) {
        PeriodState s = b.state();
        reclaimAll(s);
        s.bidProbability = 0.0;
        s.mode = BudgetStats.Mode.STOPPED;
      }
    } finally {
      tickLock.unlock();
    }
  }

  /**
   * Whether {@link #leave()} was called.
   *
   * @return true once left
   */
  public boolean left() {
    return left;
  }

  /**
   * A snapshot of every budget this box holds.
   *
   * @return per budget id
   */
  public Map<String, BudgetStats> stats() {
    Map<String, BudgetStats> m = new java.util.TreeMap<>();
    budgets.forEach((id, b) -> m.put(id, b.stats()));
    return m;
  }

  /**
   * Allocations ignored because they were not newer than the one held.
   *
   * @return the count
   */
  public synchronized long staleAllocations() {
    return staleAllocations;
  }

  /** Stops the background tick; idempotent. Spendable balances stay, and nothing more is fed. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (ticker != null) {
      ticker.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "Pacer[" + box + ", budgets=" + budgets.keySet() + "]";
  }

  /** Builds a {@link Pacer}. */
  public static final class Builder {
    private @Nullable BoxId box;
    private InstantSource clock = InstantSource.system();
    private boolean backgroundTick = true;
    private Duration tickInterval = Duration.ofMillis(100);
    private Duration rateWindow = Duration.ofSeconds(60);

    private Builder() {}

    /**
     * This box. It must not be the id of an earlier run of this process that spent in the current period: use
     * {@link BoxId#forThisProcess(String, String)}.
     *
     * @param box region and name
     * @return this builder
     */
    public Builder box(BoxId box) {
      this.box = Objects.requireNonNull(box, "box");
      return this;
    }

    /**
     * The clock; default the system clock. A simulator passes its virtual clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Whether a background thread ticks every {@code tickInterval}; default true. Off for a simulator, which calls
     * {@link Pacer#tick()} itself.
     *
     * @param enabled whether to tick in the background
     * @return this builder
     */
    public Builder backgroundTick(boolean enabled) {
      this.backgroundTick = enabled;
      return this;
    }

    /**
     * How often the balance is fed; default 100 ms.
     *
     * @param interval 1 ms to 10 s
     * @return this builder
     */
    public Builder tickInterval(Duration interval) {
      if (interval.compareTo(Duration.ofMillis(1)) < 0 || interval.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("tickInterval must be between 1 ms and 10 s, got " + interval);
      }
      this.tickInterval = interval;
      return this;
    }

    /**
     * Over how long spend and demand rates are averaged (the last-rate policy's "last rate"); default 60 s.
     *
     * @param window 1 s to 1 h
     * @return this builder
     */
    public Builder rateWindow(Duration window) {
      if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("rateWindow must be between 1 s and 1 h, got " + window);
      }
      this.rateWindow = window;
      return this;
    }

    /**
     * Builds the pacer and starts its tick.
     *
     * @return the pacer
     * @throws IllegalStateException when no box is set
     */
    public Pacer build() {
      if (box == null) {
        throw new IllegalStateException("a Pacer needs its box");
      }
      return new Pacer(this);
    }
  }
}
