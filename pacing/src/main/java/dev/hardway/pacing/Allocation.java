package dev.hardway.pacing;

import java.util.Map;

/**
 * What the coordinator publishes: every box's lease for every budget. Boxes apply the newest allocation of the
 * highest term they have seen, so a deposed coordinator's late publication is ignored.
 *
 * @param term the coordinator's leadership term (its fencing token)
 * @param version increases with every publication within a term
 * @param issuedAtMillis the coordinator's clock at publication
 * @param budgets per budget id, the period and every box's lease
 */
public record Allocation(long term, long version, long issuedAtMillis, Map<String, BudgetLeases> budgets) {

  /** Copies the map and checks the values. */
  public Allocation {
    Values.nonNegative(term, "term");
    Values.nonNegative(version, "version");
    budgets = Map.copyOf(budgets);
    budgets.keySet().forEach(Values::budgetId);
  }

  /**
   * Whether this allocation supersedes another: a higher term, or the same term and a higher version.
   *
   * @param other the allocation held
   * @return true when this one is newer
   */
  public boolean newerThan(Allocation other) {
    return term > other.term || term == other.term && version > other.version;
  }

  /**
   * One budget's leases.
   *
   * @param period the budget period the leases are for
   * @param periodEndMillis when that period ends; boxes stop spending for it then
   * @param degradation what boxes do when their lease is no longer fresh
   * @param leases per box
   */
  public record BudgetLeases(long period, long periodEndMillis, Degradation degradation, Map<BoxId, Lease> leases) {
    /** Copies the map. */
    public BudgetLeases {
      leases = Map.copyOf(leases);
    }
  }
}
