package dev.hardway.logtiers.internal;

import dev.hardway.logtiers.LogRecords;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The header of a journal or spool segment file; frames follow it back to back. Little-endian:
 *
 * <pre>
 * offset size field
 *      0    8 magic "HWLOGSG1"
 *      8    4 header length H
 *     12    4 CRC32C of bytes [16, H)
 *     16    8 boot of the writer
 *     24    8 segment number within the boot
 *     32    8 opened at, epoch milliseconds (the key's date and hour)
 *     40    1 host length h
 *     41    1 region length r
 *     42    2 zero
 *     44    h host, then r region (UTF-8)
 * </pre>
 *
 * Everything the object keys need is here, so a segment left by an earlier run is uploaded under the same keys its
 * first attempt used.
 *
 * @param boot the writer's boot
 * @param segment the segment number
 * @param openedAt when it was opened
 * @param host the writer's host
 * @param region the writer's region
 */
public record SegmentHeader(long boot, long segment, Instant openedAt, String host, String region) {
  private static final byte[] MAGIC_BYTES = "HWLOGSG1".getBytes(StandardCharsets.US_ASCII);
  private static final int FIXED = 44;

  /**
   * The header's bytes.
   *
   * @return a buffer positioned at 0, limited to the header's length
   */
  public ByteBuffer encode() {
    byte[] h = host.getBytes(StandardCharsets.UTF_8);
    byte[] r = region.getBytes(StandardCharsets.UTF_8);
    int length = FIXED + h.length + r.length;
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC_BYTES).putInt(length).putInt(0).putLong(boot).putLong(segment).putLong(openedAt.toEpochMilli())
        .put((byte) h.length).put((byte) r.length).putShort((short) 0).put(h).put(r);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 16, length - 16);
    b.putInt(12, (int) crc.getValue());
    return b.flip();
  }

  /**
   * Reads a header.
   *
   * @param buffer the segment's first bytes
   * @param limit how many are readable
   * @return the header with its length, or empty when it is torn or not a segment
   */
  public static Optional<Read> decode(UnsafeBuffer buffer, int limit) {
    if (limit < FIXED) {
      return Optional.empty();
    }
    for (int i = 0; i < MAGIC_BYTES.length; i++) {
      if (buffer.getByte(i) != MAGIC_BYTES[i]) {
        return Optional.empty();
      }
    }
    int length = buffer.getInt(8, ByteOrder.LITTLE_ENDIAN);
    if (length < FIXED || length > limit || length > FIXED + 2 * LogRecords.MAX_NAME_BYTES) {
      return Optional.empty();
    }
    if (LogRecords.crc32c(buffer, 16, length - 16, new CRC32C()) != buffer.getInt(12, ByteOrder.LITTLE_ENDIAN)) {
      return Optional.empty();
    }
    int h = buffer.getByte(40) & 0xFF;
    int r = buffer.getByte(41) & 0xFF;
    if (FIXED + h + r != length) {
      return Optional.empty();
    }
    byte[] host = new byte[h];
    byte[] region = new byte[r];
    buffer.getBytes(FIXED, host);
    buffer.getBytes(FIXED + h, region);
    SegmentHeader header = new SegmentHeader(buffer.getLong(16, ByteOrder.LITTLE_ENDIAN),
        buffer.getLong(24, ByteOrder.LITTLE_ENDIAN), Instant.ofEpochMilli(buffer.getLong(32, ByteOrder.LITTLE_ENDIAN)),
        new String(host, StandardCharsets.UTF_8), new String(region, StandardCharsets.UTF_8));
    return Optional.of(new Read(header, length));
  }

  /**
   * A decoded header and where the frames start.
   *
   * @param header the header
   * @param length its length in bytes
   */
  public record Read(SegmentHeader header, int length) {}

  /**
   * The file name of a segment: boot and number, so names sort in writing order within a boot.
   *
   * @param boot the boot
   * @param segment the number
   * @param suffix {@code .open} or {@code .sealed}
   * @return the name
   */
  public static String fileName(long boot, long segment, String suffix) {
    return String.format(java.util.Locale.ROOT, "%016x-%012d%s", boot, segment, suffix);
  }
}
