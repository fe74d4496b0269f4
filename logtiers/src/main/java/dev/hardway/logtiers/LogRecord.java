package dev.hardway.logtiers;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A view of one framed record in a buffer, re-pointed with {@link #wrap} so that reading a million records allocates
 * nothing. The framing is documented in {@link LogRecords}. Not thread-safe: one view per reading thread.
 *
 * <p>A record's identity is (host, boot, sequence): a consumer that sees the same identity twice (the low tier may
 * deliver twice, and the mid tier is also the backup of the low tier) keeps one.
 */
public final class LogRecord {
  private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
  private DirectBuffer buffer = view;
  private int offset;

  /** Creates an empty view; {@link #wrap} points it at a record. */
  public LogRecord() {}

  /**
   * Points this view at the frame starting at {@code offset}. The frame is not checked: see {@link LogRecords#check}.
   *
   * @param buffer the buffer holding the frame
   * @param offset where the frame starts
   * @return this view
   */
  public LogRecord wrap(DirectBuffer buffer, int offset) {
    this.buffer = buffer;
    this.offset = offset;
    return this;
  }

  /**
   * Where the frame starts in the wrapped buffer.
   *
   * @return the offset
   */
  public int offset() {
    return offset;
  }

  /**
   * The whole frame's length in bytes, header included.
   *
   * @return the length
   */
  public int frameLength() {
    return buffer.getInt(offset + LogRecords.LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The host that appended the record.
   *
   * @return the host name
   */
  public String host() {
    return string(LogRecords.HEADER_LENGTH, hostLength());
  }

  /**
   * The process incarnation that appended the record: random per {@link LogTiers} instance.
   *
   * @return the boot id
   */
  public long boot() {
    return buffer.getLong(offset + LogRecords.BOOT_OFFSET, ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The record's number within its boot; with {@link #host()} and {@link #boot()} it identifies the record.
   *
   * @return the sequence
   */
  public long sequence() {
    return buffer.getLong(offset + LogRecords.SEQUENCE_OFFSET, ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * When the record was appended, in microseconds since the epoch (UTC), from the appender's clock.
   *
   * @return the timestamp
   */
  public long timestampMicros() {
    return buffer.getLong(offset + LogRecords.TIMESTAMP_OFFSET, ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * {@link #timestampMicros()} as an instant.
   *
   * @return the timestamp
   */
  public Instant timestamp() {
    long micros = timestampMicros();
    return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
  }

  /**
   * The log type the record was appended to.
   *
   * @return the type name
   */
  public String type() {
    return string(LogRecords.HEADER_LENGTH + hostLength(), typeLength());
  }

  /**
   * Where the payload starts in the wrapped buffer.
   *
   * @return the offset
   */
  public int payloadOffset() {
    return offset + LogRecords.HEADER_LENGTH + hostLength() + typeLength();
  }

  /**
   * The payload's length in bytes.
   *
   * @return the length
   */
  public int payloadLength() {
    return frameLength() - LogRecords.HEADER_LENGTH - hostLength() - typeLength();
  }

  /**
   * A copy of the payload.
   *
   * @return the payload bytes
   */
  public byte[] payload() {
    byte[] bytes = new byte[payloadLength()];
    buffer.getBytes(payloadOffset(), bytes);
    return bytes;
  }

  /**
   * The buffer this view reads.
   *
   * @return the wrapped buffer
   */
  public DirectBuffer buffer() {
    return buffer;
  }

  private int hostLength() {
    return buffer.getByte(offset + LogRecords.HOST_LENGTH_OFFSET) & 0xFF;
  }

  private int typeLength() {
    return buffer.getByte(offset + LogRecords.TYPE_LENGTH_OFFSET) & 0xFF;
  }

  private String string(int at, int length) {
    byte[] bytes = new byte[length];
    buffer.getBytes(offset + at, bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "LogRecord[" + host() + "/" + Long.toHexString(boot()) + "/" + sequence() + " " + type() + " "
        + payloadLength() + " B at " + timestamp() + "]";
  }
}
