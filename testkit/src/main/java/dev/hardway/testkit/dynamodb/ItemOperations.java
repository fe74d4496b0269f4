package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardway.testkit.dynamodb.Expr.Action;
import dev.hardway.testkit.dynamodb.Expr.And;
import dev.hardway.testkit.dynamodb.Expr.BeginsWith;
import dev.hardway.testkit.dynamodb.Expr.Between;
import dev.hardway.testkit.dynamodb.Expr.Compare;
import dev.hardway.testkit.dynamodb.Expr.Condition;
import dev.hardway.testkit.dynamodb.Expr.Contains;
import dev.hardway.testkit.dynamodb.Expr.Exists;
import dev.hardway.testkit.dynamodb.Expr.In;
import dev.hardway.testkit.dynamodb.Expr.Not;
import dev.hardway.testkit.dynamodb.Expr.Operand;
import dev.hardway.testkit.dynamodb.Expr.Or;
import dev.hardway.testkit.dynamodb.Expr.Path;
import dev.hardway.testkit.dynamodb.Expr.PathOperand;
import dev.hardway.testkit.dynamodb.Expr.Size;
import dev.hardway.testkit.dynamodb.Expr.TypeIs;
import dev.hardway.testkit.dynamodb.Expr.Update;
import dev.hardway.testkit.dynamodb.Expr.ValueOperand;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** The data plane: single-item writes and reads, Query and Scan, batches and transactions. */
final class ItemOperations {

  /** DynamoDB's limit on the data one Query or Scan page reads. */
  static final long MAX_PAGE_BYTES = 1024 * 1024;
  static final int MAX_BATCH_GET_KEYS = 100;
  static final int MAX_BATCH_WRITES = 25;
  static final int MAX_TRANSACTION_ITEMS = 100;

  private final Database db;

  ItemOperations(Database db) {
    this.db = db;
  }

  // ---------------------------------------------------------------- single-item writes

  /** One write, parsed and checked against the table's schema, not yet applied. */
  private record Intent(
      String kind,
      Table table,
      PrimaryKey key,
      Map<String, Value> keyAttributes,
      @Nullable Map<String, Value> item,
      @Nullable Condition condition,
      @Nullable Update update,
      @Nullable String returnOnFailure) {}

  ObjectNode putItem(Wire.Members r) {
    r.refuseLegacy("Expected", "ConditionalOperator");
    String returnValues = returnValues(r, false);
    String capacity = capacityMode(r);
    Intent intent = parseWrite("Put", r);
    return write(intent, returnValues, capacity);
  }

  ObjectNode deleteItem(Wire.Members r) {
    r.refuseLegacy("Expected", "ConditionalOperator");
    String returnValues = returnValues(r, false);
    String capacity = capacityMode(r);
    Intent intent = parseWrite("Delete", r);
    return write(intent, returnValues, capacity);
  }

  ObjectNode updateItem(Wire.Members r) {
    r.refuseLegacy("AttributeUpdates", "Expected", "ConditionalOperator");
    String returnValues = returnValues(r, true);
    String capacity = capacityMode(r);
    Intent intent = parseWrite("Update", r);
    return write(intent, returnValues, capacity);
  }

  private Intent parseWrite(String kind, Wire.Members r) {
    String name = r.tableName("TableName");
    Map<String, Value> item = null;
    Map<String, Value> keyMap;
    if (kind.equals("Put")) {
      item = Wire.item(r.requireObject("Item"), "Item");
      keyMap = item;
    } else {
      keyMap = Wire.item(r.requireObject("Key"), "Key");
    }
    String onFailure = r.choice("ReturnValuesOnConditionCheckFailure", "ALL_OLD", "NONE");
    ExpressionInputs inputs = ExpressionInputs.of(r);
    String conditionText = r.expression("ConditionExpression");
    Condition condition = conditionText == null ? null
        : ExpressionParser.condition(conditionText, "ConditionExpression", inputs);
    if (kind.equals("ConditionCheck") && condition == null) {
      throw ServiceError.constraint(null, r.member("ConditionExpression"), "must not be null");
    }
    Update update = null;
    if (kind.equals("Update")) {
      String updateText = r.expression("UpdateExpression");
      if (updateText == null && r.has("UpdateExpression")) {
        throw ServiceError.validation("Invalid UpdateExpression: The expression can not be empty;");
      }
      update = updateText == null ? null : ExpressionParser.update(updateText, inputs);
    }
    inputs.checkAllUsed(condition != null || update != null);
    Table table = db.table(name);
    KeySchema schema = table.keySchema;
    PrimaryKey key;
    if (item != null) {
      key = schema.keyOfItem(item);
      checkItemSize(item);
      item = Collections.unmodifiableMap(item);
    } else {
      key = schema.keyOf(keyMap);
    }
    if (update != null) {
      for (Action action : update.actions()) {
        if (schema.isKey(action.path().head())) {
          throw ServiceError.invalidParameter("Cannot update attribute " + action.path().head()
              + ". This attribute is part of the key");
        }
      }
    }
    return new Intent(kind, table, key, schema.toMap(key), item, condition, update, onFailure);
  }

  private ObjectNode write(Intent intent, String returnValues, @Nullable String capacity) {
    Table table = intent.table();
    Map<String, Value> old;
    Map<String, Value> next;
    lockForWrite(table);
    try {
      old = table.get(intent.key());
      checkCondition(intent, old);
      next = apply(intent, old);
      table.write(intent.key(), old, next, db.now(), false);
    } finally {
      table.lock.writeLock().unlock();
    }
    ObjectNode reply = Wire.object();
    Map<String, Value> attributes = switch (returnValues) {
      case "ALL_OLD" -> old;
      case "ALL_NEW" -> next;
      case "UPDATED_OLD" -> old == null ? null : Evaluator.project(old, updatedPaths(intent));
      case "UPDATED_NEW" -> next == null ? null : Evaluator.project(next, updatedPaths(intent));
      default -> null;
    };
    if (attributes != null && !attributes.isEmpty()) {
      reply.set("Attributes", Wire.itemJson(attributes));
    }
    long size = Math.max(old == null ? 0 : Value.itemSize(old), next == null ? 0 : Value.itemSize(next));
    addCapacity(reply, capacity, table.name, writeUnits(size), "WriteCapacityUnits");
    return reply;
  }

