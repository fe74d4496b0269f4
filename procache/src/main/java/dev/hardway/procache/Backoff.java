package dev.hardway.procache;

import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with jitter (half the cap plus a random part), so that a fleet retrying after the same outage does not retry in step. */
final class Backoff {
  private Backoff() {}

  /** The pause before retry number {@code attempt} (1 for the first): uniform in [cap / 2, cap], cap = min(max, base × 2^attempt). */
  static long millis(int attempt, long baseMillis, long maxMillis) {
    long cap = Math.min(maxMillis, baseMillis << Math.min(20, Math.max(0, attempt)));
    return ThreadLocalRandom.current().nextLong(cap / 2, cap + 1);
  }

  static void sleep(int attempt, long baseMillis, long maxMillis) {
    try {
      Thread.sleep(Math.max(1, millis(attempt, baseMillis, maxMillis)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
