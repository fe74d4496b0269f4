package dev.hardway.logtiers;

/** Why a record routed to a tier was not delivered by it; each is counted per tier in {@link TierStats}. */
public enum DropReason {
  /** A lossy tier's ring was full at the append (drop newest). */
  RING_FULL,
  /** The mid tier refused the record to the caller ({@link AppendResult#REJECTED}); the caller keeps it. */
  REJECTED,
  /** Too large for the destination: a Kinesis record is at most 1 MiB with its partition key. */
  TOO_LARGE,
  /** Not delivered within the low tier's record time-to-live (Kinesis throttling or unreachable). */
  EXPIRED,
  /** The high tier's spool reached its disk budget and its oldest segment was discarded. */
  SPOOL_FULL,
  /**
   * Appended after {@link LogTiers#close()} began (lossy tiers), or neither delivered nor on local disk when close
   * reached its deadline (in the low tier; in an S3 tier only when its disk refused the last writes).
   */
  CLOSED
}
