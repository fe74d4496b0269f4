package dev.hardway.pacing;

import java.util.Map;
import java.util.Set;

/**
 * An immutable snapshot of a {@link Coordinator}.
 *
 * @param term its term (fencing token)
 * @param version the version of the last allocation it issued
 * @param quorum whether enough regions reported within the quorum window (as of now)
 * @param freshRegions the expected regions with a box heard from within the quorum window
 * @param boxesKnown distinct boxes in the current periods of all budgets
 * @param holds allocations issued without quorum (no grant or rate changes, freshness renewed for live boxes)
 * @param reportsIgnored reports for a budget or period the coordinator does not hold
 * @param budgets per budget id, its current period's account
 */
public record CoordinatorStats(long term, long version, boolean quorum, Set<String> freshRegions, int boxesKnown,
    long holds, long reportsIgnored, Map<String, BudgetStatus> budgets) {

  /** Copies the collections. */
  public CoordinatorStats {
    freshRegions = Set.copyOf(freshRegions);
    budgets = Map.copyOf(budgets);
  }

  /**
   * One budget's current period.
   *
   * @param period the period
   * @param amountMicros the budget's amount for the period
   * @param committedMicros the sum of the boxes' grants
   * @param uncommittedMicros the amount minus the committed, floored at 0: what new grants may still take
   * @param spentMicros the net spend the boxes reported
   * @param plannedRateMicrosPerSecond the total rate the last allocation planned (unchanged by holds)
   * @param boxes boxes known in the period
   * @param liveBoxes boxes heard from within the quorum window
   * @param reclaimedMicros micros taken back from silent boxes in the period
   */
  public record BudgetStatus(long period, long amountMicros, long committedMicros, long uncommittedMicros,
      long spentMicros, long plannedRateMicrosPerSecond, int boxes, int liveBoxes, long reclaimedMicros) {}
}
