package dev.hardway.procache;

import java.nio.charset.StandardCharsets;

/**
 * Turns values into the bytes the Redis tier (and the stream between regions) carries, and back.
 *
 * @param <V> the value type
 */
public interface ValueCodec<V> {

  /**
   * The bytes of a value.
   *
   * @param value the value
   * @return its bytes
   */
  byte[] encode(V value);

  /**
   * The value of some bytes.
   *
   * @param bytes what {@link #encode} produced
   * @return the value
   */
  V decode(byte[] bytes);

  /**
   * UTF-8 strings.
   *
   * @return the codec
   */
  static ValueCodec<String> utf8() {
    return new ValueCodec<>() {
      @Override
      public byte[] encode(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
      }
    };
  }

  /**
   * Byte arrays as they are.
   *
   * @return the codec
   */
  static ValueCodec<byte[]> bytes() {
    return new ValueCodec<>() {
      @Override
      public byte[] encode(byte[] value) {
        return value;
      }

      @Override
      public byte[] decode(byte[] bytes) {
        return bytes;
      }
    };
  }
}
