package dev.hardway.testkit.dynamodb;

import java.util.Arrays;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/** An immutable byte string: DynamoDB's binary type, ordered unsigned byte by byte as DynamoDB orders it. */
final class Bytes implements Comparable<Bytes> {

  private final byte[] data;

  private Bytes(byte[] data) {
    this.data = data;
  }

  static Bytes copyOf(byte[] data) {
    return new Bytes(data.clone());
  }

  static Bytes wrap(byte[] data) {
    return new Bytes(data);
  }

  int length() {
    return data.length;
  }

  byte[] toArray() {
    return data.clone();
  }

  String base64() {
    return Base64.getEncoder().encodeToString(data);
  }

  boolean startsWith(Bytes prefix) {
    return data.length >= prefix.data.length
        && Arrays.equals(data, 0, prefix.data.length, prefix.data, 0, prefix.data.length);
  }

  @Override
  public int compareTo(Bytes other) {
    return Arrays.compareUnsigned(data, other.data);
  }

  @Override
  public boolean equals(@Nullable Object other) {
    return other instanceof Bytes bytes && Arrays.equals(data, bytes.data);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return base64();
  }
}
