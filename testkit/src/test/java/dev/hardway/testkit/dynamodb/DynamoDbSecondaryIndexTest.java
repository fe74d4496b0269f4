package dev.hardway.testkit.dynamodb;

import static dev.hardway.testkit.dynamodb.DynamoDbItemTest.assertValidation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndexDescription;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndexUpdate;
import software.amazon.awssdk.services.dynamodb.model.IndexStatus;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.LocalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughput;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;
import software.amazon.awssdk.services.dynamodb.model.Select;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;

class DynamoDbSecondaryIndexTest extends DynamoDbTestSupport {

  /** Orders keyed by customer and order number, indexed by state (GSI, all), by state (GSI, keys only), by amount. */
  private String orders;

  private static Projection projection(ProjectionType type, String... nonKey) {
    return Projection.builder().projectionType(type).nonKeyAttributes(nonKey.length == 0 ? null : List.of(nonKey))
        .build();
  }

  private static GlobalSecondaryIndex gsi(String name, Projection projection, String hash, String range) {
    return GlobalSecondaryIndex.builder().indexName(name).projection(projection)
        .keySchema(range == null ? List.of(key(hash, KeyType.HASH))
            : List.of(key(hash, KeyType.HASH), key(range, KeyType.RANGE))).build();
  }

  @BeforeAll
  void createOrders() {
    orders = tableName("orders");
    dynamo.createTable(b -> b.tableName(orders)
        .keySchema(key("customer", KeyType.HASH), key("orderNo", KeyType.RANGE))
        .attributeDefinitions(attribute("customer", ScalarAttributeType.S), attribute("orderNo", ScalarAttributeType.N),
            attribute("state", ScalarAttributeType.S), attribute("placed", ScalarAttributeType.S),
            attribute("amount", ScalarAttributeType.N))
        .billingMode(BillingMode.PAY_PER_REQUEST)
        .globalSecondaryIndexes(
            gsi("by-state", projection(ProjectionType.ALL), "state", "placed"),
            gsi("by-state-keys", projection(ProjectionType.KEYS_ONLY), "state", null),
            gsi("by-state-include", projection(ProjectionType.INCLUDE, "amount"), "state", "placed"))
        .localSecondaryIndexes(LocalSecondaryIndex.builder().indexName("by-amount")
            .keySchema(key("customer", KeyType.HASH), key("amount", KeyType.RANGE))
            .projection(projection(ProjectionType.KEYS_ONLY)).build()));
    put("ann", 1, "open", "2026-01-03", 30, "first");
    put("ann", 2, "shipped", "2026-01-01", 10, "second");
    put("ann", 3, "open", "2026-01-02", 20, "third");
    put("bob", 1, "open", "2026-01-02", 5, "fourth");
    // No state: sparse in every index keyed by state.
    dynamo.putItem(b -> b.tableName(orders).item(item("customer", s("bob"), "orderNo", n(2), "amount", n(7))));
  }

  private void put(String customer, int orderNo, String state, String placed, int amount, String note) {
    dynamo.putItem(b -> b.tableName(orders).item(item("customer", s(customer), "orderNo", n(orderNo),
        "state", s(state), "placed", s(placed), "amount", n(amount), "note", s(note))));
  }

  private QueryResponse byState(String index, String state) {
    return dynamo.query(b -> b.tableName(orders).indexName(index).keyConditionExpression("#s = :s")
        .expressionAttributeNames(Map.of("#s", "state")).expressionAttributeValues(item(":s", s(state))));
  }

  private static List<String> notes(List<Map<String, AttributeValue>> items) {
    return items.stream().map(i -> i.get("note").s()).toList();
  }

  @Test
  void describeTable_listsIndexesActiveWithTheirSchemaAndCounts() {
    TableDescription table = dynamo.describeTable(b -> b.tableName(orders)).table();
    assertEquals(3, table.globalSecondaryIndexes().size());
    GlobalSecondaryIndexDescription byState = table.globalSecondaryIndexes().get(0);
    assertEquals("by-state", byState.indexName());
    assertEquals(IndexStatus.ACTIVE, byState.indexStatus());
    assertEquals(List.of(key("state", KeyType.HASH), key("placed", KeyType.RANGE)), byState.keySchema());
    assertEquals(4L, byState.itemCount());
    assertEquals(table.tableArn() + "/index/by-state", byState.indexArn());
    assertEquals(List.of("amount"), table.globalSecondaryIndexes().get(2).projection().nonKeyAttributes());
    assertEquals("by-amount", table.localSecondaryIndexes().get(0).indexName());
    assertEquals(5L, table.localSecondaryIndexes().get(0).itemCount());
    assertEquals(5, table.attributeDefinitions().size());
  }

