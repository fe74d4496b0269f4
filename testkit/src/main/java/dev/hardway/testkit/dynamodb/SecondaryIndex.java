package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * A global or local secondary index: the table's items that carry the index's key attributes, ordered by index key
 * and then by table key (index keys need not be unique). Guarded by the table's lock; kept up to date by every write.
 */
final class SecondaryIndex {

  final String name;
  final boolean global;
  final KeySchema keySchema;
  final String projectionType;
  final List<String> nonKeyAttributes;
  final String arn;
  long readCapacity;
  long writeCapacity;

  private final NavigableMap<PrimaryKey, NavigableMap<PrimaryKey, Map<String, Value>>> entries = new TreeMap<>();
  private long sizeBytes;
  private int itemCount;
  private final KeySchema tableKeySchema;

  SecondaryIndex(String name, boolean global, KeySchema keySchema, String projectionType,
      List<String> nonKeyAttributes, String tableArn, KeySchema tableKeySchema) {
    this.name = name;
    this.global = global;
    this.keySchema = keySchema;
    this.projectionType = projectionType;
    this.nonKeyAttributes = List.copyOf(nonKeyAttributes);
    this.arn = tableArn + "/index/" + name;
    this.tableKeySchema = tableKeySchema;
  }

  /**
   * Refuses an item whose index key attributes are present but of the wrong type or empty, as DynamoDB does; an
   * item without them is simply not in the index.
   */
  void check(Map<String, Value> item) {
    checkAttribute(item, keySchema.hashName(), keySchema.hashType());
    if (keySchema.rangeName() != null) {
      checkAttribute(item, keySchema.rangeName(), keySchema.rangeType());
    }
  }

  private void checkAttribute(Map<String, Value> item, String attribute, @Nullable String type) {
    Value v = item.get(attribute);
    if (v == null) {
      return;
    }
    if (!v.type().equals(type)) {
      throw ServiceError.invalidParameter("Type mismatch for Index Key " + attribute + " Expected: " + type
          + " Actual: " + v.type() + " IndexName: " + name);
    }
    if (v.size() == 0) {
      throw ServiceError.validation("One or more parameter values are not valid. A value specified for a secondary "
          + "index key is not supported. The AttributeValue for a key attribute cannot contain an empty "
          + (v instanceof Value.B ? "binary" : "string") + " value. IndexName: " + name + ", IndexKey: " + attribute);
    }
  }

  /** The item's index key, or null when the item is not in the index. */
  @Nullable PrimaryKey keyOf(Map<String, Value> item) {
    Value hash = item.get(keySchema.hashName());
    if (hash == null || !hash.type().equals(keySchema.hashType()) || hash.size() == 0) {
      return null;
    }
    Value range = null;
    if (keySchema.rangeName() != null) {
      range = item.get(keySchema.rangeName());
      if (range == null || !range.type().equals(keySchema.rangeType()) || range.size() == 0) {
        return null;
      }
    }
    return new PrimaryKey(hash, range);
  }

  /** Moves an item's entry; the caller holds the table's write lock. */
  void update(PrimaryKey tableKey, @Nullable Map<String, Value> oldItem, @Nullable Map<String, Value> newItem) {
    if (oldItem != null) {
      PrimaryKey oldKey = keyOf(oldItem);
      if (oldKey != null) {
        NavigableMap<PrimaryKey, Map<String, Value>> group = entries.get(oldKey);
        if (group != null && group.remove(tableKey) != null) {
          sizeBytes -= Value.itemSize(projected(oldItem));
          itemCount--;
          if (group.isEmpty()) {
            entries.remove(oldKey);
          }
        }
      }
    }
    if (newItem != null) {
      PrimaryKey newKey = keyOf(newItem);
      if (newKey != null) {
        entries.computeIfAbsent(newKey, k -> new TreeMap<>()).put(tableKey, newItem);
        sizeBytes += Value.itemSize(projected(newItem));
        itemCount++;
      }
    }
  }

  NavigableMap<PrimaryKey, NavigableMap<PrimaryKey, Map<String, Value>>> entries() {
    return entries;
  }

  /** The attributes the index holds of an item: the table's and the index's keys, plus its projection. */
  Map<String, Value> projected(Map<String, Value> item) {
    if (projectionType.equals("ALL")) {
      return item;
    }
    Map<String, Value> out = new LinkedHashMap<>();
    for (Map.Entry<String, Value> e : item.entrySet()) {
      String attribute = e.getKey();
      if (tableKeySchema.isKey(attribute) || keySchema.isKey(attribute)
          || (projectionType.equals("INCLUDE") && nonKeyAttributes.contains(attribute))) {
        out.put(attribute, e.getValue());
      }
    }
    return out;
  }

  /** An index query's LastEvaluatedKey: the table's key attributes and the index's. */
  Map<String, Value> lastKey(Map<String, Value> item) {
    Map<String, Value> key = new LinkedHashMap<>(tableKeySchema.keyAttributes(item));
    key.putAll(keySchema.keyAttributes(item));
    return key;
  }

  ObjectNode describe() {
    ObjectNode d = Wire.object();
    d.put("IndexName", name);
    d.set("KeySchema", keySchema.keySchemaJson());
    ObjectNode projection = d.putObject("Projection");
    projection.put("ProjectionType", projectionType);
    if (!nonKeyAttributes.isEmpty()) {
      nonKeyAttributes.forEach(projection.putArray("NonKeyAttributes")::add);
    }
    if (global) {
      d.put("IndexStatus", "ACTIVE");
      ObjectNode throughput = d.putObject("ProvisionedThroughput");
      throughput.put("NumberOfDecreasesToday", 0);
      throughput.put("ReadCapacityUnits", readCapacity);
      throughput.put("WriteCapacityUnits", writeCapacity);
    }
    d.put("IndexSizeBytes", sizeBytes);
    d.put("ItemCount", itemCount);
    d.put("IndexArn", arn);
    return d;
  }
}
