package dev.hardway.logtiers.internal;

/**
 * The background side of one tier: it drains the tier's ring and delivers. Failures never escape it: they are
 * retried, counted and told to the listener.
 */
public interface TierWorker {

  /** Starts the worker's threads (recovery of what an earlier run left on disk included). */
  void start();

  /**
   * Everything appended before this call is delivered or durable on local disk (a no-op where there is no disk).
   *
   * @param deadlineNanos {@link System#nanoTime()} by which to give up
   * @return true when it got there before the deadline
   * @throws InterruptedException when the waiting thread is interrupted
   */
  default boolean awaitDurable(long deadlineNanos) throws InterruptedException {
    return true;
  }

  /**
   * Drains the ring (appends are already refused), delivers what it can until the deadline, and stops every thread.
   * What a tier with a journal could not deliver stays on disk for the next run; what the low tier could not deliver
   * is dropped and counted as {@code CLOSED}.
   *
   * @param deadlineNanos {@link System#nanoTime()} by which to stop
   */
  void close(long deadlineNanos);
}
