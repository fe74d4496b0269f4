package dev.hardway.pacing;

/**
 * What a box does for a budget when its lease is no longer fresh (the coordinator or the allocation is out of
 * reach). Whatever the policy, a box never spends beyond its lease's grant, and stops at the lease's
 * {@link Lease#stopAtMillis()}.
 */
public sealed interface Degradation {
  /** Stop spending at once; the budget is underspent rather than risked. */
  Degradation STOP = new Stop();
  /** Keep spending at the rate of the last minute, capped by the lease's rate and grant (the default). */
  Degradation LAST_RATE = new LastRate();

  /** Stop spending at once. */
  record Stop() implements Degradation {}

  /** Keep the last minute's rate, capped by the lease's rate and grant. */
  record LastRate() implements Degradation {}

  /**
   * A configured rate, capped by the lease's rate and grant.
   *
   * @param microsPerSecond the rate
   */
  record SafeRate(long microsPerSecond) implements Degradation {
    /** Checks the rate. */
    public SafeRate {
      Values.nonNegative(microsPerSecond, "microsPerSecond");
    }
  }
}
