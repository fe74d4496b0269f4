package dev.hardway.logtiers.internal;

import dev.hardway.logtiers.Alarm;
import dev.hardway.logtiers.LogTiersListener;
import dev.hardway.logtiers.Tier;
import java.time.InstantSource;
import java.util.concurrent.ThreadFactory;
import java.util.random.RandomGenerator;

/**
 * What every tier worker gets from the {@code LogTiers} that owns it.
 *
 * @param host the host name written into records and keys
 * @param region the region written into keys
 * @param boot this instance's boot id
 * @param clock the wall clock (timestamps, partitions, latency)
 * @param threads makes the workers' threads
 * @param listener hears alarms and failures
 * @param random jitter for backoff
 */
public record TierContext(String host, String region, long boot, InstantSource clock, ThreadFactory threads,
    LogTiersListener listener, RandomGenerator random) {

  /**
   * Raises or clears an alarm: counted in the tier's stats and told to the listener once per change.
   *
   * @param counters the tier's counters
   * @param kind what
   * @param message details, naming the bucket, stream, file or value
   * @param raised raise or clear
   */
  public void alarm(TierCounters counters, Alarm.Kind kind, String message, boolean raised) {
    if (counters.alarm(kind, raised)) {
      try {
        listener.onAlarm(new Alarm(counters.tier(), kind, message, raised, clock.instant()));
      } catch (RuntimeException ignored) {
        // A listener's failure must not stop delivery.
      }
    }
  }

  /**
   * Tells the listener about a failure that will be retried.
   *
   * @param tier the tier
   * @param failure what went wrong
   */
  public void failure(Tier tier, Throwable failure) {
    try {
      listener.onFailure(tier, failure);
    } catch (RuntimeException ignored) {
      // A listener's failure must not stop delivery.
    }
  }

  /**
   * The wall clock in microseconds since the epoch.
   *
   * @return now
   */
  public long nowMicros() {
    java.time.Instant now = clock.instant();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  /**
   * The wait before the next attempt after {@code failures} failures in a row: the base doubled per failure, capped,
   * with equal jitter (at least half of it), so that retries neither stampede nor come back at once.
   *
   * @param baseMillis the first wait
   * @param maxMillis the cap
   * @param failures failures in a row, from 1
   * @return milliseconds to wait
   */
  public long backoffMillis(long baseMillis, long maxMillis, int failures) {
    long doubled = baseMillis << Math.min(30, Math.max(0, failures - 1));
    long cap = Math.max(1, Math.min(maxMillis, doubled));
    return cap / 2 + (long) (random.nextDouble() * (cap - cap / 2));
  }
}
