package dev.hardway.logtiers;

/** What became of one {@link LogType#append}. */
public enum AppendResult {
  /** Every tier the type is routed to took the record. */
  ACCEPTED,
  /**
   * A lossy tier (low or high) had no room and dropped the record (counted as {@link DropReason#RING_FULL}); any
   * other tier took it.
   */
  DROPPED,
  /**
   * The mid tier refused the record (its ring stayed full past the configured wait, or the tiers are closed): it is in
   * no lossless tier, and the caller still holds the only safe copy. Counted as {@link DropReason#REJECTED}.
   */
  REJECTED
}
