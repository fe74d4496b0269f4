package dev.hardway.logtiers;

/** The three delivery tiers; a log type is routed to one or more of them. */
public enum Tier {
  /** Kinesis: readable about a second after the append; drops are allowed and every one is counted by reason. */
  LOW,
  /** The main-region S3 bucket through a local journal: within 20 minutes, and an acknowledged record is never lost. */
  MID,
  /** The source-region S3 bucket through a local spool, replicated to the main bucket later: hours, bounded loss. */
  HIGH
}
