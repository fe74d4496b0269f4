package dev.hardway.testkit.fault;

/**
 * Where one direction of a connection sends what its reader produced: the direction's queue to its writer. The HTTP
 * framers emit through it, so they can be tested without sockets.
 */
interface FrameOutput {

  /**
   * Queues bytes for delivery. The array must not change afterwards.
   *
   * @param arrivalNanos when the bytes were read, from {@link System#nanoTime()}
   * @param extraDelayNanos delay on top of the TCP latency (an HTTP {@code delay})
   * @param bytesPerSecond a rate limit for these bytes on top of the TCP bandwidth (an HTTP {@code slowBody}), or 0
   */
  void data(byte[] bytes, int offset, int length, long arrivalNanos, long extraDelayNanos, long bytesPerSecond)
      throws InterruptedException;

  /** Queues the end of the stream: the writer half-closes its side once everything before is delivered. */
  void eof(long arrivalNanos) throws InterruptedException;

  /**
   * Queues a graceful end of the whole connection, after an injected or truncated response: the writer half-closes
   * towards the client, waits a little for the client to close, then closes both sides.
   */
  void finish(long arrivalNanos, long extraDelayNanos) throws InterruptedException;
}
