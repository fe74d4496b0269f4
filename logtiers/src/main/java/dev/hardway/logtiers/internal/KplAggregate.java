package dev.hardway.logtiers.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.agrona.DirectBuffer;

/**
 * Records bound for one Kinesis record, encoded in the KPL's aggregation format, which the KCL and Lambda's
 * de-aggregation read: the magic {@code F3 89 9A C2}, then the protobuf message
 *
 * <pre>
 * AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2;
 *                    repeated Record records = 3; }
 * Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *          required bytes data = 3; repeated Tag tags = 4; }
 * </pre>
 *
 * <p>then the 16-byte MD5 of the protobuf bytes. Every sub-record shares the one partition key and the one explicit
 * hash key of the tables (index 0 of each), which is also the hash key the Kinesis record is sent with: the KCL
 * discards a whole aggregate when any of its sub-records hashes outside the shard it was read from, and this way all
 * of them hash where the record itself landed, whatever the shard map did meanwhile.
 *
 * <p>Sizes are exact and known before encoding: {@link #tryAppend} refuses a record that would take the Kinesis record
 * (data plus partition key) over {@link #MAX_KINESIS_RECORD_BYTES} with the longest possible hash key. A first record
 * that fits only without the aggregation overhead makes a <i>raw</i> aggregate: sent as the record's bytes alone,
 * which the KCL passes through unchanged (a frame never starts with the magic, as its little-endian length would be
 * over 3 GB).
 *
 * <p>Not thread-safe: filled by the worker thread, then encoded by one sender at a time.
 */
public final class KplAggregate {
  /** The most bytes of one Kinesis record, data and partition key together. */
  public static final int MAX_KINESIS_RECORD_BYTES = 1 << 20;
  /** The longest explicit hash key: 2^128 - 1 in decimal. */
  public static final int MAX_HASH_KEY_LENGTH = 39;
  private static final byte[] MAGIC = {(byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2};
  private static final int DIGEST_LENGTH = 16;
  // Protobuf tags: (field number << 3) | wire type; 0 = varint, 2 = length-delimited.
  private static final byte PARTITION_KEY_TABLE = 1 << 3 | 2;
  private static final byte HASH_KEY_TABLE = 2 << 3 | 2;
  private static final byte RECORDS = 3 << 3 | 2;
  private static final byte PARTITION_KEY_INDEX = 1 << 3;
  private static final byte HASH_KEY_INDEX = 2 << 3;
  private static final byte DATA = 3 << 3 | 2;

  private final byte[] partitionKey;
  private final int fixedOverhead;
  private byte[] data = new byte[4096];
  private int used;
  private int[] starts = new int[16];
  private int count;
  private long recordsFieldBytes;
  private boolean raw;

  /**
   * An empty aggregate.
   *
   * @param partitionKey the partition key of the Kinesis record and of every sub-record, UTF-8, 1 to 256 bytes
   */
  public KplAggregate(byte[] partitionKey) {
    if (partitionKey.length == 0 || partitionKey.length > 256) {
      throw new IllegalArgumentException("partition key must be 1-256 bytes, got " + partitionKey.length);
    }
    this.partitionKey = partitionKey.clone();
    this.fixedOverhead = MAGIC.length + tableEntry(partitionKey.length) + tableEntry(MAX_HASH_KEY_LENGTH)
        + DIGEST_LENGTH + partitionKey.length;
  }

  /**
   * Copies one record in when the Kinesis record stays within {@link #MAX_KINESIS_RECORD_BYTES}.
   *
   * @param source the bytes
   * @param offset where the record starts
   * @param length its length
   * @return where the copy starts in {@link #array()}, or -1 when it does not fit (then nothing changed)
   */
  public int tryAppend(DirectBuffer source, int offset, int length) {
    int at = reserve(length);
    if (at >= 0) {
      source.getBytes(offset, data, at, length);
    }
    return at;
  }

  /**
   * Copies one record in when it fits, as {@link #tryAppend(DirectBuffer, int, int)}.
   *
   * @param source the bytes
   * @param offset where the record starts
   * @param length its length
   * @return where the copy starts in {@link #array()}, or -1 when it does not fit
   */
  public int tryAppend(byte[] source, int offset, int length) {
    int at = reserve(length);
    if (at >= 0) {
      System.arraycopy(source, offset, data, at, length);
    }
    return at;
  }

  private int reserve(int length) {
    if (raw || length < 0) {
      return -1;
    }
    if (fixedOverhead + recordsFieldBytes + recordEntry(length) > MAX_KINESIS_RECORD_BYTES) {
      if (count > 0 || length + partitionKey.length > MAX_KINESIS_RECORD_BYTES) {
        return -1;
      }
      raw = true;
    }
    if (used + length > data.length) {
      data = Arrays.copyOf(data, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(used + (long) length,
          2L * data.length)));
    }
    if (count == starts.length) {
      starts = Arrays.copyOf(starts, count * 2);
    }
    int at = used;
    starts[count++] = at;
    used += length;
    recordsFieldBytes += recordEntry(length);
    return at;
  }