  private static List<Path> updatedPaths(Intent intent) {
    List<Path> paths = new ArrayList<>();
    if (intent.update() != null) {
      for (Action action : intent.update().actions()) {
        paths.add(action.path());
      }
    }
    return paths;
  }

  private static void checkCondition(Intent intent, @Nullable Map<String, Value> old) {
    if (intent.condition() != null && !Evaluator.test(intent.condition(), old)) {
      throw ServiceError.conditionalCheckFailed(
          "ALL_OLD".equals(intent.returnOnFailure()) && old != null ? Wire.itemJson(old) : null);
    }
  }

  /** The item after the write; the caller holds the table's write lock. */
  private static @Nullable Map<String, Value> apply(Intent intent, @Nullable Map<String, Value> old) {
    return switch (intent.kind()) {
      case "Put" -> {
        intent.table().checkIndexKeys(intent.item());
        yield intent.item();
      }
      case "Delete" -> null;
      case "ConditionCheck" -> old;
      default -> {
        if (old == null && intent.update() != null && onlyRemoves(intent.update())) {
          // DynamoDB creates no item for an update that could only take attributes away.
          yield null;
        }
        Map<String, Value> base = old != null ? old : intent.keyAttributes();
        Map<String, Value> next = intent.update() == null ? base : Evaluator.apply(intent.update(), base);
        checkItemSize(next);
        intent.table().checkIndexKeys(next);
        yield Collections.unmodifiableMap(next);
      }
    };
  }

  private static boolean onlyRemoves(Update update) {
    for (Action action : update.actions()) {
      if (!(action instanceof Expr.RemoveAction) && !(action instanceof Expr.DeleteAction)) {
        return false;
      }
    }
    return true;
  }

  private static void checkItemSize(Map<String, Value> item) {
    long size = Value.itemSize(item);
    if (size > Value.MAX_ITEM_BYTES) {
      throw ServiceError.validation("Item size has exceeded the maximum allowed size; size: " + size
          + " bytes, limit: " + Value.MAX_ITEM_BYTES + " bytes");
    }
  }

  private static String returnValues(Wire.Members r, boolean update) {
    String v = r.choice("ReturnValues", "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW");
    if (v == null) {
      return "NONE";
    }
    if (!update && !v.equals("NONE") && !v.equals("ALL_OLD")) {
      throw ServiceError.validation("Return values set to invalid value; ReturnValues: " + v
          + " (this operation takes NONE or ALL_OLD)");
    }
    return v;
  }

  private void lockForWrite(Table table) {
    table.lock.writeLock().lock();
    if (table.deleted()) {
      table.lock.writeLock().unlock();
      throw ServiceError.tableNotFound(table.name);
    }
  }

  private void lockForRead(Table table) {
    table.lock.readLock().lock();
    if (table.deleted()) {
      table.lock.readLock().unlock();
      throw ServiceError.tableNotFound(table.name);
    }
  }

  // ---------------------------------------------------------------- single-item reads

  ObjectNode getItem(Wire.Members r) {
    r.refuseLegacy("AttributesToGet");
    String name = r.tableName("TableName");
    Map<String, Value> keyMap = Wire.item(r.requireObject("Key"), "Key");
    String capacity = capacityMode(r);
    boolean consistent = Boolean.TRUE.equals(r.bool("ConsistentRead"));
    ExpressionInputs inputs = ExpressionInputs.of(r);
    List<Path> projection = projection(r, inputs);
    inputs.checkAllUsed(projection != null);
    Table table = db.table(name);
    PrimaryKey key = table.keySchema.keyOf(keyMap);
    Map<String, Value> item;
    lockForRead(table);
    try {
      item = table.get(key);
    } finally {
      table.lock.readLock().unlock();
    }
    ObjectNode reply = Wire.object();
    if (item != null) {
      reply.set("Item", Wire.itemJson(projection == null ? item : Evaluator.project(item, projection)));
    }
    addCapacity(reply, capacity, name, readUnits(item == null ? 0 : Value.itemSize(item), consistent),
        "ReadCapacityUnits");
    return reply;
  }

  private static @Nullable List<Path> projection(Wire.Members r, ExpressionInputs inputs) {
    String text = r.expression("ProjectionExpression");
    return text == null ? null : ExpressionParser.projection(text, inputs);
  }

  // ---------------------------------------------------------------- query and scan

  /** What a Query or Scan returns of each item. */
  private enum Select { ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES, COUNT }

  /** One Query or Scan request, parsed before the table is locked. */
  private record Read(
      String tableName,
      @Nullable String indexName,
      @Nullable Condition filter,
      @Nullable List<Path> projection,
      @Nullable String select,
      @Nullable Integer limit,
      boolean consistent,
      @Nullable String capacity,
      @Nullable ObjectNode startKey) {}

