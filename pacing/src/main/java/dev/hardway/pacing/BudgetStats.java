package dev.hardway.pacing;

/**
 * An immutable snapshot of one budget in one box, for the current period.
 *
 * @param budgetId the budget
 * @param period the period
 * @param mode how the box is spending
 * @param spentMicros micros spent (gross)
 * @param refundedMicros micros refunded
 * @param spendableMicros micros spendable right now
 * @param grantedMicros the lease's grant (0 without a lease)
 * @param fedMicros micros made spendable so far, net of what was taken back
 * @param refusals spends refused
 * @param refusedMicros micros of refused spends
 * @param opportunities {@link Budget#shouldBid()} calls
 * @param bidProbability the current throttle: the share of opportunities {@link Budget#shouldBid()} accepts
 * @param spendRateMicrosPerSecond the recent spend rate (the last-rate policy's rate)
 * @param leaseEpoch the lease's epoch, 0 without a lease
 */
public record BudgetStats(String budgetId, long period, Mode mode, long spentMicros, long refundedMicros,
    long spendableMicros, long grantedMicros, long fedMicros, long refusals, long refusedMicros, long opportunities,
    double bidProbability, double spendRateMicrosPerSecond, long leaseEpoch) {

  /** How a box spends a budget. */
  public enum Mode {
    /** No lease yet for this period: nothing is spendable. */
    NO_LEASE,
    /** A fresh lease: the coordinator's plan. */
    FRESH,
    /** The lease is no longer fresh: the budget's degradation policy. */
    DEGRADED,
    /** The lease is past its stop time, or the period is over: nothing more is made spendable. */
    STOPPED
  }
}
