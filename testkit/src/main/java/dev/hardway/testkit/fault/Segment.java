package dev.hardway.testkit.fault;

/**
 * One entry in a direction's queue: bytes, or a marker for how the stream ends, each with the time it is due.
 *
 * @param kind what it is
 * @param bytes the data; never changed once queued
 * @param offset where the data starts
 * @param length how many bytes
 * @param deliverAt when it is due, in {@link System#nanoTime()} terms; the writer never delivers it earlier, nor before
 *     the entry queued ahead of it
 * @param bytesPerSecond a rate limit for this entry on top of the direction's bandwidth, or 0
 */
record Segment(Kind kind, byte[] bytes, int offset, int length, long deliverAt, long bytesPerSecond) {

  private static final byte[] NONE = new byte[0];

  enum Kind {
    /** Bytes to write. */
    DATA,
    /** The source half-closed: half-close the destination. */
    EOF,
    /** A {@code cutAfter} budget ran out: reset the connection. */
    RESET,
    /** An injected or truncated response went out: end the connection gracefully. */
    FINISH
  }

  static Segment marker(Kind kind, long deliverAt) {
    return new Segment(kind, NONE, 0, 0, deliverAt, 0);
  }
}
