package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/** The control plane: tables, their streams' settings, time to live and tags. */
final class TableOperations {

  private final Database db;

  TableOperations(Database db) {
    this.db = db;
  }

  private record StreamSetting(boolean enabled, @Nullable String viewType) {}

  ObjectNode createTable(Wire.Members r) {
    String name = r.tableName("TableName");
    Map<String, String> types = definitions(r.requireArray("AttributeDefinitions"));
    KeySchema schema = keySchema(r.requireArray("KeySchema"), types, "keySchema");
    String billingMode = r.choice("BillingMode", "PROVISIONED", "PAY_PER_REQUEST");
    if (billingMode == null) {
      billingMode = "PROVISIONED";
    }
    Wire.Members throughput = r.optionalNested("ProvisionedThroughput");
    StreamSetting streamSetting = streamSetting(r);
    Instant now = db.now();
    Table table = new Table(name, db.tableArn(name), db.newTableId(), schema, now);
    applyBilling(table, billingMode, throughput, now);
    List<SecondaryIndex> indexes = new ArrayList<>();
    indexes.addAll(indexes(r, "GlobalSecondaryIndexes", true, types, table));
    indexes.addAll(indexes(r, "LocalSecondaryIndexes", false, types, table));
    Set<String> names = new HashSet<>();
    for (SecondaryIndex index : indexes) {
      if (!names.add(index.name)) {
        throw ServiceError.invalidParameter("Duplicate index name: " + index.name);
      }
    }
    table.indexes.addAll(indexes);
    Set<String> used = usedAttributes(schema, indexes);
    if (!used.equals(types.keySet())) {
      if (indexes.isEmpty()) {
        throw ServiceError.invalidParameter("Number of attributes in KeySchema does not exactly match number of "
            + "attributes defined in AttributeDefinitions; KeySchema: " + schema.names() + ", AttributeDefinitions: "
            + types.keySet());
      }
      throw ServiceError.invalidParameter("Some AttributeDefinitions are not used. AttributeDefinitions: "
          + types.keySet() + ", keys used: " + used);
    }
    table.attributeTypes.clear();
    table.attributeTypes.putAll(types);
    Boolean protection = r.bool("DeletionProtectionEnabled");
    table.deletionProtection = protection != null && protection;
    table.tableClass = r.choice("TableClass", "STANDARD", "STANDARD_INFREQUENT_ACCESS");
    ArrayNode tags = r.array("Tags");
    if (tags != null) {
      table.tags.putAll(tags(tags));
    }
    table.lock.writeLock().lock();
    try {
      if (db.tables.putIfAbsent(name, table) != null) {
        throw ServiceError.inUse("Table already exists: " + name);
      }
      if (streamSetting.enabled()) {
        enableStream(table, streamSetting.viewType(), now);
      }
      ObjectNode reply = Wire.object();
      reply.set("TableDescription", table.describe("ACTIVE"));
      return reply;
    } finally {
      table.lock.writeLock().unlock();
    }
  }

  private static Map<String, String> definitions(ArrayNode definitions) {
    Map<String, String> types = new LinkedHashMap<>();
    for (JsonNode d : definitions) {
      Wire.Members def = new Wire.Members(asObject(d, "AttributeDefinitions"), "attributeDefinitions.member");
      String attribute = def.requireString("AttributeName");
      String type = def.choice("AttributeType", "S", "N", "B");
      if (type == null) {
        throw ServiceError.constraint(null, def.member("AttributeType"), "must not be null");
      }
      if (types.put(attribute, type) != null) {
        throw ServiceError.invalidParameter("Cannot have two attributes with the same name; attribute: " + attribute);
      }
    }
    return types;
  }