  private static Read read(Wire.Members r, @Nullable Condition filter, @Nullable List<Path> projection) {
    return new Read(r.tableName("TableName"), r.string("IndexName"), filter, projection,
        r.choice("Select", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"),
        r.intInRange("Limit", 1, Integer.MAX_VALUE), Boolean.TRUE.equals(r.bool("ConsistentRead")),
        capacityMode(r), r.object("ExclusiveStartKey"));
  }

  ObjectNode query(Wire.Members r) {
    r.refuseLegacy("KeyConditions", "QueryFilter", "AttributesToGet", "ConditionalOperator");
    String name = r.tableName("TableName");
    ExpressionInputs inputs = ExpressionInputs.of(r);
    String keyText = r.expression("KeyConditionExpression");
    if (keyText == null) {
      throw ServiceError.validation("Either the KeyConditions or KeyConditionExpression parameter must be "
          + "specified in the request.");
    }
    Condition keyCondition = ExpressionParser.condition(keyText, "KeyConditionExpression", inputs);
    String filterText = r.expression("FilterExpression");
    Condition filter = filterText == null ? null
        : ExpressionParser.condition(filterText, "FilterExpression", inputs);
    List<Path> projection = projection(r, inputs);
    inputs.checkAllUsed(true);
    Read read = read(r, filter, projection);
    Boolean forwardFlag = r.bool("ScanIndexForward");
    boolean forward = forwardFlag == null || forwardFlag;
    Table table = db.table(name);
    lockForRead(table);
    try {
      SecondaryIndex index = index(table, read);
      Select select = select(read, index);
      KeySchema schema = index == null ? table.keySchema : index.keySchema;
      KeyRange range = keyRange(keyCondition, schema);
      if (filter != null) {
        for (Path path : paths(filter)) {
          if (schema.isKey(path.head())) {
            throw ServiceError.validation("Filter Expression can only contain non-primary key attributes: Primary "
                + "key attribute: " + path.head());
          }
        }
      }
      Stream<Map.Entry<PrimaryKey, Map<String, Value>>> entries;
      if (index == null) {
        NavigableMap<PrimaryKey, Map<String, Value>> view = range.view(table.items());
        if (read.startKey() != null) {
          PrimaryKey start = schema.keyOf(Wire.item(read.startKey(), "ExclusiveStartKey"));
          checkInRange(range, start, schema);
          view = forward ? view.tailMap(start, false) : view.headMap(start, false);
        }
        Stream<Map.Entry<PrimaryKey, Map<String, Value>>> ordered =
            (forward ? view : view.descendingMap()).entrySet().stream();
        entries = range.prefix() == null ? ordered : ordered.takeWhile(e -> range.matches(e.getKey()));
      } else {
        IndexStart start = indexStart(read, table, index);
        if (start != null) {
          checkInRange(range, start.indexKey(), schema);
        }
        entries = indexEntries(range.view(index.entries()), forward, start, range);
      }
      return page(table, index, entries, read, select);
    } finally {
      table.lock.readLock().unlock();
    }
  }

  ObjectNode scan(Wire.Members r) {
    r.refuseLegacy("ScanFilter", "AttributesToGet", "ConditionalOperator");
    ExpressionInputs inputs = ExpressionInputs.of(r);
    String filterText = r.expression("FilterExpression");
    Condition filter = filterText == null ? null
        : ExpressionParser.condition(filterText, "FilterExpression", inputs);
    List<Path> projection = projection(r, inputs);
    inputs.checkAllUsed(filter != null || projection != null);
    Read read = read(r, filter, projection);
    Integer segment = r.intInRange("Segment", 0, 999_999);
    Integer totalSegments = r.intInRange("TotalSegments", 1, 1_000_000);
    if (segment != null && totalSegments == null) {
      throw ServiceError.validation("The TotalSegments parameter is required but was not present in the request "
          + "when Segment parameter is present; Segment: " + segment);
    }
    if (segment == null && totalSegments != null) {
      throw ServiceError.validation("The Segment parameter is required but was not present in the request when "
          + "parameter TotalSegments is present; TotalSegments: " + totalSegments);
    }
    if (segment != null && segment >= totalSegments) {
      throw ServiceError.validation("The Segment parameter is zero-based and must be less than parameter "
          + "TotalSegments: Segment: " + segment + " is not less than TotalSegments: " + totalSegments);
    }
    Table table = db.table(read.tableName());
    lockForRead(table);
    try {
      SecondaryIndex index = index(table, read);
      Select select = select(read, index);
      Stream<Map.Entry<PrimaryKey, Map<String, Value>>> entries;
      if (index == null) {
        NavigableMap<PrimaryKey, Map<String, Value>> view = table.items();
        if (read.startKey() != null) {
          view = view.tailMap(table.keySchema.keyOf(Wire.item(read.startKey(), "ExclusiveStartKey")), false);
        }
        entries = view.entrySet().stream();
      } else {
        entries = indexEntries(index.entries(), true, indexStart(read, table, index), null);
      }
      if (segment != null) {
        entries = entries.filter(e -> segmentOf(e.getKey().hash(), totalSegments) == segment);
      }
      return page(table, index, entries, read, select);
    } finally {
      table.lock.readLock().unlock();
    }
  }

  private static @Nullable SecondaryIndex index(Table table, Read read) {
    if (read.indexName() == null) {
      return null;
    }
    SecondaryIndex index = table.index(read.indexName());
    if (index == null) {
      throw ServiceError.validation("The table does not have the specified index: " + read.indexName()
          + "; table: " + table.name);
    }
    if (index.global && read.consistent()) {
      throw ServiceError.validation("Consistent reads are not supported on global secondary indexes; index: "
          + index.name);
    }
    return index;
  }

  private static void checkInRange(KeyRange range, PrimaryKey start, KeySchema schema) {
    if (!range.contains(start)) {
      throw ServiceError.validation("The provided starting key is outside query boundaries based on provided "
          + "conditions; ExclusiveStartKey: " + Wire.itemJson(schema.toMap(start)));
    }
  }

  /** Where an index read resumes: after this table key among the items with this index key. */
  private record IndexStart(PrimaryKey indexKey, PrimaryKey tableKey) {}

  private static @Nullable IndexStart indexStart(Read read, Table table, SecondaryIndex index) {
    if (read.startKey() == null) {
      return null;
    }
    Map<String, Value> start = Wire.item(read.startKey(), "ExclusiveStartKey");
    Set<String> expected = new TreeSet<>(table.keySchema.names());
    expected.addAll(index.keySchema.names());
    if (!start.keySet().equals(expected)) {
      throw ServiceError.validation("The provided starting key is invalid: it must hold exactly the table's and the "
          + "index's key attributes " + expected + ", received " + new TreeSet<>(start.keySet()));
    }
    Map<String, Value> tablePart = new LinkedHashMap<>();
    table.keySchema.names().forEach(n -> tablePart.put(n, start.get(n)));
    Map<String, Value> indexPart = new LinkedHashMap<>();
    index.keySchema.names().forEach(n -> indexPart.put(n, start.get(n)));
    return new IndexStart(index.keySchema.keyOf(indexPart), table.keySchema.keyOf(tablePart));
  }

  /** An index's entries in query order, each group of equal index keys in table-key order. */
  private static Stream<Map.Entry<PrimaryKey, Map<String, Value>>> indexEntries(
      NavigableMap<PrimaryKey, NavigableMap<PrimaryKey, Map<String, Value>>> view,
      boolean forward,
      @Nullable IndexStart start,
      @Nullable KeyRange range) {
    NavigableMap<PrimaryKey, NavigableMap<PrimaryKey, Map<String, Value>>> groups = view;
    if (start != null) {
      groups = forward ? groups.tailMap(start.indexKey(), true) : groups.headMap(start.indexKey(), true);
    }
    Stream<Map.Entry<PrimaryKey, NavigableMap<PrimaryKey, Map<String, Value>>>> ordered =
        (forward ? groups : groups.descendingMap()).entrySet().stream();
    if (range != null && range.prefix() != null) {
      ordered = ordered.takeWhile(e -> range.matches(e.getKey()));
    }
    return ordered.flatMap(e -> {
      NavigableMap<PrimaryKey, Map<String, Value>> group = e.getValue();
      if (start != null && e.getKey().equals(start.indexKey())) {
        group = forward ? group.tailMap(start.tableKey(), false) : group.headMap(start.tableKey(), false);
      }
      return (forward ? group : group.descendingMap()).entrySet().stream();
    });
  }

  /** Which of a parallel scan's segments an item belongs to: a stable hash of its partition key. */
  static int segmentOf(Value hash, int totalSegments) {
    return (int) Math.floorMod(Database.mix(hash.hashCode()), (long) totalSegments);
  }

  /** Resolves Select as DynamoDB does: by default all attributes of a table, all projected ones of an index. */
  private static Select select(Read read, @Nullable SecondaryIndex index) {
    String given = read.select();
    Select select = given != null ? Select.valueOf(given)
        : read.projection() != null ? Select.SPECIFIC_ATTRIBUTES
        : index != null ? Select.ALL_PROJECTED_ATTRIBUTES : Select.ALL_ATTRIBUTES;
    if (select == Select.ALL_PROJECTED_ATTRIBUTES && index == null) {
      throw ServiceError.validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
    }
    if (select == Select.SPECIFIC_ATTRIBUTES && read.projection() == null) {
      throw ServiceError.validation("Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression");
    }
    if (select != Select.SPECIFIC_ATTRIBUTES && read.projection() != null) {
      throw ServiceError.validation("Cannot specify the ProjectionExpression when choosing to get " + select
          + "; use Select SPECIFIC_ATTRIBUTES or leave Select out");
    }
    if (select == Select.ALL_ATTRIBUTES && index != null && index.global && !index.projectionType.equals("ALL")) {
      throw ServiceError.validation("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
          + "supported for global secondary index " + index.name + " because its projection type is not ALL");
    }
    return select;
  }

  private ObjectNode page(
      Table table,
      @Nullable SecondaryIndex index,
      Stream<Map.Entry<PrimaryKey, Map<String, Value>>> entries,
      Read read,
      Select select) {
    // A global index holds only its projection; a local one fetches the rest from the table, as in DynamoDB.
    boolean projectedOnly = index != null && index.global;
    ObjectNode reply = Wire.object();
    ArrayNode items = select == Select.COUNT ? null : reply.putArray("Items");
    int scanned = 0;
    int matched = 0;
    long bytes = 0;
    Map<String, Value> last = null;
    boolean cut = false;
    Integer limit = read.limit();
    for (Iterator<Map.Entry<PrimaryKey, Map<String, Value>>> it = entries.iterator(); it.hasNext(); ) {
      Map<String, Value> item = it.next().getValue();
      Map<String, Value> visible = projectedOnly ? index.projected(item) : item;
      long size = Value.itemSize(visible);
      if (scanned > 0 && bytes + size > MAX_PAGE_BYTES) {
        cut = true;
        break;
      }
      bytes += size;
      scanned++;
      last = item;
      if (read.filter() == null || Evaluator.test(read.filter(), visible)) {
        matched++;
        if (items != null) {
          Map<String, Value> shown = switch (select) {
            case ALL_PROJECTED_ATTRIBUTES -> index.projected(item);
            case SPECIFIC_ATTRIBUTES -> Evaluator.project(visible, read.projection());
            default -> visible;
          };
          items.add(Wire.itemJson(shown));
        }
      }
      // Like DynamoDB, stop at the limit without looking ahead: a full page always carries LastEvaluatedKey.
      if (limit != null && scanned == limit) {
        cut = true;
        break;
      }
    }
    reply.put("Count", matched);
    reply.put("ScannedCount", scanned);
    if (cut && last != null) {
      reply.set("LastEvaluatedKey", Wire.itemJson(index == null ? table.keySchema.keyAttributes(last)
          : index.lastKey(last)));
    }
    addCapacity(reply, read.capacity(), table.name, readUnits(bytes, read.consistent()), "ReadCapacityUnits");
    return reply;
  }

  /** The part of a table a KeyConditionExpression selects. */
  private record KeyRange(
      Value hash,
      Expr.@Nullable Comparator comparator,
      @Nullable Value first,
      @Nullable Value second,
      @Nullable Value prefix) {

    <V> NavigableMap<PrimaryKey, V> view(NavigableMap<PrimaryKey, V> items) {
      PrimaryKey lowest = PrimaryKey.partitionStart(hash);
      PrimaryKey highest = PrimaryKey.partitionEnd(hash);
      if (prefix != null) {
        return items.subMap(new PrimaryKey(hash, prefix), true, highest, true);
      }
      if (second != null) {
        return items.subMap(new PrimaryKey(hash, first), true, new PrimaryKey(hash, second), true);
      }
      if (comparator == null) {
        return items.subMap(lowest, true, highest, true);
      }
      PrimaryKey at = new PrimaryKey(hash, first);
      return switch (comparator) {
        case EQ -> items.subMap(at, true, at, true);
        case LT -> items.subMap(lowest, true, at, false);
        case LE -> items.subMap(lowest, true, at, true);
        case GT -> items.subMap(at, false, highest, true);
        case GE -> items.subMap(at, true, highest, true);
        case NE -> throw new IllegalStateException("<> is refused when the key condition is read");
      };
    }

    /** Whether a key satisfies the condition; an ExclusiveStartKey must, or the map views cannot start at it. */
    boolean contains(PrimaryKey key) {
      if (!key.hash().equals(hash)) {
        return false;
      }
      Value sk = key.range();
      if (prefix != null) {
        return Evaluator.beginsWith(sk, prefix);
      }
      if (second != null) {
        return Evaluator.compare(sk, Expr.Comparator.GE, first) && Evaluator.compare(sk, Expr.Comparator.LE, second);
      }
      return comparator == null || Evaluator.compare(sk, comparator, first);
    }

    /** For begins_with: the matching keys are contiguous, so the first that does not match ends the range. */
    boolean matches(PrimaryKey key) {
      return prefix == null || Evaluator.beginsWith(key.range(), prefix);
    }
  }

  private static KeyRange keyRange(Condition condition, KeySchema schema) {
    List<Condition> parts = new ArrayList<>();
    flattenAnd(condition, parts);
    Value hash = null;
    Expr.Comparator rangeComparator = null;
    Value rangeFirst = null;
    Value rangeSecond = null;
    Value rangePrefix = null;
    Set<String> seen = new HashSet<>();
    for (Condition part : parts) {
      String attribute;
      Expr.Comparator comparator = null;
      Value first = null;
      Value second = null;
      Value prefix = null;
      switch (part) {
        case Compare(Operand l, Expr.Comparator c, Operand rr) -> {
          boolean reversed = l instanceof ValueOperand && rr instanceof PathOperand;
          attribute = keyAttribute(reversed ? rr : l, schema);
          first = keyValue(reversed ? l : rr, c.symbol);
          comparator = reversed ? flip(c) : c;
          if (comparator == Expr.Comparator.NE) {
            throw ServiceError.validation("Invalid KeyConditionExpression: Unsupported operator on "
                + "KeyConditionExpression: operator: <>");
          }
        }
        case Between(Operand o, Operand lo, Operand hi) -> {
          attribute = keyAttribute(o, schema);
          first = keyValue(lo, "BETWEEN");
          second = keyValue(hi, "BETWEEN");
        }
        case BeginsWith(Operand o, Operand p) -> {
          attribute = keyAttribute(o, schema);
          prefix = keyValue(p, "begins_with");
        }
        default -> throw ServiceError.validation("Invalid operator used in KeyConditionExpression: "
            + operatorName(part));
      }
      if (!seen.add(attribute)) {
        throw ServiceError.validation("KeyConditionExpressions must only contain one condition per key; key: "
            + attribute);
      }
      String type = attribute.equals(schema.hashName()) ? schema.hashType() : schema.rangeType();
      for (Value v : new Value[] {first, second, prefix}) {
        if (v != null && !v.type().equals(type)) {
          throw ServiceError.invalidParameter("Condition parameter type does not match schema type; key: "
              + attribute + ", schema type: " + type + ", condition value: " + Value.describe(v));
        }
      }
      if (attribute.equals(schema.hashName())) {
        if (comparator != Expr.Comparator.EQ) {
          throw ServiceError.validation("Query key condition not supported; the partition key " + attribute
              + " takes only =, received " + operatorName(part));
        }
        hash = first;
      } else {
        rangeComparator = comparator;
        rangeFirst = first;
        rangeSecond = second;
        rangePrefix = prefix;
      }
    }
    if (hash == null) {
      throw ServiceError.validation("Query condition missed key schema element: " + schema.hashName());
    }
    return new KeyRange(hash, rangeComparator, rangeFirst, rangeSecond, rangePrefix);
  }

  private static void flattenAnd(Condition c, List<Condition> out) {
    if (c instanceof And(Condition l, Condition r)) {
      flattenAnd(l, out);
      flattenAnd(r, out);
    } else {
      out.add(c);
    }
  }

  private static String operatorName(Condition c) {
    return switch (c) {
      case Or ignored -> "OR";
      case Not ignored -> "NOT";
      case In ignored -> "IN";
      case Exists e -> e.exists() ? "attribute_exists" : "attribute_not_exists";
      case TypeIs ignored -> "attribute_type";
      case Contains ignored -> "contains";
      case BeginsWith ignored -> "begins_with";
      case Between ignored -> "BETWEEN";
      case Compare cmp -> cmp.comparator().symbol;
      case And ignored -> "AND";
    };
  }

  private static Expr.Comparator flip(Expr.Comparator c) {
    return switch (c) {
      case LT -> Expr.Comparator.GT;
      case LE -> Expr.Comparator.GE;
      case GT -> Expr.Comparator.LT;
      case GE -> Expr.Comparator.LE;
      default -> c;
    };
  }

  private static String keyAttribute(Operand operand, KeySchema schema) {
    if (operand instanceof PathOperand(Path path) && path.isTopLevel() && schema.isKey(path.head())) {
      return path.head();
    }
    if (operand instanceof PathOperand(Path path)) {
      throw ServiceError.validation("Query condition missed key schema element: " + path
          + " is not a key attribute; the key is " + schema.names());
    }
    if (operand instanceof Size) {
      throw ServiceError.validation("Invalid operator used in KeyConditionExpression: size");
    }
    throw ServiceError.validation("Invalid KeyConditionExpression: a condition must name a key attribute");
  }

  private static Value keyValue(Operand operand, String operator) {
    if (operand instanceof ValueOperand v) {
      return v.value();
    }
    throw ServiceError.validation("Invalid KeyConditionExpression: the operands of " + operator
        + " must be expression attribute values");
  }

  /** Every document path a condition mentions. */
  static List<Path> paths(Condition c) {
    List<Path> out = new ArrayList<>();
    collectPaths(c, out);
    return out;
  }

  private static void collectPaths(Condition c, List<Path> out) {
    switch (c) {
      case And(Condition l, Condition r) -> {
        collectPaths(l, out);
        collectPaths(r, out);
      }
      case Or(Condition l, Condition r) -> {
        collectPaths(l, out);
        collectPaths(r, out);
      }
      case Not(Condition inner) -> collectPaths(inner, out);
      case Exists(Path p, boolean ignored) -> out.add(p);
      case TypeIs(Path p, Operand ignored) -> out.add(p);
      case BeginsWith(Operand a, Operand b) -> collectOperands(out, a, b);
      case Contains(Operand a, Operand b) -> collectOperands(out, a, b);
      case Compare(Operand a, Expr.Comparator ignored, Operand b) -> collectOperands(out, a, b);
      case Between(Operand a, Operand b, Operand d) -> collectOperands(out, a, b, d);
      case In(Operand a, List<Operand> rest) -> {
        collectOperands(out, a);
        collectOperands(out, rest.toArray(new Operand[0]));
      }
    }
  }

  private static void collectOperands(List<Path> out, Operand... operands) {
    for (Operand o : operands) {
      if (o instanceof PathOperand(Path p)) {
        out.add(p);
      } else if (o instanceof Size(Path p)) {
        out.add(p);
      }
    }
  }

  // ---------------------------------------------------------------- batches

  ObjectNode batchGetItem(Wire.Members r) {
    ObjectNode requests = r.requireObject("RequestItems");
    if (requests.isEmpty()) {
      throw ServiceError.constraint("{}", "requestItems", "must have length greater than or equal to 1");
    }
    String capacity = capacityMode(r);
    record TableRead(Table table, List<PrimaryKey> keys, @Nullable List<Path> projection, boolean consistent) {}
    List<TableRead> reads = new ArrayList<>();
    int total = 0;
    for (Map.Entry<String, JsonNode> e : requests.properties()) {
      Wire.checkTableName(e.getKey(), "requestItems.key");
      if (!(e.getValue() instanceof ObjectNode entry)) {
        throw ServiceError.serialization("RequestItems." + e.getKey() + " must be a JSON object, got "
            + Wire.render(e.getValue()));
      }
      Wire.Members m = new Wire.Members(entry, "requestItems." + e.getKey());
      m.refuseLegacy("AttributesToGet");
      ExpressionInputs inputs = ExpressionInputs.of(m);
      List<Path> projection = projection(m, inputs);
      inputs.checkAllUsed(projection != null);
      ArrayNode keys = m.requireArray("Keys");
      if (keys.isEmpty()) {
        throw ServiceError.constraint("[]", m.member("Keys"), "must have length greater than or equal to 1");
      }
      total += keys.size();
      if (total > MAX_BATCH_GET_KEYS) {
        throw ServiceError.validation("Too many items requested for the BatchGetItem call; the limit is "
            + MAX_BATCH_GET_KEYS + " keys, received at least " + total);
      }
      Table table = db.table(e.getKey());
      List<PrimaryKey> parsed = new ArrayList<>();
      Set<PrimaryKey> distinct = new HashSet<>();
      for (JsonNode key : keys) {
        PrimaryKey k = table.keySchema.keyOf(Wire.item(key, "Keys"));
        if (!distinct.add(k)) {
          throw ServiceError.validation("Provided list of item keys contains duplicates; table: " + table.name
              + ", key: " + Wire.render(key));
        }
        parsed.add(k);
      }
      reads.add(new TableRead(table, parsed, projection, Boolean.TRUE.equals(m.bool("ConsistentRead"))));
    }
    ObjectNode reply = Wire.object();
    ObjectNode responses = reply.putObject("Responses");
    ArrayNode consumed = Wire.array();
    for (TableRead read : reads) {
      ArrayNode list = responses.putArray(read.table().name);
      long bytes = 0;
      lockForRead(read.table());
      try {
        for (PrimaryKey key : read.keys()) {
          Map<String, Value> item = read.table().get(key);
          if (item != null) {
            bytes += Value.itemSize(item);
            list.add(Wire.itemJson(read.projection() == null ? item : Evaluator.project(item, read.projection())));
          }
        }
      } finally {
        read.table().lock.readLock().unlock();
      }
      ObjectNode c = capacityNode(capacity, read.table().name, readUnits(bytes, read.consistent()),
          "ReadCapacityUnits");
      if (c != null) {
        consumed.add(c);
      }
    }
    reply.putObject("UnprocessedKeys");
    if (capacity != null && !capacity.equals("NONE")) {
      reply.set("ConsumedCapacity", consumed);
    }
    return reply;
  }

  ObjectNode batchWriteItem(Wire.Members r) {
    ObjectNode requests = r.requireObject("RequestItems");
    if (requests.isEmpty()) {
      throw ServiceError.constraint("{}", "requestItems", "must have length greater than or equal to 1");
    }
    String capacity = capacityMode(r);
    if (r.has("ReturnItemCollectionMetrics")) {
      r.choice("ReturnItemCollectionMetrics", "SIZE", "NONE");
    }
    List<Intent> intents = new ArrayList<>();
    int total = 0;
    for (Map.Entry<String, JsonNode> e : requests.properties()) {
      Wire.checkTableName(e.getKey(), "requestItems.key");
      if (!(e.getValue() instanceof ArrayNode list)) {
        throw ServiceError.serialization("RequestItems." + e.getKey() + " must be a JSON array, got "
            + Wire.render(e.getValue()));
      }
      if (list.isEmpty()) {
        throw ServiceError.constraint("[]", "requestItems." + e.getKey(),
            "must have length greater than or equal to 1");
      }
      total += list.size();
      if (total > MAX_BATCH_WRITES) {
        throw ServiceError.constraint(Wire.shorten(requests.toString()), "requestItems",
            "must have length less than or equal to " + MAX_BATCH_WRITES + " (received at least " + total
                + " write requests)");
      }
      Table table = db.table(e.getKey());
      Set<PrimaryKey> distinct = new HashSet<>();
      for (JsonNode request : list) {
        if (!(request instanceof ObjectNode o)) {
          throw ServiceError.serialization("A write request must be a JSON object, got " + Wire.render(request));
        }
        Wire.Members m = new Wire.Members(o, "requestItems." + e.getKey() + ".member");
        boolean put = m.has("PutRequest");
        boolean delete = m.has("DeleteRequest");
        if (put == delete) {
          throw ServiceError.validation("Supplied AttributeValue has more than one datatypes set, must contain "
              + "exactly one of the supported datatypes; a WriteRequest needs exactly one of PutRequest and "
              + "DeleteRequest, received " + Wire.render(o));
        }
        Intent intent;
        if (put) {
          Map<String, Value> item = Wire.item(m.nested("PutRequest").requireObject("Item"), "Item");
          PrimaryKey key = table.keySchema.keyOfItem(item);
          checkItemSize(item);
          intent = new Intent("Put", table, key, table.keySchema.toMap(key), Collections.unmodifiableMap(item), null,
              null, null);
        } else {
          Map<String, Value> keyMap = Wire.item(m.nested("DeleteRequest").requireObject("Key"), "Key");
          PrimaryKey key = table.keySchema.keyOf(keyMap);
          intent = new Intent("Delete", table, key, table.keySchema.toMap(key), null, null, null, null);
        }
        if (!distinct.add(intent.key())) {
          throw ServiceError.validation("Provided list of item keys contains duplicates; table: " + table.name
              + ", key: " + Wire.itemJson(intent.keyAttributes()));
        }
        intents.add(intent);
      }
    }
    Map<String, Long> unitsByTable = new LinkedHashMap<>();
    Instant now = db.now();
    for (Intent intent : intents) {
      Table table = intent.table();
      lockForWrite(table);
      try {
        Map<String, Value> old = table.get(intent.key());
        Map<String, Value> next = apply(intent, old);
        table.write(intent.key(), old, next, now, false);
        long size = Math.max(old == null ? 0 : Value.itemSize(old), next == null ? 0 : Value.itemSize(next));
        unitsByTable.merge(table.name, writeUnits(size), Long::sum);
      } finally {
        table.lock.writeLock().unlock();
      }
    }
    ObjectNode reply = Wire.object();
    reply.putObject("UnprocessedItems");
    if (capacity != null && !capacity.equals("NONE")) {
      ArrayNode consumed = reply.putArray("ConsumedCapacity");
      unitsByTable.forEach((t, u) -> consumed.add(capacityNode(capacity, t, u, "WriteCapacityUnits")));
    }
    return reply;
  }

  // ---------------------------------------------------------------- transactions

  ObjectNode transactWriteItems(Wire.Members r) {
    ArrayNode actions = transactItems(r);
    String capacity = capacityMode(r);
    String token = r.string("ClientRequestToken");
    if (token != null && (token.isEmpty() || token.length() > 36)) {
      throw ServiceError.constraint(token, "clientRequestToken", "must have length between 1 and 36");
    }
    List<Intent> intents = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (JsonNode node : actions) {
      if (!(node instanceof ObjectNode action) || action.size() != 1) {
        throw ServiceError.validation("A TransactWriteItem must hold exactly one of ConditionCheck, Put, Delete "
            + "and Update; received " + Wire.render(node));
      }
      String kind = action.fieldNames().next();
      if (!Set.of("ConditionCheck", "Put", "Delete", "Update").contains(kind)) {
        throw ServiceError.validation("A TransactWriteItem must hold exactly one of ConditionCheck, Put, Delete "
            + "and Update; received " + kind);
      }
      Wire.Members m = new Wire.Members(objectOf(action, kind), "transactItems.member." + kind.toLowerCase(java.util.Locale.ROOT));
      m.refuseLegacy("Expected", "ConditionalOperator", "AttributeUpdates");
      Intent intent = parseWrite(kind, m);
      if (!seen.add(intent.table().name + "\u0000" + Wire.itemJson(intent.keyAttributes()))) {
        throw ServiceError.validation("Transaction request cannot include multiple operations on one item; table: "
            + intent.table().name + ", key: " + Wire.itemJson(intent.keyAttributes()));
      }
      intents.add(intent);
    }
    byte[] digest = token == null ? null : digest(actions);
    if (token != null && db.clientTokens.alreadyCommitted(token, digest, db.now())) {
      return Wire.object();
    }
    List<Table> tables = lockAll(intents.stream().map(Intent::table).toList(), true);
    Map<String, Long> unitsByTable = new LinkedHashMap<>();
    try {
      List<Map<String, Value>> olds = new ArrayList<>();
      List<Map<String, Value>> nexts = new ArrayList<>();
      ArrayNode reasons = Wire.array();
      List<String> codes = new ArrayList<>();
      boolean failed = false;
      for (Intent intent : intents) {
        Map<String, Value> old = intent.table().get(intent.key());
        ObjectNode reason = Wire.object();
        Map<String, Value> next = null;
        try {
          checkCondition(intent, old);
          next = apply(intent, old);
          reason.put("Code", "None");
        } catch (ServiceError e) {
          failed = true;
          if (e.code().equals("ConditionalCheckFailedException")) {
            reason.put("Code", "ConditionalCheckFailed").put("Message", "The conditional request failed");
            if ("ALL_OLD".equals(intent.returnOnFailure()) && old != null) {
              reason.set("Item", Wire.itemJson(old));
            }
          } else {
            reason.put("Code", "ValidationError").put("Message", e.getMessage());
          }
        }
        codes.add(reason.get("Code").asText());
        reasons.add(reason);
        olds.add(old);
        nexts.add(next);
      }
      if (failed) {
        ObjectNode extra = Wire.object();
        extra.set("CancellationReasons", reasons);
        throw ServiceError.transactionCanceled("Transaction cancelled, please refer cancellation reasons for "
            + "specific reasons " + codes, extra);
      }
      Instant now = db.now();
      for (int i = 0; i < intents.size(); i++) {
        Intent intent = intents.get(i);
        Map<String, Value> old = olds.get(i);
        Map<String, Value> next = nexts.get(i);
        intent.table().write(intent.key(), old, next, now, false);
        long size = Math.max(old == null ? 0 : Value.itemSize(old), next == null ? 0 : Value.itemSize(next));
        unitsByTable.merge(intent.table().name, 2L * writeUnits(size), Long::sum);
      }
      if (token != null) {
        // Recorded before the locks go, so a retry cannot slip in between the commit and the record.
        db.clientTokens.committed(token, digest, now);
      }
    } finally {
      unlockAll(tables, true);
    }
    ObjectNode reply = Wire.object();
    if (capacity != null && !capacity.equals("NONE")) {
      ArrayNode consumed = reply.putArray("ConsumedCapacity");
      unitsByTable.forEach((t, u) -> consumed.add(capacityNode(capacity, t, u, "WriteCapacityUnits")));
    }
    return reply;
  }

  ObjectNode transactGetItems(Wire.Members r) {
    ArrayNode actions = transactItems(r);
    String capacity = capacityMode(r);
    record Read(Table table, PrimaryKey key, @Nullable List<Path> projection) {}
    List<Read> reads = new ArrayList<>();
    for (JsonNode node : actions) {
      if (!(node instanceof ObjectNode action) || action.size() != 1 || !action.has("Get")) {
        throw ServiceError.validation("A TransactGetItem must hold exactly one Get; received " + Wire.render(node));
      }
      Wire.Members m = new Wire.Members(objectOf(action, "Get"), "transactItems.member.get");
      String name = m.tableName("TableName");
      Map<String, Value> keyMap = Wire.item(m.requireObject("Key"), "Key");
      ExpressionInputs inputs = ExpressionInputs.of(m);
      List<Path> projection = projection(m, inputs);
      inputs.checkAllUsed(projection != null);
      Table table = db.table(name);
      reads.add(new Read(table, table.keySchema.keyOf(keyMap), projection));
    }
    ObjectNode reply = Wire.object();
    ArrayNode responses = reply.putArray("Responses");
    Map<String, Long> unitsByTable = new LinkedHashMap<>();
    List<Table> tables = lockAll(reads.stream().map(Read::table).toList(), false);
    try {
      for (Read read : reads) {
        Map<String, Value> item = read.table().get(read.key());
        ObjectNode response = responses.addObject();
        if (item != null) {
          response.set("Item", Wire.itemJson(read.projection() == null ? item
              : Evaluator.project(item, read.projection())));
        }
        unitsByTable.merge(read.table().name,
            2L * (long) Math.ceil(readUnits(item == null ? 0 : Value.itemSize(item), true)), Long::sum);
      }
    } finally {
      unlockAll(tables, false);
    }
    if (capacity != null && !capacity.equals("NONE")) {
      ArrayNode consumed = reply.putArray("ConsumedCapacity");
      unitsByTable.forEach((t, u) -> consumed.add(capacityNode(capacity, t, u, "ReadCapacityUnits")));
    }
    return reply;
  }

  private static byte[] digest(ArrayNode actions) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(Wire.write(actions));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }

