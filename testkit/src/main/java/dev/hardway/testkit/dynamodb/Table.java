package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;

/**
 * One table: its items, ordered by key, and its settings. Reads hold the read lock, writes the write lock; a write
 * appends its stream record before it lets go, so the stream's order is the table's modification order.
 */
final class Table {

  final String name;
  final String arn;
  final String id;
  final KeySchema keySchema;
  final Instant created;
  final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  // Guarded by lock.
  private final NavigableMap<PrimaryKey, Map<String, Value>> items = new TreeMap<>();
  private long sizeBytes;
  private boolean deleted;
  String billingMode;
  long readCapacity;
  long writeCapacity;
  @Nullable Instant payPerRequestSince;
  boolean deletionProtection;
  @Nullable String tableClass;
  /** The latest stream, enabled or not; what DescribeTable reports as LatestStreamArn. */
  @Nullable Stream stream;
  @Nullable String timeToLiveAttribute;
  final Map<String, String> tags = new LinkedHashMap<>();
  /** Every key attribute of the table and its indexes, with its type: DescribeTable's AttributeDefinitions. */
  final Map<String, String> attributeTypes = new LinkedHashMap<>();
  final List<SecondaryIndex> indexes = new ArrayList<>();

  Table(String name, String arn, String id, KeySchema keySchema, Instant created) {
    this.name = name;
    this.arn = arn;
    this.id = id;
    this.keySchema = keySchema;
    this.created = created;
    this.billingMode = "PROVISIONED";
    attributeTypes.put(keySchema.hashName(), keySchema.hashType());
    if (keySchema.rangeName() != null) {
      attributeTypes.put(keySchema.rangeName(), keySchema.rangeType());
    }
  }

  @Nullable SecondaryIndex index(String indexName) {
    for (SecondaryIndex index : indexes) {
      if (index.name.equals(indexName)) {
        return index;
      }
    }
    return null;
  }

  /** Refuses an item whose secondary index keys have the wrong type; the caller holds a lock. */
  void checkIndexKeys(Map<String, Value> item) {
    for (SecondaryIndex index : indexes) {
      index.check(item);
    }
  }

  boolean deleted() {
    return deleted;
  }

  void markDeleted() {
    deleted = true;
  }

  NavigableMap<PrimaryKey, Map<String, Value>> items() {
    return items;
  }

  @Nullable Map<String, Value> get(PrimaryKey key) {
    return items.get(key);
  }

  int itemCount() {
    return items.size();
  }

  long sizeBytes() {
    return sizeBytes;
  }

  @Nullable Stream enabledStream() {
    Stream s = stream;
    return s != null && s.enabled() ? s : null;
  }

  /**
   * Stores a change and appends its stream record; a change that changes nothing writes nothing, as in DynamoDB.
   * The caller holds the write lock.
   *
   * @return whether the item changed
   */
  boolean write(PrimaryKey key, @Nullable Map<String, Value> oldItem, @Nullable Map<String, Value> newItem,
      Instant now, boolean byTimeToLive) {
    if (Objects.equals(oldItem, newItem)) {
      return false;
    }
    if (oldItem != null) {
      sizeBytes -= Value.itemSize(oldItem);
    }
    if (newItem == null) {
      items.remove(key);
    } else {
      items.put(key, newItem);
      sizeBytes += Value.itemSize(newItem);
    }
    for (SecondaryIndex index : indexes) {
      index.update(key, oldItem, newItem);
    }
    Stream s = stream;
    if (s != null) {
      String eventName = oldItem == null ? "INSERT" : newItem == null ? "REMOVE" : "MODIFY";
      s.append(eventName, keySchema.toMap(key), oldItem, newItem, now, byTimeToLive);
    }
    return true;
  }

  /** DescribeTable's TableDescription; the caller holds a lock. */
  ObjectNode describe(String status) {
    ObjectNode d = Wire.object();
    ArrayNode definitions = d.putArray("AttributeDefinitions");
    attributeTypes.forEach((attribute, type) -> definitions.addObject().put("AttributeName", attribute)
        .put("AttributeType", type));
    d.put("TableName", name);
    d.set("KeySchema", keySchema.keySchemaJson());
    d.put("TableStatus", status);
    d.put("CreationDateTime", Stream.epochSeconds(created));
    ObjectNode throughput = d.putObject("ProvisionedThroughput");
    throughput.put("NumberOfDecreasesToday", 0);
    throughput.put("ReadCapacityUnits", readCapacity);
    throughput.put("WriteCapacityUnits", writeCapacity);
    d.put("TableSizeBytes", sizeBytes);
    d.put("ItemCount", items.size());
    d.put("TableArn", arn);
    d.put("TableId", id);
    ObjectNode billing = d.putObject("BillingModeSummary");
    billing.put("BillingMode", billingMode);
    if (payPerRequestSince != null) {
      billing.put("LastUpdateToPayPerRequestDateTime", Stream.epochSeconds(payPerRequestSince));
    }
    Stream s = stream;
    if (s != null) {
      if (s.enabled()) {
        d.putObject("StreamSpecification").put("StreamEnabled", true).put("StreamViewType", s.viewType);
      }
      d.put("LatestStreamLabel", s.label);
      d.put("LatestStreamArn", s.arn);
    }
    if (tableClass != null) {
      d.putObject("TableClassSummary").put("TableClass", tableClass);
    }
    ArrayNode globals = Wire.array();
    ArrayNode locals = Wire.array();
    for (SecondaryIndex index : indexes) {
      (index.global ? globals : locals).add(index.describe());
    }
    if (!globals.isEmpty()) {
      d.set("GlobalSecondaryIndexes", globals);
    }
    if (!locals.isEmpty()) {
      d.set("LocalSecondaryIndexes", locals);
    }
    d.put("DeletionProtectionEnabled", deletionProtection);
    return d;
  }
}