  @Test
  void queryGlobalIndex_returnsItemsInIndexOrder_andLeavesOutItemsWithoutTheKey() {
    QueryResponse open = byState("by-state", "open");
    // Equal index keys come in table-key order: ann#3 and bob#1 were both placed on 2026-01-02.
    assertEquals(List.of("third", "fourth", "first"), notes(open.items()));
    assertEquals(List.of("2026-01-02", "2026-01-02", "2026-01-03"),
        open.items().stream().map(i -> i.get("placed").s()).toList());
    assertEquals(Set.of("customer", "orderNo", "state", "placed", "amount", "note"), open.items().get(0).keySet());
    assertEquals(0, byState("by-state", "lost").count());
    long indexed = dynamo.scanPaginator(b -> b.tableName(orders).indexName("by-state")).items().stream().count();
    assertEquals(4, indexed);
  }

  @Test
  void queryGlobalIndex_returnsOnlyWhatTheProjectionHolds() {
    assertEquals(Set.of("customer", "orderNo", "state"), byState("by-state-keys", "shipped").items().get(0).keySet());
    assertEquals(Set.of("customer", "orderNo", "state", "placed", "amount"),
        byState("by-state-include", "shipped").items().get(0).keySet());
    assertValidation(() -> dynamo.query(b -> b.tableName(orders).indexName("by-state-keys")
        .keyConditionExpression("#s = :s").expressionAttributeNames(Map.of("#s", "state"))
        .expressionAttributeValues(item(":s", s("open"))).select(Select.ALL_ATTRIBUTES)),
        "projection type is not ALL");
    QueryResponse specific = dynamo.query(b -> b.tableName(orders).indexName("by-state-keys")
        .keyConditionExpression("#s = :s").expressionAttributeNames(Map.of("#s", "state", "#n", "note"))
        .expressionAttributeValues(item(":s", s("shipped"))).projectionExpression("orderNo, #n"));
    assertEquals(List.of(item("orderNo", n(2))), specific.items());
  }

  @Test
  void queryGlobalIndex_pagesWithIndexAndTableKeysInLastEvaluatedKey() {
    List<String> seen = new ArrayList<>();
    for (QueryResponse page : dynamo.queryPaginator(QueryRequest.builder().tableName(orders).indexName("by-state")
        .keyConditionExpression("#s = :s").expressionAttributeNames(Map.of("#s", "state"))
        .expressionAttributeValues(item(":s", s("open"))).limit(1).scanIndexForward(false).build())) {
      seen.addAll(notes(page.items()));
      if (!page.lastEvaluatedKey().isEmpty()) {
        assertEquals(Set.of("customer", "orderNo", "state", "placed"), page.lastEvaluatedKey().keySet());
      }
    }
    assertEquals(List.of("first", "fourth", "third"), seen);
  }

  @Test
  void queryLocalIndex_ordersBySortKey_andFetchesUnprojectedAttributesFromTheTable() {
    QueryResponse cheapFirst = dynamo.query(b -> b.tableName(orders).indexName("by-amount")
        .keyConditionExpression("customer = :c AND amount > :min")
        .expressionAttributeValues(item(":c", s("ann"), ":min", n(15))).consistentRead(true));
    assertEquals(List.of(item("customer", s("ann"), "orderNo", n(3), "amount", n(20)),
        item("customer", s("ann"), "orderNo", n(1), "amount", n(30))), cheapFirst.items());
    QueryResponse withNotes = dynamo.query(b -> b.tableName(orders).indexName("by-amount")
        .keyConditionExpression("customer = :c").expressionAttributeValues(item(":c", s("ann")))
        .projectionExpression("note"));
    assertEquals(List.of("second", "third", "first"), notes(withNotes.items()));
    QueryResponse all = dynamo.query(b -> b.tableName(orders).indexName("by-amount")
        .keyConditionExpression("customer = :c").expressionAttributeValues(item(":c", s("bob")))
        .select(Select.ALL_ATTRIBUTES));
    assertEquals(List.of(n(5), n(7)), all.items().stream().map(i -> i.get("amount")).toList());
  }