  private static ArrayNode transactItems(Wire.Members r) {
    ArrayNode actions = r.requireArray("TransactItems");
    if (actions.isEmpty()) {
      throw ServiceError.constraint("[]", "transactItems", "must have length greater than or equal to 1");
    }
    if (actions.size() > MAX_TRANSACTION_ITEMS) {
      throw ServiceError.constraint("[" + actions.size() + " items]", "transactItems",
          "must have length less than or equal to " + MAX_TRANSACTION_ITEMS);
    }
    return actions;
  }

  private static ObjectNode objectOf(ObjectNode parent, String member) {
    JsonNode v = parent.get(member);
    if (!(v instanceof ObjectNode o)) {
      throw ServiceError.serialization(member + " must be a JSON object, got " + Wire.render(v));
    }
    return o;
  }

  /** Locks distinct tables in name order, so two transactions can never wait on each other. */
  private List<Table> lockAll(List<Table> tables, boolean write) {
    TreeMap<String, Table> byName = new TreeMap<>();
    for (Table t : tables) {
      byName.put(t.name, t);
    }
    List<Table> locked = new ArrayList<>();
    try {
      for (Table t : byName.values()) {
        if (write) {
          lockForWrite(t);
        } else {
          lockForRead(t);
        }
        locked.add(t);
      }
    } catch (RuntimeException e) {
      unlockAll(locked, write);
      throw e;
    }
    return locked;
  }

