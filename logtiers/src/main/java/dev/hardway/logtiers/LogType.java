package dev.hardway.logtiers;

import dev.hardway.logtiers.internal.TierChannel;
import dev.hardway.logtiers.internal.TierCounters;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.LockSupport;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The append handle of one log type, from {@link LogTiers#type(String)}. Keep it in a field: {@code append} is the hot
 * path, lock-free and allocation-free, safe from any number of threads.
 *
 * <pre>{@code
 * LogType auctions = tiers.type("auction");
 * AppendResult r = auctions.append(encodedAuction, 0, length);   // ~tens of ns, never blocks by default
 * }</pre>
 */
public final class LogType {
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  private static final int CLOSED = Integer.MIN_VALUE;

  private final LogTiers owner;
  private final String name;
  private final TierChannel[] channels;
  private final UnsafeBuffer names;
  private final int nameBytes;
  private final int descriptor;

  LogType(LogTiers owner, String name, byte[] hostBytes, TierChannel[] channels) {
    this.owner = owner;
    this.name = name;
    this.channels = channels;
    byte[] typeBytes = name.getBytes(StandardCharsets.UTF_8);
    byte[] both = new byte[hostBytes.length + typeBytes.length];
    System.arraycopy(hostBytes, 0, both, 0, hostBytes.length);
    System.arraycopy(typeBytes, 0, both, hostBytes.length, typeBytes.length);
    this.names = new UnsafeBuffer(both);
    this.nameBytes = both.length;
    // version, host length, type length, flags: bytes 8..11 of every frame of this type.
    this.descriptor = (LogRecords.VERSION & 0xFF) | (hostBytes.length << 8) | (typeBytes.length << 16);
  }

  /**
   * The type's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Appends a whole array as one record.
   *
   * @param payload the record's bytes, copied before this returns
   * @return what became of it
   * @throws IllegalArgumentException when the payload is longer than {@link LogTiers.Builder#maxRecordBytes}
   */
  public AppendResult append(byte[] payload) {
    return append(payload, 0, payload.length);
  }

  /**
   * Appends part of an array as one record.
   *
   * @param payload the bytes
   * @param offset where the record starts
   * @param length its length
   * @return what became of it
   * @throws IllegalArgumentException when the length is over {@link LogTiers.Builder#maxRecordBytes}
   */
  public AppendResult append(byte[] payload, int offset, int length) {
    if (offset < 0 || length < 0 || offset > payload.length - length) {
      throw new IndexOutOfBoundsException("offset " + offset + " and length " + length + " outside an array of "
          + payload.length);
    }
    return append(payload, null, offset, length);
  }

  /**
   * Appends a range of an Agrona buffer as one record.
   *
   * @param payload the buffer
   * @param offset where the record starts
   * @param length its length
   * @return what became of it
   * @throws IllegalArgumentException when the length is over {@link LogTiers.Builder#maxRecordBytes}
   */
  public AppendResult append(DirectBuffer payload, int offset, int length) {
    return append(null, payload, offset, length);
  }

  /** The hot path: exactly one of {@code array} and {@code buffer} is set (a branch the CPU predicts, no lambda). */
  private AppendResult append(byte @Nullable [] array, @Nullable DirectBuffer buffer, int offset, int length) {
    checkLength(length);
    long sequence = owner.nextSequence();
    long timestamp = owner.nowMicros();
    AppendResult result = AppendResult.ACCEPTED;
    for (TierChannel channel : channels) {
      int index = claim(channel, length);
      if (index < 0) {
        result = refused(channel, result, index == CLOSED);
        continue;
      }
      AtomicBuffer b = channel.ring().buffer();
      int payloadAt = writeHeader(b, index, length, sequence, timestamp);
      if (array != null) {
        b.putBytes(payloadAt, array, offset, length);
      } else if (buffer != null) {
        b.putBytes(payloadAt, buffer, offset, length);
      }
      channel.ring().commit(index);
    }
    return result;
  }

  private void checkLength(int length) {
    if (length < 0 || length > owner.maxRecordBytes()) {
      throw new IllegalArgumentException("record of type '" + name + "' is " + length + " bytes; maxRecordBytes is "
          + owner.maxRecordBytes());
    }
  }

  private int claim(TierChannel channel, int length) {
    TierCounters counters = channel.counters();
    counters.appended();
    if (owner.isClosed()) {
      return CLOSED;
    }
    RingBuffer ring = channel.ring();
    int frameLength = LogRecords.HEADER_LENGTH + nameBytes + length;
    int index = ring.tryClaim(TierChannel.FRAME, frameLength);
    if (index < 0 && channel.blockWhenFullNanos() > 0) {
      long deadline = System.nanoTime() + channel.blockWhenFullNanos();
      long park = 1_000;
      while (index < 0 && System.nanoTime() - deadline < 0) {
        if (owner.isClosed()) {
          return CLOSED;
        }
        LockSupport.parkNanos(park);
        park = Math.min(park * 2, 1_000_000);
        index = ring.tryClaim(TierChannel.FRAME, frameLength);
      }
    }
    return index;
  }

  private int writeHeader(AtomicBuffer b, int index, int length, long sequence, long timestamp) {
    b.putInt(index + LogRecords.LENGTH_OFFSET, LogRecords.HEADER_LENGTH + nameBytes + length, LE);
    b.putInt(index + LogRecords.CRC_OFFSET, 0, LE);
    b.putInt(index + LogRecords.VERSION_OFFSET, descriptor, LE);
    b.putLong(index + LogRecords.BOOT_OFFSET, owner.boot(), LE);
    b.putLong(index + LogRecords.SEQUENCE_OFFSET, sequence, LE);
    b.putLong(index + LogRecords.TIMESTAMP_OFFSET, timestamp, LE);
    b.putBytes(index + LogRecords.HEADER_LENGTH, names, 0, nameBytes);
    return index + LogRecords.HEADER_LENGTH + nameBytes;
  }

  private static AppendResult refused(TierChannel channel, AppendResult soFar, boolean closed) {
    if (channel.tier() == Tier.MID) {
      channel.counters().dropped(DropReason.REJECTED, 1);
      return AppendResult.REJECTED;
    }
    channel.counters().dropped(closed ? DropReason.CLOSED : DropReason.RING_FULL, 1);
    return soFar == AppendResult.ACCEPTED ? AppendResult.DROPPED : soFar;
  }

  @Override
  public String toString() {
    StringBuilder tiers = new StringBuilder();
    for (TierChannel c : channels) {
      tiers.append(tiers.isEmpty() ? "" : ",").append(c.tier());
    }
    return "LogType[" + name + " -> " + tiers + "]";
  }
}
