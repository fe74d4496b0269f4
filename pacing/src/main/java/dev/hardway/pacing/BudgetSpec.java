package dev.hardway.pacing;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A budget as the coordinator is configured with it: an amount per day in a time zone (the day starts at local
 * midnight, so a 23- or 25-hour day keeps its whole amount), or an amount over a lifetime window; and what boxes do
 * when they lose the coordinator. Edit it with {@link #withAmount(long)}: the coordinator applies edits at its next
 * allocation.
 *
 * @param id the budget id
 * @param amountMicros the amount per period, in millionths of the currency unit
 * @param zone the day's time zone for a daily budget, or {@code null} for a lifetime budget
 * @param start a lifetime budget's start ({@link Instant#MIN} for daily budgets)
 * @param end a lifetime budget's end ({@link Instant#MAX} for daily budgets)
 * @param degradation what boxes do when their lease is no longer fresh
 */
public record BudgetSpec(String id, long amountMicros, @Nullable ZoneId zone, Instant start, Instant end,
    Degradation degradation) {

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException when the id is malformed, the amount negative, or the window empty
   */
  public BudgetSpec {
    Values.budgetId(id);
    Values.nonNegative(amountMicros, "amountMicros of budget " + id);
    Objects.requireNonNull(degradation, "degradation");
    if (!start.isBefore(end)) {
      throw new IllegalArgumentException("budget " + id + " must start before it ends, got " + start + " to " + end);
    }
  }

  /**
   * A daily budget, with the default degradation ({@link Degradation#LAST_RATE}).
   *
   * @param id the budget id
   * @param amountMicros the amount per day
   * @param zone the day's time zone
   * @return the spec
   */
  public static BudgetSpec daily(String id, long amountMicros, ZoneId zone) {
    return new BudgetSpec(id, amountMicros, Objects.requireNonNull(zone, "zone"), Instant.MIN, Instant.MAX,
        Degradation.LAST_RATE);
  }

  /**
   * A lifetime budget, with the default degradation.
   *
   * @param id the budget id
   * @param amountMicros the amount over the window
   * @param start when spending may start
   * @param end when it must stop
   * @return the spec
   */
  public static BudgetSpec lifetime(String id, long amountMicros, Instant start, Instant end) {
    return new BudgetSpec(id, amountMicros, null, start, end, Degradation.LAST_RATE);
  }

  /**
   * The same budget with another amount.
   *
   * @param micros the new amount per period
   * @return the edited spec
   */
  public BudgetSpec withAmount(long micros) {
    return new BudgetSpec(id, micros, zone, start, end, degradation);
  }

  /**
   * The same budget with another degradation policy.
   *
   * @param policy the policy
   * @return the edited spec
   */
  public BudgetSpec withDegradation(Degradation policy) {
    return new BudgetSpec(id, amountMicros, zone, start, end, policy);
  }

  /**
   * The period an instant falls in: the local date's epoch day for a daily budget, 0 for a lifetime budget.
   *
   * @param t the instant
   * @return the period
   */
  public long period(Instant t) {
    return zone == null ? 0 : LocalDate.ofInstant(t, zone).toEpochDay();
  }

  /**
   * When a period starts.
   *
   * @param period the period
   * @return its first instant
   */
  public Instant periodStart(long period) {
    return zone == null ? start : LocalDate.ofEpochDay(period).atStartOfDay(zone).toInstant();
  }

  /**
   * When a period ends.
   *
   * @param period the period
   * @return the first instant after it
   */
  public Instant periodEnd(long period) {
    return zone == null ? end : LocalDate.ofEpochDay(period + 1).atStartOfDay(zone).toInstant();
  }
}