  private static KeySchema keySchema(ArrayNode keys, Map<String, String> types, String member) {
    if (keys.isEmpty()) {
      throw ServiceError.constraint("[]", member, "must have length greater than or equal to 1");
    }
    if (keys.size() > 2) {
      throw ServiceError.constraint(Wire.render(keys), member, "must have length less than or equal to 2");
    }
    List<String> names = new ArrayList<>();
    List<String> kinds = new ArrayList<>();
    for (JsonNode k : keys) {
      Wire.Members key = new Wire.Members(asObject(k, "KeySchema"), member + ".member");
      names.add(key.requireString("AttributeName"));
      String kind = key.choice("KeyType", "HASH", "RANGE");
      if (kind == null) {
        throw ServiceError.constraint(null, key.member("KeyType"), "must not be null");
      }
      kinds.add(kind);
    }
    if (!kinds.get(0).equals("HASH")) {
      throw ServiceError.invalidParameter("Invalid KeySchema: The first KeySchemaElement is not a HASH key type; "
          + "received " + kinds);
    }
    if (kinds.size() == 2 && !kinds.get(1).equals("RANGE")) {
      throw ServiceError.invalidParameter("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type; "
          + "received " + kinds);
    }
    if (names.size() == 2 && names.get(0).equals(names.get(1))) {
      throw ServiceError.invalidParameter("Both the Hash Key and the Range Key element in the KeySchema have the "
          + "same name; name: " + names.get(0));
    }
    for (String n : names) {
      if (!types.containsKey(n)) {
        throw ServiceError.invalidParameter("Some index key attributes are not defined in AttributeDefinitions. "
            + "Keys: " + names + ", AttributeDefinitions: " + types.keySet());
      }
    }
    String range = names.size() == 2 ? names.get(1) : null;
    return new KeySchema(names.get(0), types.get(names.get(0)), range, range == null ? null : types.get(range));
  }

  /** DynamoDB's limits on indexes per table. */
  static final int MAX_GLOBAL_INDEXES = 20;
  static final int MAX_LOCAL_INDEXES = 5;

  private List<SecondaryIndex> indexes(Wire.Members r, String member, boolean global, Map<String, String> types,
      Table table) {
    ArrayNode list = r.array(member);
    if (list == null) {
      return List.of();
    }
    String camel = r.member(member);
    if (list.isEmpty()) {
      throw ServiceError.constraint("[]", camel, "must have length greater than or equal to 1");
    }
    int max = global ? MAX_GLOBAL_INDEXES : MAX_LOCAL_INDEXES;
    if (list.size() > max) {
      throw ServiceError.constraint("[" + list.size() + " indexes]", camel, "must have length less than or equal to "
          + max);
    }
    List<SecondaryIndex> out = new ArrayList<>();
    for (JsonNode node : list) {
      out.add(index(new Wire.Members(asObject(node, member), camel + ".member"), global, types, table));
    }
    return out;
  }

  private static SecondaryIndex index(Wire.Members m, boolean global, Map<String, String> types, Table table) {
    String name = m.requireString("IndexName");
    if (name.length() < 3 || name.length() > 255 || !name.matches("[a-zA-Z0-9_.-]+")) {
      throw ServiceError.constraint(name, m.member("IndexName"), "must satisfy regular expression pattern: "
          + "[a-zA-Z0-9_.-]+ and have length between 3 and 255");
    }
    KeySchema schema = keySchema(m.requireArray("KeySchema"), types, m.member("KeySchema"));
    if (!global) {
      if (table.keySchema.rangeName() == null) {
        throw ServiceError.invalidParameter("Table KeySchema does not have a range key, which is required when "
            + "specifying a LocalSecondaryIndex; index: " + name);
      }
      if (!schema.hashName().equals(table.keySchema.hashName())) {
        throw ServiceError.invalidParameter("Index KeySchema does not have the same leading hash key as table "
            + "KeySchema for index: " + name + ". index hash key: " + schema.hashName() + ", table hash key: "
            + table.keySchema.hashName());
      }
      if (schema.rangeName() == null) {
        throw ServiceError.invalidParameter("Index KeySchema of a LocalSecondaryIndex must have a RANGE key; "
            + "index: " + name);
      }
    }
    Wire.Members projection = m.nested("Projection");
    String type = projection.choice("ProjectionType", "ALL", "KEYS_ONLY", "INCLUDE");
    if (type == null) {
      throw ServiceError.constraint(null, projection.member("ProjectionType"), "must not be null");
    }
    List<String> nonKey = new ArrayList<>();
    ArrayNode nonKeyNode = projection.array("NonKeyAttributes");
    if (nonKeyNode != null) {
      nonKeyNode.forEach(n -> nonKey.add(n.asText()));
    }
    if (type.equals("INCLUDE") && nonKey.isEmpty()) {
      throw ServiceError.invalidParameter("ProjectionType is INCLUDE, but NonKeyAttributes is not specified; "
          + "index: " + name);
    }
    if (!type.equals("INCLUDE") && nonKeyNode != null) {
      throw ServiceError.invalidParameter("ProjectionType is " + type + ", but NonKeyAttributes is specified; "
          + "index: " + name + ", NonKeyAttributes: " + nonKey);
    }
    SecondaryIndex index = new SecondaryIndex(name, global, schema, type, nonKey, table.arn, table.keySchema);
    if (global) {
      indexThroughput(index, m.optionalNested("ProvisionedThroughput"), table.billingMode);
    }
    return index;
  }

