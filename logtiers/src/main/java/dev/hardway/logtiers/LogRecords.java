package dev.hardway.logtiers;

import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The one log line framing every tier writes: in Kinesis records, in journal segments, and in S3 objects (after
 * decompression, an object is frames back to back). All integers are little-endian.
 *
 * <pre>
 * offset  size  field
 *      0     4  frame length, header included
 *      4     4  CRC32C of bytes [8, frame length)
 *      8     1  version (1)
 *      9     1  host length h (1..255)
 *     10     1  type length t (1..255)
 *     11     1  flags (0)
 *     12     8  boot: random per LogTiers instance
 *     20     8  sequence within the boot, from 0
 *     28     8  timestamp, microseconds since the epoch (UTC)
 *     36     h  host, UTF-8
 *   36+h     t  type, UTF-8
 * 36+h+t     n  payload
 * </pre>
 *
 * <p>(host, boot, sequence) identifies a record across tiers: a record routed to two tiers carries the same identity
 * in both.
 */
public final class LogRecords {
  /** Offset of the frame length. */
  public static final int LENGTH_OFFSET = 0;
  /** Offset of the CRC32C. */
  public static final int CRC_OFFSET = 4;
  /** Offset of the version byte. */
  public static final int VERSION_OFFSET = 8;
  /** Offset of the host length byte. */
  public static final int HOST_LENGTH_OFFSET = 9;
  /** Offset of the type length byte. */
  public static final int TYPE_LENGTH_OFFSET = 10;
  /** Offset of the flags byte. */
  public static final int FLAGS_OFFSET = 11;
  /** Offset of the boot id. */
  public static final int BOOT_OFFSET = 12;
  /** Offset of the sequence. */
  public static final int SEQUENCE_OFFSET = 20;
  /** Offset of the timestamp. */
  public static final int TIMESTAMP_OFFSET = 28;
  /** Length of the fixed header; host and type follow it. */
  public static final int HEADER_LENGTH = 36;
  /** The framing version this library writes and reads. */
  public static final byte VERSION = 1;
  /** The longest host or type name, in UTF-8 bytes. */
  public static final int MAX_NAME_BYTES = 255;

  private LogRecords() {}

  /**
   * Receives each valid record; the view is reused for the next one.
   */
  @FunctionalInterface
  public interface Handler {
    /**
     * One record.
     *
     * @param record a view valid until this method returns
     */
    void onRecord(LogRecord record);
  }

  /**
   * What a {@link #forEach} pass found.
   *
   * @param records valid records handed to the handler
   * @param corruptBytes bytes skipped because no valid frame started there (a torn tail or a damaged frame)
   * @param corruptRegions runs of such bytes: each is one torn or damaged place
   * @param validBytes the length of the leading run of valid frames: where a torn tail starts
   */
  public record ReadResult(long records, long corruptBytes, long corruptRegions, long validBytes) {}

  /**
   * Checks the frame at {@code offset}: a sane length that fits before {@code limit}, the version, name lengths and
   * the CRC32C.
   *
   * @param buffer the buffer
   * @param offset where the frame would start
   * @param limit the end of the readable bytes
   * @param crc a CRC32C to use (reset here)
   * @return the frame length when valid, -1 when not
   */
  public static int check(DirectBuffer buffer, int offset, int limit, CRC32C crc) {
    if (limit - offset < HEADER_LENGTH + 2) {
      return -1;
    }
    int length = buffer.getInt(offset + LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
    if (length < HEADER_LENGTH + 2 || length > limit - offset || buffer.getByte(offset + VERSION_OFFSET) != VERSION) {
      return -1;
    }
    int host = buffer.getByte(offset + HOST_LENGTH_OFFSET) & 0xFF;
    int type = buffer.getByte(offset + TYPE_LENGTH_OFFSET) & 0xFF;
    if (host == 0 || type == 0 || HEADER_LENGTH + host + type > length) {
      return -1;
    }
    int expected = buffer.getInt(offset + CRC_OFFSET, ByteOrder.LITTLE_ENDIAN);
    return crc32c(buffer, offset + VERSION_OFFSET, length - VERSION_OFFSET, crc) == expected ? length : -1;
  }

  /**
   * Hands every valid frame in {@code [offset, offset + length)} to the handler. A frame that fails {@link #check} is
   * skipped byte by byte until a valid frame starts again, and the skipped bytes are counted: a damaged frame costs
   * that frame only, and a torn tail is reported, never thrown.
   *
   * @param buffer the frames
   * @param offset where they start
   * @param length how many bytes to read
   * @param handler receives each valid record
   * @return the counts
   */
  public static ReadResult forEach(DirectBuffer buffer, int offset, int length, Handler handler) {
    CRC32C crc = new CRC32C();
    LogRecord view = new LogRecord();
    int limit = offset + length;
    int at = offset;
    long records = 0;
    long corrupt = 0;
    long regions = 0;
    boolean inDamage = false;
    long validPrefix = -1;
    while (at < limit) {
      int frame = check(buffer, at, limit, crc);
      if (frame < 0) {
        if (validPrefix < 0) {
          validPrefix = at - offset;
        }
        if (!inDamage) {
          regions++;
          inDamage = true;
        }
        corrupt++;
        at++;
        continue;
      }
      inDamage = false;
      handler.onRecord(view.wrap(buffer, at));
      records++;
      at += frame;
    }
    return new ReadResult(records, corrupt, regions, validPrefix < 0 ? length : validPrefix);
  }

  /**
   * Hands every valid record of a byte array of frames to the handler (see {@link #forEach(DirectBuffer, int, int,
   * Handler)}).
   *
   * @param frames the frames, back to back
   * @param handler receives each valid record
   * @return the counts
   */
  public static ReadResult forEach(byte[] frames, Handler handler) {
    return forEach(new UnsafeBuffer(frames), 0, frames.length, handler);
  }

  /**
   * Decompresses an S3 object written by a tier.
   *
   * @param body the object's bytes
   * @param compression how it was compressed (from the key's extension: {@link ObjectKeys#parse})
   * @return the frames, back to back
   * @throws UncheckedIOException when the body is not valid for the compression
   */
  public static byte[] decompress(byte[] body, Compression compression) {
    try (InputStream in = compression == Compression.ZSTD
        ? new ZstdInputStream(new ByteArrayInputStream(body))
        : new GZIPInputStream(new ByteArrayInputStream(body))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("not a valid " + compression + " object body (" + body.length + " bytes)", e);
    }
  }

  /**
   * The CRC32C of a range of any Agrona buffer.
   *
   * @param buffer the buffer
   * @param offset where the range starts
   * @param length how many bytes
   * @param crc a CRC32C to use (reset here)
   * @return the checksum as an int
   */
  public static int crc32c(DirectBuffer buffer, int offset, int length, CRC32C crc) {
    crc.reset();
    byte[] array = buffer.byteArray();
    if (array != null) {
      crc.update(array, buffer.wrapAdjustment() + offset, length);
    } else {
      ByteBuffer bytes = buffer.byteBuffer();
      if (bytes == null) {
        throw new IllegalArgumentException("buffer wraps a raw address; wrap a byte array or a ByteBuffer instead");
      }
      // wrapAdjustment(): the index in the wrapped ByteBuffer (or array) of this buffer's index 0.
      int start = buffer.wrapAdjustment() + offset;
      crc.update(bytes.duplicate().limit(start + length).position(start));
    }
    return (int) crc.getValue();
  }
}
