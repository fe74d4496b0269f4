package dev.hardway.pacing;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * One budget in one box: the hot path. Get it once with {@link Pacer#budget(String)} and keep it.
 *
 * <pre>{@code
 * Budget campaign = pacer.budget("campaign-42");
 * if (campaign.shouldBid() && campaign.trySpend(bidMicros)) {
 *   bid(...);                          // the money is reserved
 * }
 * campaign.refund(bidMicros);          // the auction was lost, or the win notice never came
 * }</pre>
 *
 * <p>{@link #trySpend(long)} is one compare-and-set on a spendable balance that the pacer's background tick feeds
 * from the box's lease at the lease's rate; it never allocates and never waits on the network. A box can therefore
 * never spend more than its lease grants, and the coordinator keeps the sum of grants within the budget.
 *
 * <p>Thread-safe.
 */
public final class Budget {
  private final String id;
  private volatile PeriodState state;

  Budget(String id) {
    this.id = id;
    this.state = new PeriodState(-1);
  }

  /**
   * The budget's id.
   *
   * @return the id
   */
  public String id() {
    return id;
  }

  /**
   * Reserves money for a bid: true when the box holds enough spendable money, which is then spent.
   *
   * @param micros the amount, in millionths of the currency unit; more than 0
   * @return whether it was spent; false when the box holds too little (the refusal is counted)
   * @throws IllegalArgumentException when micros is 0 or negative
   */
  public boolean trySpend(long micros) {
    if (micros <= 0) {
      throw new IllegalArgumentException("micros to spend must be > 0, got " + micros);
    }
    PeriodState s = state;
    AtomicLong spendable = s.spendable;
    long have;
    do {
      have = spendable.get();
      if (have < micros) {
        s.refusals.increment();
        s.refusedMicros.add(micros);
        return false;
      }
    } while (!spendable.compareAndSet(have, have - micros));
    return true;
  }

  /**
   * Gives back money spent in this period that was not spent after all: a lost auction, a win notice that never
   * came, a price below the reservation. It becomes spendable again.
   *
   * @param micros the amount; more than 0, at most the net spend of the current period
   * @throws IllegalArgumentException when micros is 0 or negative, or more than the period's net spend
   */
  public void refund(long micros) {
    if (micros <= 0) {
      throw new IllegalArgumentException("micros to refund must be > 0, got " + micros);
    }
    PeriodState s = state;
    synchronized (s.refundLock) {
      long net = s.netSpent();
      if (micros > net) {
        throw new IllegalArgumentException("cannot refund " + micros + " micros of budget " + id + ": its net spend in "
            + "this period is " + net);
      }
      // Balance first, then the counter: a report read in between under-states spend for a moment, which the
      // coordinator's merge by maximum tolerates; the other order would over-state it for good.
      s.spendable.addAndGet(micros);
      s.refunded.addAndGet(micros);
    }
  }

  /**
   * Whether to bid at all on this opportunity: the pacing throttle, so that spend follows the plan through the day
   * instead of running out early. Counts the opportunity as demand.
   *
   * @return true for the share of opportunities the current plan allows
   */
  public boolean shouldBid() {
    PeriodState s = state;
    s.opportunities.increment();
    double p = s.bidProbability;
    return p >= 1.0 || ThreadLocalRandom.current().nextDouble() < p;
  }

  /**
   * A snapshot of this budget in the current period.
   *
   * @return the stats
   */
  public BudgetStats stats() {
    return state.stats(id);
  }

  PeriodState state() {
    return state;
  }

  void roll(PeriodState next) {
    this.state = next;
  }

  @Override
  public String toString() {
    return "Budget[" + id + "]";
  }

  /** One budget's counters for one period. Background fields are touched only under the pacer's tick lock. */
  static final class PeriodState {
    final long period;
    final AtomicLong spendable = new AtomicLong();
    final AtomicLong refunded = new AtomicLong();
    final LongAdder refusals = new LongAdder();
    final LongAdder refusedMicros = new LongAdder();
    final LongAdder opportunities = new LongAdder();
    final Object refundLock = new Object();
    volatile double bidProbability = 1.0;
    volatile BudgetStats.Mode mode = BudgetStats.Mode.NO_LEASE;
    // Background-only, but read by stats() and reports from other threads: volatile.
    volatile @Nullable Lease lease;
    volatile long fed;
    volatile long reclaimed;
    volatile double spendRate;
    double demandRate;
    // Cumulative demand as if every opportunity had been bid on: each tick's new wanted micros divided by the throttle
    // in force while they came. Reported as wantedMicros, so that the coordinator sees a throttled box's real demand.
    double demandMicros;
    double carry;
    // The last-rate policy's rate, fixed when the lease stopped being fresh; -1 while fresh.
    long lastRate = -1;
    long lastNetSpent;
    long lastWanted;
    long lastTickMillis = Long.MIN_VALUE;

    PeriodState(long period) {
      this.period = period;
    }

    long netFed() {
      return fed - reclaimed;
    }

    long netSpent() {
      return netFed() - spendable.get();
    }

    long wanted() {
      return netSpent() + refunded.get() + refusedMicros.sum();
    }

    /** Demand so far, scaled up by the throttle; ticks add to it, this adds what came since the last tick. */
    long demand() {
      return (long) (demandMicros + Math.max(0, wanted() - lastWanted) / Math.max(0.01, bidProbability));
    }

    BudgetStats stats(String id) {
      Lease l = lease;
      long net = netSpent();
      long refundedNow = refunded.get();
      return new BudgetStats(id, period, mode, net + refundedNow, refundedNow, spendable.get(),
          l == null ? 0 : l.grantedMicros(), netFed(), refusals.sum(), refusedMicros.sum(), opportunities.sum(),
          bidProbability, spendRate, l == null ? 0 : l.epoch());
    }
  }
}