  private static void indexThroughput(SecondaryIndex index, Wire.@Nullable Members throughput, String billingMode) {
    if (billingMode.equals("PAY_PER_REQUEST")) {
      if (throughput != null) {
        throw ServiceError.invalidParameter("ProvisionedThroughput should not be specified for index: " + index.name
            + " when BillingMode is PAY_PER_REQUEST");
      }
      return;
    }
    if (throughput == null) {
      throw ServiceError.invalidParameter("ProvisionedThroughput should not be null for index: " + index.name);
    }
    Long read = throughput.integer("ReadCapacityUnits");
    Long write = throughput.integer("WriteCapacityUnits");
    if (read == null || read < 1 || write == null || write < 1) {
      throw ServiceError.invalidParameter("ReadCapacityUnits and WriteCapacityUnits must both be at least 1 for "
          + "index: " + index.name + "; received ProvisionedThroughput: " + Wire.render(throughput.node()));
    }
    index.readCapacity = read;
    index.writeCapacity = write;
  }

  private static Set<String> usedAttributes(KeySchema table, List<SecondaryIndex> indexes) {
    Set<String> used = new LinkedHashSet<>(table.names());
    for (SecondaryIndex index : indexes) {
      used.addAll(index.keySchema.names());
    }
    return used;
  }

  private static ObjectNode asObject(JsonNode node, String member) {
    if (!(node instanceof ObjectNode o)) {
      throw ServiceError.serialization(member + " entries must be JSON objects, got " + Wire.render(node));
    }
    return o;
  }

  private static void applyBilling(Table table, String mode, Wire.@Nullable Members throughput, Instant now) {
    if (mode.equals("PAY_PER_REQUEST")) {
      if (throughput != null) {
        throw ServiceError.invalidParameter("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
            + "when BillingMode is PAY_PER_REQUEST; received ProvisionedThroughput: " + Wire.render(throughput.node()));
      }
      if (!table.billingMode.equals("PAY_PER_REQUEST")) {
        table.payPerRequestSince = now;
      }
      table.billingMode = mode;
      table.readCapacity = 0;
      table.writeCapacity = 0;
      return;
    }
    if (throughput == null) {
      throw ServiceError.invalidParameter("ReadCapacityUnits and WriteCapacityUnits must both be specified when "
          + "BillingMode is PROVISIONED");
    }
    Long read = throughput.integer("ReadCapacityUnits");
    Long write = throughput.integer("WriteCapacityUnits");
    if (read == null || write == null) {
      throw ServiceError.invalidParameter("ReadCapacityUnits and WriteCapacityUnits must both be specified when "
          + "BillingMode is PROVISIONED; received ProvisionedThroughput: " + Wire.render(throughput.node()));
    }
    if (read < 1) {
      throw ServiceError.constraint(read, throughput.member("ReadCapacityUnits"),
          "must have value greater than or equal to 1");
    }
    if (write < 1) {
      throw ServiceError.constraint(write, throughput.member("WriteCapacityUnits"),
          "must have value greater than or equal to 1");
    }
    table.billingMode = mode;
    table.readCapacity = read;
    table.writeCapacity = write;
  }

