package dev.hardway.pacing.sim;

import java.util.Locale;

/**
 * The figures of one simulated scenario, for its measured (last) period.
 *
 * @param scenario the scenario's name
 * @param finalSpendPercent the period's true spend (counted from successful spends) as a percentage of the amount in
 *     force at its end
 * @param overspendPercent the largest true spend above the amount in force, over every period simulated, as a
 *     percentage of that amount; 0 when never above
 * @param maxGapPercent the largest gap, sampled every minute, between the cumulative spend and the target curve (the
 *     amount times the cumulative share of the period's traffic), as a percentage of the amount
 * @param slotRmsePercent the root mean square error of the spend per 15-minute slot against the target, as a
 *     percentage of the mean target per slot
 * @param newBoxSeconds seconds from a new box's start until its lease rate reached 90 % of its fair share (the total
 *     planned rate times its share of the traffic now); the slowest new box; -1 when no box joined, infinite when
 *     never within 10 minutes
 * @param newBoxSecondsFromFirstSync the same, counted from the box's first fetch of an allocation (before it, the box
 *     waits for its sync phase and nobody knows it exists)
 * @param maxCommittedPercent the largest sum of grants in any allocation, as a percentage of the amount; 0 without a
 *     coordinator
 * @param holds allocations issued without quorum
 * @param wallMillis how long the simulation took on this machine
 */
public record SimulationReport(String scenario, double finalSpendPercent, double overspendPercent,
    double maxGapPercent, double slotRmsePercent, double newBoxSeconds, double newBoxSecondsFromFirstSync,
    double maxCommittedPercent, long holds,
    long wallMillis) {

  /**
   * The header of {@link #row()}'s table.
   *
   * @return a Markdown table header
   */
  public static String header() {
    return "| scenario | final spend % | overspend % | max gap % | slot RMSE % "
        + "| new box to 90 %: s from start / from 1st sync | max committed % | holds | wall s |\n"
        + "|---|---|---|---|---|---|---|---|---|";
  }

  /**
   * This report as a Markdown table row.
   *
   * @return the row
   */
  public String row() {
    String newBox = newBoxSeconds < 0 ? "-" : Double.isInfinite(newBoxSeconds) ? "> 600"
        : String.format(Locale.ROOT, "%.0f / %.0f", newBoxSeconds, newBoxSecondsFromFirstSync);
    return String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.1f | %s | %.2f | %d | %.1f |", scenario,
        finalSpendPercent, overspendPercent, maxGapPercent, slotRmsePercent, newBox, maxCommittedPercent, holds,
        wallMillis / 1000.0);
  }
}
