package dev.hardway.pacing;

/**
 * One box's escrow for one budget in one period: how much it may ever spend, how fast, and until when without news
 * from the coordinator. Grants are cumulative for the period, so a newer lease replaces an older one whole.
 *
 * @param epoch increases with every change of this box's lease; a box ignores a lease older than the one it holds
 * @param grantedMicros the most the box may make spendable in this period (its escrow): the coordinator keeps the sum
 *     over boxes at or below the budget
 * @param rateMicrosPerSecond how fast the box may make its grant spendable while the lease is fresh (its share of the
 *     plan); also the ceiling of every degraded rate
 * @param burstMicros the most the box holds spendable at once
 * @param freshUntilMillis until when the lease is fresh; after it the box follows the budget's degradation policy
 * @param stopAtMillis when the box stops making anything spendable, whatever the policy: the coordinator counts on it
 *     to bound what a silent box can have spent
 */
public record Lease(long epoch, long grantedMicros, long rateMicrosPerSecond, long burstMicros, long freshUntilMillis,
    long stopAtMillis) {

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException when a value is negative or the stop comes before the end of freshness
   */
  public Lease {
    Values.nonNegative(epoch, "epoch");
    Values.nonNegative(grantedMicros, "grantedMicros");
    Values.nonNegative(rateMicrosPerSecond, "rateMicrosPerSecond");
    Values.nonNegative(burstMicros, "burstMicros");
    if (stopAtMillis < freshUntilMillis) {
      throw new IllegalArgumentException("stopAtMillis (" + stopAtMillis + ") must not be before freshUntilMillis ("
          + freshUntilMillis + ")");
    }
  }
}
