package dev.hardway.testkit.dynamodb;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable DynamoDB attribute value. Equality is DynamoDB's: sets compare as sets, numbers by value (they are kept
 * normalized), maps regardless of order.
 */
sealed interface Value {

  /** Largest item DynamoDB stores, in its own accounting of bytes. */
  int MAX_ITEM_BYTES = 400 * 1024;

  /** The type descriptor as it appears on the wire: {@code S}, {@code N}, {@code SS}, {@code BOOL}, ... */
  String type();

  /** The item-size contribution of this value, per DynamoDB's documented accounting. */
  long size();

  /** A string. */
  record S(String value) implements Value {
    @Override
    public String type() {
      return "S";
    }

    @Override
    public long size() {
      return utf8Length(value);
    }
  }

  /** A number, normalized (no trailing zeros, no negative zero). */
  record N(BigDecimal value) implements Value {
    public N {
      value = Numbers.normalize(value);
    }

    @Override
    public String type() {
      return "N";
    }

    @Override
    public long size() {
      return Numbers.size(value);
    }

    String text() {
      return value.toPlainString();
    }
  }

  /** A binary. */
  record B(Bytes value) implements Value {
    @Override
    public String type() {
      return "B";
    }

    @Override
    public long size() {
      return value.length();
    }
  }

  /** A string set, in the order first received. */
  record SS(Set<String> values) implements Value {
    public SS {
      values = Collections.unmodifiableSet(new LinkedHashSet<>(values));
    }

    @Override
    public String type() {
      return "SS";
    }

    @Override
    public long size() {
      long total = 0;
      for (String s : values) {
        total += utf8Length(s);
      }
      return total;
    }
  }

  /** A number set, in the order first received. */
  record NS(Set<BigDecimal> values) implements Value {
    public NS {
      LinkedHashSet<BigDecimal> normalized = new LinkedHashSet<>();
      for (BigDecimal v : values) {
        normalized.add(Numbers.normalize(v));
      }
      values = Collections.unmodifiableSet(normalized);
    }

    @Override
    public String type() {
      return "NS";
    }

    @Override
    public long size() {
      long total = 0;
      for (BigDecimal v : values) {
        total += Numbers.size(v);
      }
      return total;
    }
  }

  /** A binary set, in the order first received. */
  record BS(Set<Bytes> values) implements Value {
    public BS {
      values = Collections.unmodifiableSet(new LinkedHashSet<>(values));
    }

    @Override
    public String type() {
      return "BS";
    }

    @Override
    public long size() {
      long total = 0;
      for (Bytes b : values) {
        total += b.length();
      }
      return total;
    }
  }

  /** A map. */
  record M(Map<String, Value> values) implements Value {
    public M {
      values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    @Override
    public String type() {
      return "M";
    }

    @Override
    public long size() {
      // Documented: 3 bytes for the document, 1 byte per element, plus names and values.
      long total = 3;
      for (Map.Entry<String, Value> e : values.entrySet()) {
        total += 1 + utf8Length(e.getKey()) + e.getValue().size();
      }
      return total;
    }
  }

  /** A list. */
  record L(List<Value> values) implements Value {
    public L {
      values = Collections.unmodifiableList(new ArrayList<>(values));
    }

    @Override
    public String type() {
      return "L";
    }

    @Override
    public long size() {
      long total = 3;
      for (Value v : values) {
        total += 1 + v.size();
      }
      return total;
    }
  }

  /** A boolean. */
  record Bool(boolean value) implements Value {
    @Override
    public String type() {
      return "BOOL";
    }

    @Override
    public long size() {
      return 1;
    }
  }

  /** The null value. */
  record Null() implements Value {
    @Override
    public String type() {
      return "NULL";
    }

    @Override
    public long size() {
      return 1;
    }
  }

  /** The size of an item: attribute names plus values. */
  static long itemSize(Map<String, Value> item) {
    long total = 0;
    for (Map.Entry<String, Value> e : item.entrySet()) {
      total += utf8Length(e.getKey()) + e.getValue().size();
    }
    return total;
  }

  /** Whether two values are of a type DynamoDB orders ({@code N}, {@code S}, {@code B}) and the same type. */
  static boolean comparable(Value a, Value b) {
    return (a instanceof S && b instanceof S) || (a instanceof N && b instanceof N) || (a instanceof B && b instanceof B);
  }

  /**
   * Orders two scalars of the same type as DynamoDB does: numbers numerically, strings by their UTF-8 bytes, binaries
   * unsigned byte by byte.
   *
   * @throws IllegalArgumentException when the values are not {@link #comparable}
   */
  static int compare(Value a, Value b) {
    if (a instanceof S(String x) && b instanceof S(String y)) {
      return compareUtf8(x, y);
    }
    if (a instanceof N(BigDecimal x) && b instanceof N(BigDecimal y)) {
      return x.compareTo(y);
    }
    if (a instanceof B(Bytes x) && b instanceof B(Bytes y)) {
      return x.compareTo(y);
    }
    throw new IllegalArgumentException("cannot order " + a.type() + " against " + b.type());
  }

  /** Compares as UTF-8 byte strings would: code point by code point (UTF-16 order differs above U+E000). */
  static int compareUtf8(String x, String y) {
    int i = 0;
    int j = 0;
    while (i < x.length() && j < y.length()) {
      int cx = x.codePointAt(i);
      int cy = y.codePointAt(j);
      if (cx != cy) {
        return Integer.compare(cx, cy);
      }
      i += Character.charCount(cx);
      j += Character.charCount(cy);
    }
    return Boolean.compare(i < x.length(), j < y.length());
  }

  static long utf8Length(String s) {
    long bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A short rendering for error messages, in the form DynamoDB uses: {@code {S:abc}}. */
  static String describe(Value v) {
    return "{" + v.type() + ":" + switch (v) {
      case S(String s) -> s;
      case N n -> n.text();
      case B(Bytes b) -> b.base64();
      case SS(Set<String> s) -> s.toString();
      case NS(Set<BigDecimal> s) -> s.stream().map(BigDecimal::toPlainString).toList().toString();
      case BS(Set<Bytes> s) -> s.toString();
      case M(Map<String, Value> m) -> m.keySet().toString();
      case L(List<Value> l) -> "[" + l.size() + " elements]";
      case Bool(boolean b) -> Boolean.toString(b);
      case Null ignored -> "true";
    } + "}";
  }
}
