package dev.hardway.procache;

import org.jspecify.annotations.Nullable;

/**
 * What a {@link ProCache#get} answered, always within its deadline. A fresh hit in the in-process tier returns the
 * cached entry itself, so it allocates nothing.
 *
 * @param <V> the value type
 */
public interface Lookup<V> {

  /** How good an answer is. */
  enum Freshness {
    /** The value, no older than the cache's refresh interval. */
    FRESH,
    /** A value older than the refresh interval (but within the maximum staleness): a refresh is under way. */
    STALE,
    /** The key has no value (a tombstone or a cached miss). */
    ABSENT,
    /** Nothing known within the deadline: no value, no tombstone. The load goes on and fills the cache. */
    UNKNOWN
  }

  /** Where an answer came from. */
  enum Source {
    /** The in-process tier. */
    LOCAL,
    /** The regional Redis tier. */
    REDIS,
    /** A read from the home region. */
    HOME,
    /** Nowhere: {@link Freshness#UNKNOWN}. */
    NONE
  }

  /**
   * How good the answer is.
   *
   * @return the freshness
   */
  Freshness freshness();

  /**
   * The value, when there is one.
   *
   * @return the value, or {@code null} for {@link Freshness#ABSENT} and {@link Freshness#UNKNOWN}
   */
  @Nullable V value();

  /**
   * The version of the value (or of the tombstone).
   *
   * @return the version, or -1 for {@link Freshness#UNKNOWN}
   */
  long version();

  /**
   * Where the answer came from.
   *
   * @return the source
   */
  Source source();

  /**
   * Whether there is a value to use ({@link Freshness#FRESH} or {@link Freshness#STALE}).
   *
   * @return true when {@link #value()} is not {@code null}
   */
  default boolean hasValue() {
    return value() != null;
  }
}
