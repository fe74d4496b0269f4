package dev.hardway.pacing;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * An immutable snapshot of a {@link PacerSync}.
 *
 * @param reportsSent report records put on the stream
 * @param reportFailures report records that could not be put (the next cumulative report supersedes each)
 * @param fetches allocation fetches that got an answer
 * @param notModified fetches answered 304: the allocation had not changed
 * @param applied allocations taken by the pacer (newer than the one held)
 * @param fetchFailures fetches that failed (the pacer's leases age and it degrades on its own)
 * @param lastFetch when the allocation was last fetched or confirmed unchanged, or {@code null}
 * @param lastError what the last failure said, or {@code null}
 */
public record SyncStats(long reportsSent, long reportFailures, long fetches, long notModified, long applied,
    long fetchFailures, @Nullable Instant lastFetch, @Nullable String lastError) {}
