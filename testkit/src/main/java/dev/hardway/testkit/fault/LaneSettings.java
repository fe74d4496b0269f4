package dev.hardway.testkit.fault;

/**
 * The TCP faults of one direction, replaced whole on every change so that a reader sees one consistent set.
 *
 * @param latencyNanos fixed delay added to every byte
 * @param jitterNanos upper bound of the uniform random delay added on top
 * @param bytesPerSecond bandwidth limit per connection, 0 for none
 * @param cutAfter bytes each connection may still carry before it is reset, -1 for no limit
 * @param cutGeneration changes with every {@code cutAfter} call, so that open connections restart their count
 */
record LaneSettings(long latencyNanos, long jitterNanos, long bytesPerSecond, long cutAfter, long cutGeneration) {

  static final LaneSettings NONE = new LaneSettings(0, 0, 0, -1, 0);

  LaneSettings withLatency(long latency, long jitter) {
    return new LaneSettings(latency, jitter, bytesPerSecond, cutAfter, cutGeneration);
  }

  LaneSettings withBandwidth(long rate) {
    return new LaneSettings(latencyNanos, jitterNanos, rate, cutAfter, cutGeneration);
  }

  LaneSettings withCut(long bytes, long generation) {
    return new LaneSettings(latencyNanos, jitterNanos, bytesPerSecond, bytes, generation);
  }
}
