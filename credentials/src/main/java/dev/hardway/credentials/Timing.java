package dev.hardway.credentials;

import java.time.Duration;
import java.util.random.RandomGenerator;

/** The timing rules the broker and the chain share: option ranges, early refresh points and retry backoff. */
final class Timing {
  private Timing() {}

  /** The duration, if within [min, max]; else an error naming the option and the value. */
  static Duration within(Duration d, Duration min, Duration max, String option) {
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw new IllegalArgumentException(option + " must be between " + min + " and " + max + ", got " + d);
    }
    return d;
  }

  /**
   * When to refresh credentials that stay usable this long: at a random point between half and three quarters of
   * it — early, and spread so that many processes started together do not refresh together.
   */
  static long refreshInMillis(long usableMillis, RandomGenerator random) {
    return (long) (usableMillis * (0.5 + 0.25 * random.nextDouble()));
  }

  /**
   * The wait before the next attempt after {@code failures} failures in a row: the base doubled per failure, capped,
   * with equal jitter (at least half of it), so that retries neither stampede nor come back at once.
   */
  static long backoffMillis(Duration base, Duration max, int failures, RandomGenerator random) {
    long doubled = base.toMillis() << Math.min(20, Math.max(0, failures - 1));
    long cap = Math.min(max.toMillis(), doubled);
    return cap / 2 + (long) (random.nextDouble() * (cap - cap / 2));
  }
}
