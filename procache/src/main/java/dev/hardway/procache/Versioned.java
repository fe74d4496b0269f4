package dev.hardway.procache;

import org.jspecify.annotations.Nullable;

/**
 * A value with the version that orders it against every other value of its key, and the time the home region wrote
 * it. A larger version always wins, in every tier; an equal one changes nothing (duplicates are harmless).
 *
 * @param value the value, or {@code null} when the key has no value (deleted, never written): a tombstone
 * @param version the value's version: a number that grows with every write of the key, such as the item's own
 *     version attribute or its write time in microseconds; 0 to 2<sup>53</sup> (Redis compares versions in Lua,
 *     whose numbers are doubles)
 * @param writtenAtMicros when the home region wrote it, microseconds since the epoch (staleness is measured from it)
 * @param <V> the value type
 */
public record Versioned<V>(@Nullable V value, long version, long writtenAtMicros) {
  /** The largest version Redis compares exactly. */
  public static final long MAX_VERSION = 1L << 53;

  /**
   * Checks the version.
   *
   * @param value the value or {@code null}
   * @param version 0 to {@link #MAX_VERSION}
   * @param writtenAtMicros the home write time
   */
  public Versioned {
    if (version < 0 || version > MAX_VERSION) {
      throw new IllegalArgumentException("version must be between 0 and 2^53, got " + version);
    }
  }

  /**
   * A value.
   *
   * @param value the value
   * @param version its version
   * @param writtenAtMicros when the home region wrote it
   * @param <V> the value type
   * @return the versioned value
   */
  public static <V> Versioned<V> of(V value, long version, long writtenAtMicros) {
    return new Versioned<>(value, version, writtenAtMicros);
  }

  /**
   * The absence of a value at a version (a delete, or a key the home region does not have).
   *
   * @param version its version
   * @param writtenAtMicros when the home region wrote it
   * @param <V> the value type
   * @return the tombstone
   */
  public static <V> Versioned<V> absent(long version, long writtenAtMicros) {
    return new Versioned<>(null, version, writtenAtMicros);
  }

  /**
   * Whether this is a tombstone.
   *
   * @return true when there is no value
   */
  public boolean isAbsent() {
    return value == null;
  }
}
