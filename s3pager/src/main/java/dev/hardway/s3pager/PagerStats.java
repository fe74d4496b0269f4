package dev.hardway.s3pager;

import java.time.Duration;
import java.util.Optional;

/**
 * An immutable snapshot of one paged object's counters, all since it was opened.
 *
 * @param mode how pages arrive
 * @param faults page faults the handler saw (zero in explicit-only mode)
 * @param stalls faults on chunks that were not resident or being fetched ahead: a reader waited for S3
 * @param markerHits touches of a readahead marker page (served at once, moving the window on)
 * @param fetches chunk fetches started (a fetch is one GET unless it is retried)
 * @param bytesFetched bytes of the object fetched and installed so far (retried bytes not counted twice)
 * @param retries GETs retried after a transient failure (503, reset, truncated body)
 * @param evictions chunks dropped to stay within the memory budget
 * @param residentBytes bytes resident now, by the engine's count
 * @param maxResidentBytes the most bytes resident at once
 * @param timeToFirstByte from open until the first bytes were installed, if any were
 */
public record PagerStats(
    PagingMode mode,
    long faults,
    long stalls,
    long markerHits,
    long fetches,
    long bytesFetched,
    long retries,
    long evictions,
    long residentBytes,
    long maxResidentBytes,
    Optional<Duration> timeToFirstByte) {

  static PagerStats of(PagingMode mode, long[] c) {
    return new PagerStats(mode, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8],
        c[9] < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(c[9])));
  }

  static PagerStats empty(PagingMode mode) {
    return new PagerStats(mode, 0, 0, 0, 0, 0, 0, 0, 0, 0, Optional.empty());
  }
}
