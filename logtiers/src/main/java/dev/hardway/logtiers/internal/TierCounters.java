package dev.hardway.logtiers.internal;

import dev.hardway.logtiers.Alarm;
import dev.hardway.logtiers.DropReason;
import dev.hardway.logtiers.Tier;
import dev.hardway.logtiers.TierStats;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * One tier's counters. {@code appended} is striped (appending threads contend on it); the rest are written by the
 * tier's own threads. Read {@code delivered} and {@code dropped} before {@code appended} so that the in-flight figure
 * is never negative.
 */
public final class TierCounters {
  private final Tier tier;
  private final LongAdder appended = new LongAdder();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLongArray dropped = new AtomicLongArray(DropReason.values().length);
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong diskBytes = new AtomicLong();
  private final AtomicLong diskSegments = new AtomicLong();
  private final AtomicLong recovered = new AtomicLong();
  private final AtomicLong recoveredDelivered = new AtomicLong();
  private final AtomicLong recoveredDropped = new AtomicLong();
  private final AtomicLong corruptRegions = new AtomicLong();
  private final Histogram latency = new Histogram(3_600_000_000L * 24, 2);
  private final EnumSet<Alarm.Kind> alarms = EnumSet.noneOf(Alarm.Kind.class);

  /**
   * Counters of one tier.
   *
   * @param tier the tier
   */
  public TierCounters(Tier tier) {
    this.tier = tier;
  }

  /**
   * The tier counted.
   *
   * @return the tier
   */
  public Tier tier() {
    return tier;
  }

  /** One record routed to this tier (whatever became of it). */
  public void appended() {
    appended.increment();
  }

  /**
   * Records the destination confirmed.
   *
   * @param n how many
   */
  public void delivered(long n) {
    delivered.addAndGet(n);
  }

  /**
   * Records dropped.
   *
   * @param reason why
   * @param n how many
   */
  public void dropped(DropReason reason, long n) {
    dropped.addAndGet(reason.ordinal(), n);
  }

  /** One failed attempt that will be retried. */
  public void retried() {
    retries.incrementAndGet();
  }

  /**
   * The journal's size now.
   *
   * @param bytes bytes on disk
   * @param segments segment files
   */
  public void disk(long bytes, long segments) {
    diskBytes.set(bytes);
    diskSegments.set(segments);
  }

  /**
   * Records found on disk at start-up.
   *
   * @param n how many
   */
  public void recovered(long n) {
    recovered.addAndGet(n);
  }

  /**
   * Recovered records delivered.
   *
   * @param n how many
   */
  public void recoveredDelivered(long n) {
    recoveredDelivered.addAndGet(n);
  }

  /**
   * Recovered records discarded.
   *
   * @param n how many
   */
  public void recoveredDropped(long n) {
    recoveredDropped.addAndGet(n);
  }

  /**
   * Damaged regions skipped while reading a segment back.
   *
   * @param n how many
   */
  public void corruptRegions(long n) {
    corruptRegions.addAndGet(n);
  }

  /**
   * One record's delivery latency.
   *
   * @param micros from its timestamp to confirmation; negative values (a clock step) count as zero
   */
  public void latency(long micros) {
    synchronized (latency) {
      latency.recordValue(Math.min(Math.max(0, micros), latency.getHighestTrackableValue()));
    }
  }

  /**
   * Raises or clears an alarm kind.
   *
   * @param kind the kind
   * @param raised true to raise
   * @return whether this changed the state (so the listener hears each change once)
   */
  public boolean alarm(Alarm.Kind kind, boolean raised) {
    synchronized (alarms) {
      return raised ? alarms.add(kind) : alarms.remove(kind);
    }
  }

  /**
   * A snapshot.
   *
   * @return the stats
   */
  public TierStats snapshot() {
    return snapshot(0);
  }

  /**
   * A snapshot.
   *
   * @param queuedBytes bytes waiting in the ring now
   * @return the stats
   */
  public TierStats snapshot(long queuedBytes) {
    long deliveredNow = delivered.get();
    EnumMap<DropReason, Long> drops = new EnumMap<>(DropReason.class);
    long droppedNow = 0;
    for (DropReason r : DropReason.values()) {
      long n = dropped.get(r.ordinal());
      drops.put(r, n);
      droppedNow += n;
    }
    long appendedNow = appended.sum();
    TierStats.Latency l;
    synchronized (latency) {
      l = new TierStats.Latency(latency.getTotalCount(), latency.getValueAtPercentile(50),
          latency.getValueAtPercentile(99), latency.getValueAtPercentile(99.9), latency.getMaxValue());
    }
    Set<Alarm.Kind> raised;
    synchronized (alarms) {
      raised = Set.copyOf(alarms);
    }
    return new TierStats(tier, appendedNow, deliveredNow, drops, Math.max(0, appendedNow - deliveredNow - droppedNow),
        retries.get(), l, diskBytes.get(), diskSegments.get(), recovered.get(), recoveredDelivered.get(),
        recoveredDropped.get(), corruptRegions.get(), queuedBytes, raised);
  }
}
