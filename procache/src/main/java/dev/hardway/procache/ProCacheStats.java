package dev.hardway.procache;

/**
 * Counters of one cache at one moment (recorded only when {@link ProCache.Builder#recordStats()} is on, except the
 * failure counts, which are always kept).
 *
 * @param localHits answers from the in-process tier, fresh
 * @param redisHits answers from the Redis tier (the in-process tier missed)
 * @param homeHits answers from a home-region read (both tiers missed)
 * @param staleAnswers answers older than the refresh interval (served while refreshing, or when a load failed or
 *     missed the deadline)
 * @param unknownAnswers answers of {@link Lookup.Freshness#UNKNOWN}: nothing known within the deadline
 * @param deadlineMisses gets whose load did not finish within the deadline (answered stale or unknown)
 * @param homeLoads reads sent to the home region
 * @param homeFailures home reads that failed
 * @param breakerRejections home reads not sent because the breaker toward the home region was open
 * @param redisFailures Redis reads or writes that failed or timed out
 * @param appliedPushes pushed values that replaced an older version in the in-process tier
 * @param ignoredPushes pushed values that were not newer than what the in-process tier held (or for keys it does
 *     not hold)
 * @param shedLoads home reads not sent because {@code maxHomeLoadsInFlight} were already in flight
 * @param homePermitsFree home reads that could start now
 * @param leaseWaits polls of Redis while another process held a key's home-read lease
 */
public record ProCacheStats(long localHits, long redisHits, long homeHits, long staleAnswers, long unknownAnswers,
    long deadlineMisses, long homeLoads, long homeFailures, long breakerRejections, long redisFailures,
    long appliedPushes, long ignoredPushes, long shedLoads, long homePermitsFree, long leaseWaits) {

  /**
   * Fresh and stale answers with a value or tombstone, over all answers.
   *
   * @return the hit rate, 0 when there were no answers
   */
  public double hitRate() {
    long all = localHits + redisHits + homeHits + staleAnswers + unknownAnswers;
    return all == 0 ? 0 : (double) (localHits + redisHits + staleAnswers) / all;
  }
}