  private static StreamSetting streamSetting(Wire.Members r) {
    Wire.Members spec = r.optionalNested("StreamSpecification");
    if (spec == null) {
      return new StreamSetting(false, null);
    }
    Boolean enabled = spec.bool("StreamEnabled");
    if (enabled == null) {
      throw ServiceError.constraint(null, spec.member("StreamEnabled"), "must not be null");
    }
    String viewType = spec.choice("StreamViewType", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY");
    if (enabled && viewType == null) {
      throw ServiceError.invalidParameter("StreamViewType is required when StreamEnabled is true");
    }
    return new StreamSetting(enabled, viewType);
  }

  /** Opens a new stream on a table; the caller holds the table's write lock. */
  private void enableStream(Table table, @Nullable String viewType, Instant now) {
    Instant labelTime = now;
    String label = Stream.LABEL.format(labelTime);
    // A label (and so an ARN) must be new even when a stream is re-enabled within the same millisecond.
    while (db.streamExists(db.tableArn(table.name) + "/stream/" + label)) {
      labelTime = labelTime.plusMillis(1);
      label = Stream.LABEL.format(labelTime);
    }
    Stream stream = new Stream(db, table.name, table.keySchema, viewType == null ? "KEYS_ONLY" : viewType, label, now);
    db.register(stream);
    table.stream = stream;
  }

  ObjectNode describeTable(Wire.Members r) {
    Table table = db.table(r.tableName("TableName"));
    table.lock.readLock().lock();
    try {
      if (table.deleted()) {
        throw ServiceError.tableNotFound(table.name);
      }
      ObjectNode reply = Wire.object();
      reply.set("Table", table.describe("ACTIVE"));
      return reply;
    } finally {
      table.lock.readLock().unlock();
    }
  }

  ObjectNode listTables(Wire.Members r) {
    Integer limit = r.intInRange("Limit", 1, 100);
    int max = limit == null ? 100 : limit;
    String start = r.string("ExclusiveStartTableName");
    TreeSet<String> names = new TreeSet<>(db.tables.keySet());
    ObjectNode reply = Wire.object();
    ArrayNode list = reply.putArray("TableNames");
    Iterable<String> from = start == null ? names : names.tailSet(start, false);
    String last = null;
    boolean more = false;
    for (String name : from) {
      if (list.size() == max) {
        more = true;
        break;
      }
      list.add(name);
      last = name;
    }
    if (more) {
      reply.put("LastEvaluatedTableName", last);
    }
    return reply;
  }

  ObjectNode deleteTable(Wire.Members r) {
    Table table = db.table(r.tableName("TableName"));
    table.lock.writeLock().lock();
    try {
      if (table.deleted()) {
        throw ServiceError.tableNotFound(table.name);
      }
      if (table.deletionProtection) {
        throw ServiceError.validation("Resource cannot be deleted as it is currently protected against deletion. "
            + "Disable deletion protection first; table: " + table.name);
      }
      ObjectNode description = table.describe("DELETING");
      table.markDeleted();
      db.tables.remove(table.name, table);
      Stream stream = table.stream;
      if (stream != null) {
        stream.disable(db.now());
      }
      ObjectNode reply = Wire.object();
      reply.set("TableDescription", description);
      return reply;
    } finally {
      table.lock.writeLock().unlock();
    }
  }

  ObjectNode updateTable(Wire.Members r) {
    String name = r.tableName("TableName");
    ArrayNode definitionsNode = r.array("AttributeDefinitions");
    Map<String, String> newTypes = definitionsNode == null ? Map.of() : definitions(definitionsNode);
    ArrayNode indexUpdates = r.array("GlobalSecondaryIndexUpdates");
    if (r.has("ReplicaUpdates")) {
      throw ServiceError.validation("The Hardway test kit does not support global tables; received ReplicaUpdates: "
          + Wire.render(r.node().get("ReplicaUpdates")));
    }
    String billingMode = r.choice("BillingMode", "PROVISIONED", "PAY_PER_REQUEST");
    Wire.Members throughput = r.optionalNested("ProvisionedThroughput");
    boolean streamGiven = r.has("StreamSpecification");
    StreamSetting streamSetting = streamSetting(r);
    Boolean protection = r.bool("DeletionProtectionEnabled");
    String tableClass = r.choice("TableClass", "STANDARD", "STANDARD_INFREQUENT_ACCESS");
    boolean anything = billingMode != null || throughput != null || streamGiven || protection != null
        || indexUpdates != null
        || tableClass != null || r.has("SSESpecification") || r.has("OnDemandThroughput")
        || r.has("WarmThroughput");
    if (!anything) {
      throw ServiceError.validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
          + "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required; table: " + name);
    }
    Table table = db.table(name);
    Instant now = db.now();
    table.lock.writeLock().lock();
    try {
      if (table.deleted()) {
        throw ServiceError.tableNotFound(name);
      }
      if (billingMode != null || throughput != null) {
        applyBilling(table, billingMode != null ? billingMode : table.billingMode, throughput, now);
        if (table.billingMode.equals("PAY_PER_REQUEST")) {
          for (SecondaryIndex index : table.indexes) {
            index.readCapacity = 0;
            index.writeCapacity = 0;
          }
        }
      }
      if (indexUpdates != null) {
        updateIndexes(table, indexUpdates, newTypes);
      }
      if (streamGiven) {
        Stream current = table.enabledStream();
        if (streamSetting.enabled()) {
          if (current != null) {
            throw ServiceError.validation("Table already has an enabled stream: " + current.arn + " (view type "
                + current.viewType + "); to change the view type, disable the stream and enable it again");
          }
          enableStream(table, streamSetting.viewType(), now);
        } else {
          if (current == null) {
            throw ServiceError.validation("Table " + name + " has no enabled stream to disable");
          }
          current.disable(now);
        }
      }
      if (protection != null) {
        table.deletionProtection = protection;
      }
      if (tableClass != null) {
        table.tableClass = tableClass;
      }
      ObjectNode reply = Wire.object();
      reply.set("TableDescription", table.describe("ACTIVE"));
      return reply;
    } finally {
      table.lock.writeLock().unlock();
    }
  }

