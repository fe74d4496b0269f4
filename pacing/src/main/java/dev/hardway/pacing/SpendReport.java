package dev.hardway.pacing;

/**
 * What one box says about one budget in one period. Every count is cumulative since the period began, so reports
 * merge by taking the maximum per field: a lost, duplicated, reordered or replayed report does no harm.
 *
 * @param box the box
 * @param budgetId the budget
 * @param period the budget period the counts belong to ({@link BudgetSpec#period})
 * @param spentMicros micros spent (gross)
 * @param refundedMicros micros given back by {@link Budget#refund(long)}
 * @param fedMicros micros the box moved from its lease into its spendable balance; fed minus reclaimed never exceeds
 *     the lease's grant, and is at least the net spend
 * @param reclaimedMicros micros the box took back from its spendable balance when it stopped spending
 * @param opportunities bid opportunities seen ({@link Budget#shouldBid()} calls)
 * @param wantedMicros the box's demand: micros it tried to spend, granted or not, scaled up by its bid throttle (so
 *     that a box turning away part of its opportunities still reports what it would have bid on)
 * @param leaseEpoch the epoch of the newest lease the box applied, 0 before any
 * @param sentAtMillis the box's clock when it made the report
 * @param leaving whether the box has left: it feeds nothing more in this period, so its net fed amount is final and
 *     the rest of its grant can return to the pool at once
 */
public record SpendReport(BoxId box, String budgetId, long period, long spentMicros, long refundedMicros,
    long fedMicros, long reclaimedMicros, long opportunities, long wantedMicros, long leaseEpoch, long sentAtMillis,
    boolean leaving) {

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException when a count is negative or the refunds exceed the spend
   */
  public SpendReport {
    Values.budgetId(budgetId);
    Values.nonNegative(spentMicros, "spentMicros");
    Values.nonNegative(refundedMicros, "refundedMicros");
    Values.nonNegative(fedMicros, "fedMicros");
    Values.nonNegative(reclaimedMicros, "reclaimedMicros");
    if (reclaimedMicros > fedMicros) {
      throw new IllegalArgumentException("reclaimedMicros (" + reclaimedMicros + ") cannot exceed fedMicros ("
          + fedMicros + ")");
    }
    Values.nonNegative(opportunities, "opportunities");
    Values.nonNegative(wantedMicros, "wantedMicros");
    Values.nonNegative(leaseEpoch, "leaseEpoch");
    if (refundedMicros > spentMicros) {
      throw new IllegalArgumentException("refundedMicros (" + refundedMicros + ") cannot exceed spentMicros ("
          + spentMicros + ")");
    }
  }

  /**
   * A report of a box that is still in.
   *
   * @param box the box
   * @param budgetId the budget
   * @param period the period
   * @param spentMicros micros spent (gross)
   * @param refundedMicros micros refunded
   * @param fedMicros micros fed
   * @param reclaimedMicros micros reclaimed
   * @param opportunities opportunities seen
   * @param wantedMicros demand
   * @param leaseEpoch the newest lease applied
   * @param sentAtMillis the box's clock
   */
  public SpendReport(BoxId box, String budgetId, long period, long spentMicros, long refundedMicros, long fedMicros,
      long reclaimedMicros, long opportunities, long wantedMicros, long leaseEpoch, long sentAtMillis) {
    this(box, budgetId, period, spentMicros, refundedMicros, fedMicros, reclaimedMicros, opportunities, wantedMicros,
        leaseEpoch, sentAtMillis, false);
  }

  /**
   * Net spend: spent minus refunded.
   *
   * @return micros
   */
  public long netSpentMicros() {
    return spentMicros - refundedMicros;
  }

  /**
   * What the box has made spendable, net: fed minus reclaimed. Its spend can never exceed this.
   *
   * @return micros
   */
  public long netFedMicros() {
    return fedMicros - reclaimedMicros;
  }

  /**
   * Merges two reports of the same box, budget and period: the maximum of each cumulative field.
   *
   * @param other another report of the same box, budget and period
   * @return the merge
   * @throws IllegalArgumentException when the reports are about different things
   */
  public SpendReport merge(SpendReport other) {
    if (!box.equals(other.box) || !budgetId.equals(other.budgetId) || period != other.period) {
      throw new IllegalArgumentException("cannot merge reports of " + box + "/" + budgetId + "/" + period + " and "
          + other.box + "/" + other.budgetId + "/" + other.period);
    }
    long spent = Math.max(spentMicros, other.spentMicros);
    return new SpendReport(box, budgetId, period, spent, Math.min(spent, Math.max(refundedMicros,
        other.refundedMicros)), Math.max(fedMicros, other.fedMicros),
        Math.min(Math.max(fedMicros, other.fedMicros), Math.max(reclaimedMicros, other.reclaimedMicros)),
        Math.max(opportunities, other.opportunities),
        Math.max(wantedMicros, other.wantedMicros), Math.max(leaseEpoch, other.leaseEpoch),
        Math.max(sentAtMillis, other.sentAtMillis), leaving || other.leaving);
  }
}
