package dev.hardway.procache;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One pre-joined value on its way from the home region's aggregator to every region's writer, as carried in a
 * Kinesis record. Big-endian:
 *
 * <pre>
 * size  field
 *    2  magic "PU"
 *    1  format version (1)
 *    1  flags: 1 = tombstone (no value)
 *    2  key length k, then k bytes of UTF-8 key (the Redis key after the cache's prefix)
 *    8  version
 *    8  home write time, µs since the epoch
 *    4  value length n, then n bytes (the {@link ValueCodec}'s encoding; 0 for a tombstone)
 * </pre>
 *
 * @param key the key's name
 * @param version the value's version
 * @param writtenAtMicros when the home region wrote it
 * @param value the encoded value, or {@code null} for a tombstone
 */
public record PushedUpdate(String key, long version, long writtenAtMicros, byte @Nullable [] value) {
  private static final byte M0 = 'P';
  private static final byte M1 = 'U';
  private static final byte FORMAT = 1;

  /**
   * Checks the fields.
   *
   * @param key 1 to 1,024 UTF-8 bytes
   * @param version 0 to {@link Versioned#MAX_VERSION}
   * @param writtenAtMicros the home write time
   * @param value the encoded value or {@code null}
   */
  public PushedUpdate {
    Objects.requireNonNull(key, "key");
    int bytes = key.getBytes(StandardCharsets.UTF_8).length;
    if (bytes == 0 || bytes > 1024) {
      throw new IllegalArgumentException("key must be 1-1024 UTF-8 bytes, got " + bytes);
    }
    if (version < 0 || version > Versioned.MAX_VERSION) {
      throw new IllegalArgumentException("version must be between 0 and 2^53, got " + version);
    }
  }

  /**
   * The record's bytes.
   *
   * @return the encoding
   */
  public byte[] encode() {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] v = value == null ? new byte[0] : value;
    ByteBuffer b = ByteBuffer.allocate(2 + 1 + 1 + 2 + k.length + 8 + 8 + 4 + v.length);
    b.put(M0).put(M1).put(FORMAT).put((byte) (value == null ? 1 : 0)).putShort((short) k.length).put(k)
        .putLong(version).putLong(writtenAtMicros).putInt(v.length).put(v);
    return b.array();
  }

  /**
   * Reads a record's bytes.
   *
   * @param bytes the encoding
   * @return the update
   * @throws IllegalArgumentException when the bytes are not an update, saying why (a poison record)
   */
  public static PushedUpdate decode(byte[] bytes) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      if (b.get() != M0 || b.get() != M1) {
        throw new IllegalArgumentException("not a pushed update: bad magic (" + bytes.length + " bytes)");
      }
      byte format = b.get();
      if (format != FORMAT) {
        throw new IllegalArgumentException("unknown pushed-update format " + format);
      }
      boolean tombstone = (b.get() & 1) != 0;
      byte[] k = new byte[Short.toUnsignedInt(b.getShort())];
      b.get(k);
      long version = b.getLong();
      long written = b.getLong();
      int n = b.getInt();
      if (n < 0 || n != b.remaining()) {
        throw new IllegalArgumentException("pushed update's value length " + n + " does not match the "
            + b.remaining() + " bytes left");
      }
      byte[] v = new byte[n];
      b.get(v);
      return new PushedUpdate(new String(k, StandardCharsets.UTF_8), version, written, tombstone ? null : v);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("pushed update truncated at " + bytes.length + " bytes", e);
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof PushedUpdate p && p.key.equals(key) && p.version == version
        && p.writtenAtMicros == writtenAtMicros && Arrays.equals(p.value, value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, version, writtenAtMicros) * 31 + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return "PushedUpdate[" + key + " v" + version + (value == null ? " tombstone" : " " + value.length + " B") + "]";
  }
}