  /**
   * Creates, deletes and re-provisions global secondary indexes; a new index is filled from the table's items at
   * once and is ACTIVE when the call returns. The caller holds the table's write lock.
   */
  private void updateIndexes(Table table, ArrayNode updates, Map<String, String> newTypes) {
    Map<String, String> types = new LinkedHashMap<>(table.attributeTypes);
    newTypes.forEach((attribute, type) -> {
      String existing = types.putIfAbsent(attribute, type);
      if (existing != null && !existing.equals(type)) {
        throw ServiceError.invalidParameter("Cannot change the type of attribute " + attribute + " from " + existing
            + " to " + type);
      }
    });
    int structural = 0;
    for (JsonNode node : updates) {
      ObjectNode update = asObject(node, "GlobalSecondaryIndexUpdates");
      if (update.size() != 1) {
        throw ServiceError.validation("A GlobalSecondaryIndexUpdate must hold exactly one of Create, Update and "
            + "Delete; received " + Wire.render(update));
      }
      String action = update.fieldNames().next();
      Wire.Members m = new Wire.Members(asObject(update.get(action), action),
          "globalSecondaryIndexUpdates.member." + action.toLowerCase(Locale.ROOT));
      switch (action) {
        case "Create" -> {
          structural++;
          SecondaryIndex index = index(m, true, types, table);
          if (table.index(index.name) != null) {
            throw ServiceError.validation("Attempting to create an index which already exists; index: " + index.name);
          }
          for (Map.Entry<PrimaryKey, Map<String, Value>> e : table.items().entrySet()) {
            index.update(e.getKey(), null, e.getValue());
          }
          table.indexes.add(index);
        }
        case "Delete" -> {
          structural++;
          SecondaryIndex index = existingGlobalIndex(table, m.requireString("IndexName"));
          table.indexes.remove(index);
        }
        case "Update" -> {
          SecondaryIndex index = existingGlobalIndex(table, m.requireString("IndexName"));
          indexThroughput(index, m.optionalNested("ProvisionedThroughput"), table.billingMode);
        }
        default -> throw ServiceError.validation("A GlobalSecondaryIndexUpdate must hold exactly one of Create, "
            + "Update and Delete; received " + action);
      }
      if (structural > 1) {
        throw ServiceError.validation("Subscriber limit exceeded: Only 1 online index can be created or deleted "
            + "simultaneously per table; table: " + table.name);
      }
    }
    Set<String> used = usedAttributes(table.keySchema, table.indexes);
    table.attributeTypes.clear();
    types.forEach((attribute, type) -> {
      if (used.contains(attribute)) {
        table.attributeTypes.put(attribute, type);
      }
    });
  }

