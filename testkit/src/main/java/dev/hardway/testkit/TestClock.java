package dev.hardway.testkit;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock tests move by hand, for the servers' notion of time (credential expiry, stream iterator expiry, record
 * times). Thread-safe.
 *
 * <pre>{@code
 * TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
 * try (StsServer sts = StsServer.builder().clock(clock).start()) {
 *   // … assume a role for 900 s …
 *   clock.advance(Duration.ofSeconds(901));   // the credentials are now expired
 * }
 * }</pre>
 */
public final class TestClock implements InstantSource {

  private final AtomicReference<Instant> now;

  private TestClock(Instant start) {
    this.now = new AtomicReference<>(start);
  }

  /**
   * A clock showing the given time until moved.
   *
   * @param start the initial time
   * @return the clock
   */
  public static TestClock at(Instant start) {
    return new TestClock(Objects.requireNonNull(start, "start"));
  }

  /**
   * A clock showing the current wall-clock time until moved.
   *
   * @return the clock
   */
  public static TestClock ofNow() {
    return at(Instant.now());
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  /**
   * Moves the clock forward.
   *
   * @param amount a non-negative duration
   * @return the new time
   * @throws IllegalArgumentException when negative
   */
  public Instant advance(Duration amount) {
    if (amount == null || amount.isNegative()) {
      throw new IllegalArgumentException("advance takes a non-negative duration, got " + amount);
    }
    return now.updateAndGet(t -> t.plus(amount));
  }

  /**
   * Sets the clock, also backwards (to test clock steps).
   *
   * @param instant the new time
   */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  @Override
  public String toString() {
    return "TestClock[" + now.get() + "]";
  }
}