  @Test
  void indexQueryMistakes_areRefusedNamingTheProblem() {
    assertValidation(() -> dynamo.query(b -> b.tableName(orders).indexName("by-state")
        .keyConditionExpression("#s = :s").expressionAttributeNames(Map.of("#s", "state"))
        .expressionAttributeValues(item(":s", s("open"))).consistentRead(true)),
        "Consistent reads are not supported on global secondary indexes");
    assertValidation(() -> dynamo.query(b -> b.tableName(orders).indexName("no-such-index")
        .keyConditionExpression("customer = :c").expressionAttributeValues(item(":c", s("ann")))),
        "The table does not have the specified index: no-such-index");
    assertValidation(() -> dynamo.query(b -> b.tableName(orders).indexName("by-state")
        .keyConditionExpression("customer = :c").expressionAttributeValues(item(":c", s("ann")))),
        "Query condition missed key schema element");
    assertValidation(() -> dynamo.query(b -> b.tableName(orders).keyConditionExpression("customer = :c")
        .expressionAttributeValues(item(":c", s("ann"))).select(Select.ALL_PROJECTED_ATTRIBUTES)),
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  }

  @Test
  void writes_withAnIndexKeyOfTheWrongType_areRefusedNamingTheIndex() {
    assertValidation(() -> dynamo.putItem(b -> b.tableName(orders).item(item("customer", s("cat"), "orderNo", n(1),
        "state", n(1)))), "Type mismatch for Index Key state Expected: S Actual: N IndexName: by-state");
    assertValidation(() -> dynamo.updateItem(b -> b.tableName(orders).key(item("customer", s("ann"), "orderNo",
        n(1))).updateExpression("SET placed = :e").expressionAttributeValues(item(":e", s("")))),
        "IndexName: by-state, IndexKey: placed");
    assertEquals(s("open"), dynamo.getItem(b -> b.tableName(orders).key(item("customer", s("ann"), "orderNo", n(1))))
        .item().get("state"));
  }

  @Test
  void indexes_followUpdatesAndDeletes() {
    String table = tableName("moving");
    dynamo.createTable(b -> b.tableName(table).keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("g", ScalarAttributeType.S))
        .provisionedThroughput(ProvisionedThroughput.builder().readCapacityUnits(1L).writeCapacityUnits(1L).build())
        .globalSecondaryIndexes(gsi("by-g", projection(ProjectionType.ALL), "g", null).toBuilder()
            .provisionedThroughput(p -> p.readCapacityUnits(2L).writeCapacityUnits(3L)).build()));
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "g", s("one"))));
    dynamo.updateItem(b -> b.tableName(table).key(item("pk", s("a"))).updateExpression("SET g = :two")
        .expressionAttributeValues(item(":two", s("two"))));
    assertEquals(0, gCount(table, "one"));
    assertEquals(1, gCount(table, "two"));
    dynamo.updateItem(b -> b.tableName(table).key(item("pk", s("a"))).updateExpression("REMOVE g"));
    assertEquals(0, gCount(table, "two"));
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("b"), "g", s("two"))));
    dynamo.deleteItem(b -> b.tableName(table).key(item("pk", s("b"))));
    assertEquals(0, gCount(table, "two"));
    var index = dynamo.describeTable(b -> b.tableName(table)).table().globalSecondaryIndexes().get(0);
    assertEquals(0L, index.itemCount());
    assertEquals(3L, index.provisionedThroughput().writeCapacityUnits());
  }

  private int gCount(String table, String g) {
    return dynamo.query(b -> b.tableName(table).indexName("by-g").keyConditionExpression("g = :g")
        .expressionAttributeValues(item(":g", s(g)))).count();
  }

  @Test
  void updateTable_createsAnIndexFilledFromTheTable_andDeletesIt() {
    String table = hashTable("later");
    for (int i = 0; i < 6; i++) {
      int k = i;
      dynamo.putItem(b -> b.tableName(table).item(item("pk", s("k" + k), "colour", s(k % 2 == 0 ? "red" : "blue"))));
    }
    var described = dynamo.updateTable(b -> b.tableName(table)
        .attributeDefinitions(attribute("colour", ScalarAttributeType.S))
        .globalSecondaryIndexUpdates(GlobalSecondaryIndexUpdate.builder().create(c -> c.indexName("by-colour")
            .keySchema(key("colour", KeyType.HASH)).projection(projection(ProjectionType.KEYS_ONLY))).build()))
        .tableDescription();
    assertEquals(IndexStatus.ACTIVE, described.globalSecondaryIndexes().get(0).indexStatus());
    assertEquals(3, dynamo.query(b -> b.tableName(table).indexName("by-colour").keyConditionExpression("colour = :c")
        .expressionAttributeValues(item(":c", s("red")))).count());
    dynamo.updateTable(b -> b.tableName(table).globalSecondaryIndexUpdates(GlobalSecondaryIndexUpdate.builder()
        .delete(d -> d.indexName("by-colour")).build()));
    TableDescription after = dynamo.describeTable(b -> b.tableName(table)).table();
    assertFalse(after.hasGlobalSecondaryIndexes() && !after.globalSecondaryIndexes().isEmpty());
    assertEquals(1, after.attributeDefinitions().size());
    assertThrows(ResourceNotFoundException.class, () -> dynamo.updateTable(b -> b.tableName(table)
        .globalSecondaryIndexUpdates(GlobalSecondaryIndexUpdate.builder().delete(d -> d.indexName("by-colour"))
            .build())));
  }

  @Test
  void scanIndex_withSegments_coversTheIndexOnce() {
    Set<String> seen = new HashSet<>();
    int total = 0;
    for (int segment = 0; segment < 3; segment++) {
      int current = segment;
      for (ScanResponse page : dynamo.scanPaginator(b -> b.tableName(orders).indexName("by-state").segment(current)
          .totalSegments(3).limit(1))) {
        total += page.count();
        page.items().forEach(i -> seen.add(i.get("customer").s() + i.get("orderNo").n()));
      }
    }
    assertEquals(4, total);
    assertEquals(Set.of("ann1", "ann2", "ann3", "bob1"), seen);
  }

  @Test
  void createTable_indexMistakes_areRefusedNamingTheProblem() {
    assertValidation(() -> dynamo.createTable(b -> b.tableName(tableName("bad-lsi"))
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("x", ScalarAttributeType.S))
        .billingMode(BillingMode.PAY_PER_REQUEST)
        .localSecondaryIndexes(LocalSecondaryIndex.builder().indexName("by-x")
            .keySchema(key("pk", KeyType.HASH), key("x", KeyType.RANGE)).projection(projection(ProjectionType.ALL))
            .build())), "does not have a range key");
    assertValidation(() -> dynamo.createTable(b -> b.tableName(tableName("unused"))
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("x", ScalarAttributeType.S),
            attribute("y", ScalarAttributeType.S))
        .billingMode(BillingMode.PAY_PER_REQUEST)
        .globalSecondaryIndexes(gsi("by-x", projection(ProjectionType.ALL), "x", null))),
        "Some AttributeDefinitions are not used");
    assertValidation(() -> dynamo.createTable(b -> b.tableName(tableName("nothroughput"))
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("x", ScalarAttributeType.S))
        .provisionedThroughput(ProvisionedThroughput.builder().readCapacityUnits(1L).writeCapacityUnits(1L).build())
        .globalSecondaryIndexes(gsi("by-x", projection(ProjectionType.ALL), "x", null))),
        "ProvisionedThroughput should not be null for index: by-x");
    assertValidation(() -> dynamo.createTable(b -> b.tableName(tableName("include"))
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("x", ScalarAttributeType.S))
        .billingMode(BillingMode.PAY_PER_REQUEST)
        .globalSecondaryIndexes(gsi("by-x", projection(ProjectionType.INCLUDE), "x", null))),
        "ProjectionType is INCLUDE, but NonKeyAttributes is not specified");
    assertValidation(() -> dynamo.createTable(b -> b.tableName(tableName("twice"))
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("x", ScalarAttributeType.S))
        .billingMode(BillingMode.PAY_PER_REQUEST)
        .globalSecondaryIndexes(gsi("by-x", projection(ProjectionType.ALL), "x", null),
            gsi("by-x", projection(ProjectionType.KEYS_ONLY), "x", null))), "Duplicate index name: by-x");
  }
}
