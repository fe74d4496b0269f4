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
 * @param homeReadUnits read capacity units the home loads cost ({@code homeLoads} × the configured units per load)
 * @param redisLoadLatency how long Redis reads of missed keys took
 * @param homeLoadLatency how long home loads took (the {@link HomeLoader} call)
 */
public record ProCacheStats(long localHits, long redisHits, long homeHits, long staleAnswers, long unknownAnswers,
    long deadlineMisses, long homeLoads, long homeFailures, long breakerRejections, long redisFailures,
    long appliedPushes, long ignoredPushes, long shedLoads, long homePermitsFree, long leaseWaits,
    double homeReadUnits, Latency redisLoadLatency, Latency homeLoadLatency) {

  /**
   * A latency distribution since the cache started (recorded with {@code recordStats}).
   *
   * @param count values recorded
   * @param p50Micros the median, µs
   * @param p99Micros the 99th percentile, µs
   * @param p999Micros the 99.9th percentile, µs
   * @param maxMicros the largest, µs
   */
  public record Latency(long count, long p50Micros, long p99Micros, long p999Micros, long maxMicros) {
    static Latency of(org.HdrHistogram.AbstractHistogram recording) {
      // A copy is consistent while other threads record.
      org.HdrHistogram.AbstractHistogram h = recording.copy();
      return new Latency(h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(99),
          h.getValueAtPercentile(99.9), h.getMaxValue());
    }
  }

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
