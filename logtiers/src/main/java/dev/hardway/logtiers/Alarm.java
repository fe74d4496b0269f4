package dev.hardway.logtiers;

import java.time.Instant;

/**
 * A condition that needs a person, raised and later cleared by a tier's background thread. Data is never discarded
 * because of an alarm: the mid tier keeps everything on disk until the condition clears.
 *
 * @param tier the tier that raised it
 * @param kind what is wrong
 * @param message what happened, naming the bucket, stream, file or value involved
 * @param raised true when the condition starts, false when it clears
 * @param at when it was observed
 */
public record Alarm(Tier tier, Kind kind, String message, boolean raised, Instant at) {

  /** The kinds of alarm. */
  public enum Kind {
    /** The destination refuses writes for good until someone acts: 403 Access Denied, no such bucket or stream. */
    DESTINATION_REFUSED,
    /** The journal or spool reached its disk quota; the mid tier stops taking records (appends are refused). */
    DISK_QUOTA,
    /** Writing or syncing the journal failed (I/O error, disk full); the batch is kept and written again. */
    DISK_ERROR,
    /** An object with the journal segment's key exists in S3 with different content; the segment is kept. */
    KEY_CONFLICT,
    /** Records waited longer than the tier's delivery target (the mid tier's 20 minutes, say). */
    DELIVERY_LATE
  }
}