  private static void unlockAll(List<Table> tables, boolean write) {
    for (Table t : tables) {
      if (write) {
        t.lock.writeLock().unlock();
      } else {
        t.lock.readLock().unlock();
      }
    }
  }

  // ---------------------------------------------------------------- consumed capacity

  private static @Nullable String capacityMode(Wire.Members r) {
    return r.choice("ReturnConsumedCapacity", "INDEXES", "TOTAL", "NONE");
  }

  /** DynamoDB's accounting: one write unit per KB written, at least one. */
  private static long writeUnits(long bytes) {
    return Math.max(1, (bytes + 1023) / 1024);
  }

  /** One read unit per 4 KB read strongly consistently, half as much eventually consistently. */
  private static double readUnits(long bytes, boolean consistent) {
    double units = Math.max(1, (bytes + 4095) / 4096);
    return consistent ? units : units / 2;
  }

  private static void addCapacity(ObjectNode reply, @Nullable String mode, String table, double units,
      String kind) {
    ObjectNode node = capacityNode(mode, table, units, kind);
    if (node != null) {
      reply.set("ConsumedCapacity", node);
    }
  }

  private static @Nullable ObjectNode capacityNode(@Nullable String mode, String table, double units, String kind) {
    if (mode == null || mode.equals("NONE")) {
      return null;
    }
    ObjectNode node = Wire.object();
    node.put("TableName", table);
    node.put("CapacityUnits", units);
    node.put(kind, units);
    if (mode.equals("INDEXES")) {
      node.putObject("Table").put("CapacityUnits", units).put(kind, units);
    }
    return node;
  }
}