  private static SecondaryIndex existingGlobalIndex(Table table, String name) {
    SecondaryIndex index = table.index(name);
    if (index == null || !index.global) {
      throw ServiceError.notFound("Requested resource not found: Index: " + name + " not found in table "
          + table.name);
    }
    return index;
  }

  /** Opens a child shard on the table's enabled stream; the server's test hook. */
  String rotateStreamShard(String tableName) {
    Table table = db.tables.get(tableName);
    if (table == null) {
      throw new IllegalArgumentException("table must name an existing table, got \"" + tableName + "\"");
    }
    table.lock.writeLock().lock();
    try {
      Stream stream = table.enabledStream();
      if (stream == null || table.deleted()) {
        throw new IllegalStateException("the table \"" + tableName + "\" has no enabled stream to rotate");
      }
      return stream.rotate(db.now());
    } finally {
      table.lock.writeLock().unlock();
    }
  }

  // ---------------------------------------------------------------- time to live

  ObjectNode updateTimeToLive(Wire.Members r) {
    String name = r.tableName("TableName");
    Wire.Members spec = r.nested("TimeToLiveSpecification");
    Boolean enabled = spec.bool("Enabled");
    if (enabled == null) {
      throw ServiceError.constraint(null, spec.member("Enabled"), "must not be null");
    }
    String attribute = spec.requireString("AttributeName");
    if (attribute.isEmpty()) {
      throw ServiceError.constraint(attribute, spec.member("AttributeName"),
          "must have length greater than or equal to 1");
    }
    Table table = db.table(name);
    table.lock.writeLock().lock();
    try {
      if (table.deleted()) {
        throw ServiceError.tableNotFound(name);
      }
      if (enabled) {
        if (table.timeToLiveAttribute != null) {
          throw ServiceError.validation("TimeToLive is already enabled on table " + name + " with attribute "
              + table.timeToLiveAttribute);
        }
        table.timeToLiveAttribute = attribute;
      } else {
        if (table.timeToLiveAttribute == null) {
          throw ServiceError.validation("TimeToLive is already disabled on table " + name);
        }
        if (!table.timeToLiveAttribute.equals(attribute)) {
          throw ServiceError.validation("TimeToLive is enabled on table " + name + " with attribute "
              + table.timeToLiveAttribute + ", not " + attribute);
        }
        table.timeToLiveAttribute = null;
      }
    } finally {
      table.lock.writeLock().unlock();
    }
    ObjectNode reply = Wire.object();
    reply.putObject("TimeToLiveSpecification").put("Enabled", enabled).put("AttributeName", attribute);
    return reply;
  }

