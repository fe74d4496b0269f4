package dev.hardway.logtiers;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every configured tier's {@link TierStats} at one moment, plus the records whose append was refused to the caller.
 *
 * @param tiers the stats of each configured tier
 */
public record LogTiersStats(Map<Tier, TierStats> tiers) {

  /**
   * Copies the map.
   *
   * @param tiers the stats of each configured tier
   */
  public LogTiersStats {
    tiers = tiers.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(tiers));
  }

  /**
   * One tier's stats.
   *
   * @param tier the tier
   * @return its stats, or empty when the tier is not configured
   */
  public Optional<TierStats> tier(Tier tier) {
    return Optional.ofNullable(tiers.get(tier));
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (Tier t : Tier.values()) {
      TierStats s = tiers.get(t);
      if (s != null) {
        b.append(String.format(java.util.Locale.ROOT, "%s: appended=%d delivered=%d dropped=%d inFlight=%d retries=%d"
            + " disk=%dB/%d latency[%s]%s%n", t, s.appended(), s.delivered(), s.droppedTotal(), s.inFlight(),
            s.retries(), s.diskBytes(), s.diskSegments(), s.deliveryLatency(), s.alarms().isEmpty() ? ""
                : " alarms=" + s.alarms()));
      }
    }
    return b.toString();
  }
}
