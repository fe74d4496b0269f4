package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * A table's primary key: a partition (HASH) attribute and an optional sort (RANGE) attribute, each of type S, N or B.
 */
record KeySchema(String hashName, String hashType, @Nullable String rangeName, @Nullable String rangeType) {

  /** DynamoDB's limits on key attribute values, in bytes. */
  static final int MAX_HASH_KEY_BYTES = 2048;
  static final int MAX_RANGE_KEY_BYTES = 1024;

  boolean isKey(String attribute) {
    return attribute.equals(hashName) || attribute.equals(rangeName);
  }

  List<String> names() {
    return rangeName == null ? List.of(hashName) : List.of(hashName, rangeName);
  }

  /**
   * The key of a full item, checked as PutItem checks it.
   *
   * @throws ServiceError when a key attribute is missing, of the wrong type, or empty
   */
  PrimaryKey keyOfItem(Map<String, Value> item) {
    Value hash = keyAttribute(item, hashName, hashType, MAX_HASH_KEY_BYTES, "hashkey");
    Value range = rangeName == null ? null
        : keyAttribute(item, rangeName, rangeType == null ? "S" : rangeType, MAX_RANGE_KEY_BYTES, "rangekey");
    return new PrimaryKey(hash, range);
  }

  private static Value keyAttribute(Map<String, Value> item, String name, String type, int maxBytes, String what) {
    Value v = item.get(name);
    if (v == null) {
      throw ServiceError.invalidParameter("Missing the key " + name + " in the item");
    }
    checkKeyValue(name, type, v, maxBytes, what);
    return v;
  }

  private static void checkKeyValue(String name, String type, Value v, int maxBytes, String what) {
    if (!v.type().equals(type)) {
      throw ServiceError.invalidParameter("Type mismatch for key " + name + " expected: " + type + " actual: "
          + v.type());
    }
    if (v.size() == 0) {
      throw ServiceError.validation("One or more parameter values are not valid. The AttributeValue for a key "
          + "attribute cannot contain an empty " + (v instanceof Value.B ? "binary" : "string") + " value. Key: "
          + name);
    }
    if (v.size() > maxBytes) {
      throw ServiceError.invalidParameter("Size of " + what + " has exceeded the maximum size limit of " + maxBytes
          + " bytes; key: " + name + ", size: " + v.size() + " bytes");
    }
  }

  /**
   * A {@code Key} parameter: exactly the key attributes, of the right types.
   *
   * @throws ServiceError "The provided key element does not match the schema" otherwise
   */
  PrimaryKey keyOf(Map<String, Value> key) {
    Set<String> expected = new TreeSet<>(names());
    if (!key.keySet().equals(expected)) {
      throw ServiceError.validation("The provided key element does not match the schema; expected key attributes "
          + expected + ", received " + new TreeSet<>(key.keySet()));
    }
    for (String name : names()) {
      Value v = key.get(name);
      String type = name.equals(hashName) ? hashType : rangeType;
      if (!v.type().equals(type)) {
        throw ServiceError.validation("The provided key element does not match the schema; key " + name
            + " must be of type " + type + ", received " + v.type());
      }
      checkKeyValue(name, v.type(), v, name.equals(hashName) ? MAX_HASH_KEY_BYTES : MAX_RANGE_KEY_BYTES,
          name.equals(hashName) ? "hashkey" : "rangekey");
    }
    return new PrimaryKey(key.get(hashName), rangeName == null ? null : key.get(rangeName));
  }

  /** The key attributes of an item, as a map. */
  Map<String, Value> keyAttributes(Map<String, Value> item) {
    Map<String, Value> key = new LinkedHashMap<>();
    key.put(hashName, item.get(hashName));
    if (rangeName != null) {
      key.put(rangeName, item.get(rangeName));
    }
    return key;
  }

  Map<String, Value> toMap(PrimaryKey key) {
    Map<String, Value> map = new LinkedHashMap<>();
    map.put(hashName, key.hash());
    if (rangeName != null && key.range() != null) {
      map.put(rangeName, key.range());
    }
    return map;
  }

  ArrayNode keySchemaJson() {
    ArrayNode array = Wire.array();
    array.addObject().put("AttributeName", hashName).put("KeyType", "HASH");
    if (rangeName != null) {
      array.addObject().put("AttributeName", rangeName).put("KeyType", "RANGE");
    }
    return array;
  }
}