  ObjectNode describeTimeToLive(Wire.Members r) {
    Table table = db.table(r.tableName("TableName"));
    table.lock.readLock().lock();
    try {
      ObjectNode reply = Wire.object();
      ObjectNode d = reply.putObject("TimeToLiveDescription");
      if (table.timeToLiveAttribute == null) {
        d.put("TimeToLiveStatus", "DISABLED");
      } else {
        d.put("TimeToLiveStatus", "ENABLED").put("AttributeName", table.timeToLiveAttribute);
      }
      return reply;
    } finally {
      table.lock.readLock().unlock();
    }
  }

  /**
   * Deletes every item whose time-to-live attribute is a number of epoch seconds in the past, with a stream record
   * marked as the service's. As in DynamoDB, values more than five years in the past are taken for something else
   * and left alone.
   */
  int expireItems() {
    Instant now = db.now();
    long nowSeconds = now.getEpochSecond();
    long oldest = nowSeconds - 5L * 366 * 24 * 3600;
    int expired = 0;
    for (Table table : new ArrayList<>(db.tables.values())) {
      table.lock.writeLock().lock();
      try {
        String attribute = table.timeToLiveAttribute;
        if (table.deleted() || attribute == null) {
          continue;
        }
        List<Map.Entry<PrimaryKey, Map<String, Value>>> due = new ArrayList<>();
        for (Map.Entry<PrimaryKey, Map<String, Value>> e : table.items().entrySet()) {
          if (e.getValue().get(attribute) instanceof Value.N n) {
            double seconds = n.value().doubleValue();
            if (seconds < nowSeconds && seconds >= oldest) {
              due.add(e);
            }
          }
        }
        for (Map.Entry<PrimaryKey, Map<String, Value>> e : due) {
          table.write(e.getKey(), e.getValue(), null, now, true);
          expired++;
        }
      } finally {
        table.lock.writeLock().unlock();
      }
    }
    return expired;
  }

  // ---------------------------------------------------------------- tags and limits

  ObjectNode tagResource(Wire.Members r) {
    Table table = tableByArn(r.requireString("ResourceArn"));
    Map<String, String> tags = tags(r.requireArray("Tags"));
    table.lock.writeLock().lock();
    try {
      table.tags.putAll(tags);
    } finally {
      table.lock.writeLock().unlock();
    }
    return Wire.object();
  }

  ObjectNode untagResource(Wire.Members r) {
    Table table = tableByArn(r.requireString("ResourceArn"));
    ArrayNode keys = r.requireArray("TagKeys");
    table.lock.writeLock().lock();
    try {
      for (JsonNode key : keys) {
        table.tags.remove(key.asText());
      }
    } finally {
      table.lock.writeLock().unlock();
    }
    return Wire.object();
  }

  ObjectNode listTagsOfResource(Wire.Members r) {
    Table table = tableByArn(r.requireString("ResourceArn"));
    ObjectNode reply = Wire.object();
    ArrayNode list = reply.putArray("Tags");
    table.lock.readLock().lock();
    try {
      table.tags.forEach((k, v) -> list.addObject().put("Key", k).put("Value", v));
    } finally {
      table.lock.readLock().unlock();
    }
    return reply;
  }

  ObjectNode describeLimits() {
    ObjectNode reply = Wire.object();
    reply.put("AccountMaxReadCapacityUnits", 80_000);
    reply.put("AccountMaxWriteCapacityUnits", 80_000);
    reply.put("TableMaxReadCapacityUnits", 40_000);
    reply.put("TableMaxWriteCapacityUnits", 40_000);
    return reply;
  }

  private Table tableByArn(String arn) {
    String prefix = db.tableArn("");
    if (!arn.startsWith(prefix) || arn.indexOf('/', prefix.length()) >= 0) {
      throw ServiceError.notFound("Requested resource not found: ResourceArn: " + arn + " is not a table of "
          + "region " + db.region + " and account " + db.accountId);
    }
    return db.table(arn.substring(prefix.length()));
  }

  private static Map<String, String> tags(ArrayNode tags) {
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode t : tags) {
      Wire.Members tag = new Wire.Members(asObject(t, "Tags"), "tags.member");
      out.put(tag.requireString("Key"), tag.requireString("Value"));
    }
    return out;
  }
}
