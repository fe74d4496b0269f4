package dev.hardway.logtiers;

/**
 * Receives what the background threads cannot throw: alarms and failures. Called on a tier's own thread; keep it
 * short and never block in it. An exception thrown by a listener is caught and ignored.
 */
public interface LogTiersListener {

  /**
   * An alarm was raised or cleared.
   *
   * @param alarm what happened
   */
  default void onAlarm(Alarm alarm) {}

  /**
   * A background step failed and will be retried (an upload, a PutRecords call, a journal write).
   *
   * @param tier the tier whose thread failed
   * @param failure what went wrong
   */
  default void onFailure(Tier tier, Throwable failure) {}

  /** A listener that ignores everything. */
  LogTiersListener NONE = new LogTiersListener() {};
}