  /**
   * The records' bytes, back to back from index 0 to {@link #dataBytes()}; the caller may patch them in place before
   * encoding.
   *
   * @return the backing array (not a copy)
   */
  public byte[] array() {
    return data;
  }

  /**
   * How many records.
   *
   * @return the count
   */
  public int count() {
    return count;
  }

  /**
   * Where record {@code i} starts in {@link #array()}.
   *
   * @param i from 0
   * @return the offset
   */
  public int start(int i) {
    return starts[i];
  }

  /**
   * Record {@code i}'s length.
   *
   * @param i from 0
   * @return the length
   */
  public int length(int i) {
    return (i + 1 < count ? starts[i + 1] : used) - starts[i];
  }

  /**
   * The records' bytes, without any encoding.
   *
   * @return the sum of their lengths
   */
  public int dataBytes() {
    return used;
  }

  /**
   * Whether this holds one record sent without aggregation (it fits in a Kinesis record only that way).
   *
   * @return true when raw
   */
  public boolean raw() {
    return raw;
  }

  /**
   * The encoded Kinesis record's data length with a hash key of this many characters.
   *
   * @param hashKeyLength the explicit hash key's length, 1 to {@link #MAX_HASH_KEY_LENGTH}
   * @return the length of {@link #encode}'s result
   */
  public int encodedLength(int hashKeyLength) {
    if (raw) {
      return used;
    }
    return Math.toIntExact(MAGIC.length + tableEntry(partitionKey.length) + tableEntry(hashKeyLength)
        + recordsFieldBytes + DIGEST_LENGTH);
  }

  /**
   * The Kinesis record's size as counted against the limits: data plus partition key.
   *
   * @param hashKeyLength the explicit hash key's length
   * @return bytes
   */
  public int kinesisBytes(int hashKeyLength) {
    return encodedLength(hashKeyLength) + partitionKey.length;
  }

  /**
   * Encodes the aggregate for a Kinesis record sent with this explicit hash key.
   *
   * @param explicitHashKey a decimal hash key, ASCII digits, at most {@link #MAX_HASH_KEY_LENGTH}
   * @return the Kinesis record's data
   */
  public byte[] encode(String explicitHashKey) {
    if (raw) {
      return Arrays.copyOf(data, used);
    }
    byte[] hashKey = explicitHashKey.getBytes(StandardCharsets.US_ASCII);
    if (hashKey.length == 0 || hashKey.length > MAX_HASH_KEY_LENGTH) {
      throw new IllegalArgumentException("explicit hash key must be 1-39 digits, got '" + explicitHashKey + "'");
    }
    byte[] out = new byte[encodedLength(hashKey.length)];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    int at = MAGIC.length;
    at = lengthDelimited(out, at, PARTITION_KEY_TABLE, partitionKey, 0, partitionKey.length);
    at = lengthDelimited(out, at, HASH_KEY_TABLE, hashKey, 0, hashKey.length);
    for (int i = 0; i < count; i++) {
      int length = length(i);
      out[at++] = RECORDS;
      at = varint(out, at, recordLength(length));
      out[at++] = PARTITION_KEY_INDEX;
      out[at++] = 0;
      out[at++] = HASH_KEY_INDEX;
      out[at++] = 0;
      at = lengthDelimited(out, at, DATA, data, starts[i], length);
    }
    MessageDigest md5 = md5();
    md5.update(out, MAGIC.length, at - MAGIC.length);
    System.arraycopy(md5.digest(), 0, out, at, DIGEST_LENGTH);
    return out;
  }

  private static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform must provide MD5 (MessageDigest's javadoc).
      throw new IllegalStateException(e);
    }
  }

  private static int lengthDelimited(byte[] out, int at, byte tag, byte[] bytes, int offset, int length) {
    out[at++] = tag;
    at = varint(out, at, length);
    System.arraycopy(bytes, offset, out, at, length);
    return at + length;
  }

  private static int varint(byte[] out, int at, int value) {
    while ((value & ~0x7F) != 0) {
      out[at++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out[at++] = (byte) value;
    return at;
  }

  private static int varintLength(int value) {
    return value < 1 << 7 ? 1 : value < 1 << 14 ? 2 : value < 1 << 21 ? 3 : value < 1 << 28 ? 4 : 5;
  }

  private static int tableEntry(int length) {
    return 1 + varintLength(length) + length;
  }

  /** The Record message: both indexes (two bytes each) and the data field. */
  private static int recordLength(int dataLength) {
    return 2 + 2 + 1 + varintLength(dataLength) + dataLength;
  }

  private static long recordEntry(int dataLength) {
    int record = recordLength(dataLength);
    return 1 + varintLength(record) + (long) record;
  }
}
