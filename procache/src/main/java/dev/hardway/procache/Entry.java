package dev.hardway.procache;

import org.jspecify.annotations.Nullable;

/** An in-process entry; a fresh hit returns it as the answer, so a hit allocates nothing. */
final class Entry<V> implements Lookup<V> {
  final @Nullable V value;
  final long version;
  final long writtenAtMicros;
  final long loadedAtNanos;
  /** Until when (ticker nanos) a get may answer this entry as it is: the hit path's one comparison. */
  final long freshUntilNanos;
  final Source source;

  Entry(Versioned<V> v, long loadedAtNanos, long freshForNanos, long absentForNanos, Source source) {
    this.value = v.value();
    this.version = v.version();
    this.writtenAtMicros = v.writtenAtMicros();
    this.loadedAtNanos = loadedAtNanos;
    this.freshUntilNanos = loadedAtNanos + (value == null ? Math.min(freshForNanos, absentForNanos) : freshForNanos);
    this.source = source;
  }

  @Override
  public Freshness freshness() {
    return value == null ? Freshness.ABSENT : Freshness.FRESH;
  }

  @Override
  public @Nullable V value() {
    return value;
  }

  @Override
  public long version() {
    return version;
  }

  @Override
  public Source source() {
    return source;
  }

  Lookup<V> stale() {
    return new Answer<>(value == null ? Freshness.ABSENT : Freshness.STALE, value, version, source);
  }

  @Override
  public String toString() {
    return freshness() + " v" + version + " from " + source;
  }

  /** An answer that is not a fresh entry. */
  record Answer<V>(Freshness freshness, @Nullable V value, long version, Source source) implements Lookup<V> {}

  @SuppressWarnings("rawtypes")
  static final Lookup UNKNOWN = new Answer<>(Freshness.UNKNOWN, null, -1, Source.NONE);
}
