package dev.hardway.logtiers.internal;

import dev.hardway.logtiers.Tier;
import java.nio.ByteBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * One tier's off-heap ring and counters: appending threads claim, write and commit a frame (lock-free, no
 * allocation); the tier's worker is the single consumer.
 */
public final class TierChannel {
  /** The message type of every frame in a ring. */
  public static final int FRAME = 1;

  private final Tier tier;
  private final RingBuffer ring;
  private final TierCounters counters;
  private final long blockWhenFullNanos;

  /**
   * A channel with a fresh ring.
   *
   * @param tier the tier
   * @param ringBytes the ring's capacity, a power of two
   * @param blockWhenFullNanos how long an append waits for room (mid tier only)
   */
  public TierChannel(Tier tier, int ringBytes, long blockWhenFullNanos) {
    this.tier = tier;
    this.ring = new ManyToOneRingBuffer(new UnsafeBuffer(
        ByteBuffer.allocateDirect(ringBytes + RingBufferDescriptor.TRAILER_LENGTH)));
    this.counters = new TierCounters(tier);
    this.blockWhenFullNanos = blockWhenFullNanos;
  }

  /**
   * The tier.
   *
   * @return the tier
   */
  public Tier tier() {
    return tier;
  }

  /**
   * The ring; frames are messages of type {@link #FRAME}, their CRC field still zero (the worker fills it in).
   *
   * @return the ring
   */
  public RingBuffer ring() {
    return ring;
  }

  /**
   * The tier's counters.
   *
   * @return the counters
   */
  public TierCounters counters() {
    return counters;
  }

  /**
   * How long an append waits for room.
   *
   * @return nanoseconds; zero never waits
   */
  public long blockWhenFullNanos() {
    return blockWhenFullNanos;
  }
}
