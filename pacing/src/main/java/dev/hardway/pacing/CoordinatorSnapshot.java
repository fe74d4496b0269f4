package dev.hardway.pacing;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Everything a {@link Coordinator} needs to resume where another one stopped, built only from simple values so that it
 * serializes to JSON as it is. Take it with {@link Coordinator#snapshot()} after every {@link Coordinator#allocate()}
 * and store it <em>before</em> publishing that allocation (write-ahead): a coordinator restored from it then knows
 * every grant any box can hold, which is what keeps the sum of grants within the budget across a fail-over.
 *
 * @param term the term of the coordinator that took it; a coordinator restored from it must have a higher one
 * @param version the version of the last allocation issued in that term
 * @param takenAtMillis the coordinator's clock when it was taken
 * @param budgets every budget spec, as last edited
 * @param periods the books of the current and the previous period of every budget
 * @param learnedCurves per daily budget, the learned share of the day's opportunities in each of
 *     {@value Coordinator#SLOTS} equal slots of the period (absent until one whole period was seen)
 */
public record CoordinatorSnapshot(long term, long version, long takenAtMillis, List<BudgetSpec> budgets,
    List<Period> periods, Map<String, List<Double>> learnedCurves) {

  /** Copies the collections. */
  public CoordinatorSnapshot {
    budgets = List.copyOf(budgets);
    periods = List.copyOf(periods);
    learnedCurves = Map.copyOf(learnedCurves);
  }

  /**
   * One budget's book for one period.
   *
   * @param budgetId the budget
   * @param period the period ({@link BudgetSpec#period})
   * @param startMillis when the period starts
   * @param endMillis when it ends
   * @param slotOpportunities per slot of the period, the opportunities reported by all boxes together (cumulative since
   *     the period began) at the last allocation in that slot; -1 where the coordinator made none
   * @param reclaimedMicros micros taken back from silent boxes in this period
   * @param boxes every box known in the period
   */
  public record Period(String budgetId, long period, long startMillis, long endMillis, List<Long> slotOpportunities,
      long reclaimedMicros, List<Box> boxes) {
    /** Copies the lists. */
    public Period {
      slotOpportunities = List.copyOf(slotOpportunities);
      boxes = List.copyOf(boxes);
    }
  }

  /**
   * One box's account for one budget in one period.
   *
   * @param box the box
   * @param grantedMicros its cumulative grant G: the most it may ever make spendable in the period
   * @param report the merge of its reports, or null before the first one of this period
   * @param heardAtMillis the coordinator's clock when a newer report of it last arrived; -1 never
   * @param demandMicrosPerSecond the predicted demand (moving average of wanted micros per second); -1 unknown
   * @param opportunitiesPerSecond the moving average of its opportunities per second; -1 unknown
   * @param leases the leases issued to it that it may still hold (epoch at or above the one it last reported), oldest
   *     first; the last one is the current lease; empty before the first
   */
  public record Box(BoxId box, long grantedMicros, @Nullable SpendReport report, long heardAtMillis,
      double demandMicrosPerSecond, double opportunitiesPerSecond, List<Lease> leases) {
    /** Copies the list. */
    public Box {
      leases = List.copyOf(leases);
    }
  }
}
