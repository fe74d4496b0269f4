package dev.hardway.logtiers;

import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/**
 * One tier's counters at one moment. For the records appended by this instance,
 * {@code appended = delivered + droppedTotal() + inFlight} always holds. Records found on disk at start-up, left by an
 * earlier run, are counted apart ({@link #recovered}, {@link #recoveredDelivered}, {@link #recoveredDropped}).
 *
 * @param tier the tier
 * @param appended records routed to this tier by {@link LogType#append}, whatever became of them
 * @param delivered records the destination confirmed
 * @param dropped records dropped, by reason (every reason present, zero when none)
 * @param inFlight records appended but neither delivered nor dropped yet: in the ring, a batch, or on disk
 * @param retries failed delivery attempts that were retried
 * @param deliveryLatency from append (the record's timestamp) to the destination's confirmation
 * @param diskBytes bytes in the journal or spool directory (zero for the low tier)
 * @param diskSegments segment files in the directory, the open one included
 * @param recovered records found on disk at start-up, written by an earlier run
 * @param recoveredDelivered of those, how many are delivered since
 * @param recoveredDropped of those, how many the high tier discarded to stay within its disk budget
 * @param corruptRegions torn or damaged regions skipped while reading segments back (a frame whose length, version
 *     or CRC32C did not check out, up to the next valid frame); the records in them are lost
 * @param queuedBytes bytes waiting in the tier's ring for its background thread
 * @param alarms alarms currently raised
 */
public record TierStats(Tier tier, long appended, long delivered, Map<DropReason, Long> dropped, long inFlight,
    long retries, Latency deliveryLatency, long diskBytes, long diskSegments, long recovered, long recoveredDelivered,
    long recoveredDropped, long corruptRegions, long queuedBytes, Set<Alarm.Kind> alarms) {

  /**
   * Copies the maps and sets.
   *
   * @param tier the tier
   * @param appended appended records
   * @param delivered delivered records
   * @param dropped dropped records by reason
   * @param inFlight records in flight
   * @param retries retries
   * @param deliveryLatency delivery latency
   * @param diskBytes bytes on disk
   * @param diskSegments segments on disk
   * @param recovered records recovered at start-up
   * @param recoveredDelivered recovered records delivered
   * @param recoveredDropped recovered records discarded
   * @param corruptRegions damaged regions skipped
   * @param queuedBytes bytes in the ring
   * @param alarms raised alarms
   */
  public TierStats {
    EnumMap<DropReason, Long> all = new EnumMap<>(DropReason.class);
    for (DropReason r : DropReason.values()) {
      all.put(r, dropped.getOrDefault(r, 0L));
    }
    dropped = Map.copyOf(all);
    alarms = Set.copyOf(alarms);
  }

  /**
   * All records dropped, whatever the reason.
   *
   * @return the sum of {@link #dropped}
   */
  public long droppedTotal() {
    long sum = 0;
    for (long n : dropped.values()) {
      sum += n;
    }
    return sum;
  }

  /**
   * Records dropped for one reason.
   *
   * @param reason the reason
   * @return the count
   */
  public long dropped(DropReason reason) {
    return dropped.get(reason);
  }

  /**
   * A latency distribution in microseconds.
   *
   * @param count how many values
   * @param p50Micros median
   * @param p99Micros 99th percentile
   * @param p999Micros 99.9th percentile
   * @param maxMicros largest
   */
  public record Latency(long count, long p50Micros, long p99Micros, long p999Micros, long maxMicros) {
    @Override
    public String toString() {
      return count == 0 ? "n=0" : String.format(java.util.Locale.ROOT, "n=%d p50=%.1fms p99=%.1fms p99.9=%.1fms max=%.1fms",
          count, p50Micros / 1e3, p99Micros / 1e3, p999Micros / 1e3, maxMicros / 1e3);
    }
  }
}
