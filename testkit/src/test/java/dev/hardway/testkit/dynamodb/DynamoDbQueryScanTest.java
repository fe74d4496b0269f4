package dev.hardway.testkit.dynamodb;

import static dev.hardway.testkit.dynamodb.DynamoDbItemTest.assertValidation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ReturnConsumedCapacity;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;
import software.amazon.awssdk.services.dynamodb.model.Select;

class DynamoDbQueryScanTest extends DynamoDbTestSupport {

  /** Partition "p" has sort keys 1..20 with qty = sk % 3; partitions "q" and "r" hold a few more items. */
  private String table;

  @BeforeAll
  void fill() {
    table = rangeTable("query");
    for (int i = 1; i <= 20; i++) {
      int sk = i;
      dynamo.putItem(b -> b.tableName(table).item(item("pk", s("p"), "sk", n(sk), "qty", n(sk % 3),
          "title", s("item " + sk))));
    }
    for (int i = 1; i <= 3; i++) {
      int sk = i;
      dynamo.putItem(b -> b.tableName(table).item(item("pk", s("q"), "sk", n(sk))));
      dynamo.putItem(b -> b.tableName(table).item(item("pk", s("r"), "sk", n(-sk))));
    }
  }

  private List<Integer> sortKeys(List<Map<String, AttributeValue>> items) {
    return items.stream().map(i -> Integer.valueOf(i.get("sk").n())).toList();
  }

  private QueryResponse query(String condition, Map<String, AttributeValue> values) {
    return dynamo.query(b -> b.tableName(table).keyConditionExpression(condition).expressionAttributeValues(values));
  }

  @Test
  void query_returnsThePartitionInSortKeyOrder_andReversedWhenNotForward() {
    Map<String, AttributeValue> values = item(":p", s("p"));
    QueryResponse forward = query("pk = :p", values);
    assertEquals(IntStream.rangeClosed(1, 20).boxed().toList(), sortKeys(forward.items()));
    assertEquals(20, forward.count());
    assertEquals(20, forward.scannedCount());
    assertTrue(forward.lastEvaluatedKey().isEmpty());
    QueryResponse backward = dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :p")
        .expressionAttributeValues(values).scanIndexForward(false));
    assertEquals(IntStream.rangeClosed(1, 20).map(i -> 21 - i).boxed().toList(), sortKeys(backward.items()));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "pk = :p AND sk = :five | 5",
      "pk = :p AND sk < :five | 1,2,3,4",
      "pk = :p AND sk <= :five | 1,2,3,4,5",
      "pk = :p AND sk > :eighteen | 19,20",
      "pk = :p AND sk >= :eighteen | 18,19,20",
      "pk = :p AND sk BETWEEN :five AND :eight | 5,6,7,8",
      "sk BETWEEN :five AND :eight AND pk = :p | 5,6,7,8",
      "(pk = :p) AND (:eighteen < sk) | 19,20",
  })
  void query_rangeConditions_selectTheRightSortKeys(String condition, String expected) {
    Map<String, AttributeValue> values = new LinkedHashMap<>(item(":p", s("p")));
    for (var e : Map.of(":five", n(5), ":eight", n(8), ":eighteen", n(18)).entrySet()) {
      if (condition.matches(".*" + e.getKey() + "\\b.*")) {
        values.put(e.getKey(), e.getValue());
      }
    }
    List<Integer> want = Arrays.stream(expected.split(",")).map(Integer::valueOf).toList();
    assertEquals(want, sortKeys(query(condition, values).items()));
  }

  @Test
  void query_beginsWithOnStringSortKey_selectsThePrefix() {
    String name = tableName("prefix");
    dynamo.createTable(b -> b.tableName(name).keySchema(key("pk", KeyType.HASH), key("sk", KeyType.RANGE))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("sk", ScalarAttributeType.S))
        .billingMode(BillingMode.PAY_PER_REQUEST));
    for (String sk : List.of("a", "order#1", "order#2", "order#10", "orders", "p")) {
      dynamo.putItem(b -> b.tableName(name).item(item("pk", s("x"), "sk", s(sk))));
    }
    var got = dynamo.query(b -> b.tableName(name).keyConditionExpression("pk = :x AND begins_with(sk, :o)")
        .expressionAttributeValues(item(":x", s("x"), ":o", s("order#")))).items();
    assertEquals(List.of("order#1", "order#10", "order#2"), got.stream().map(i -> i.get("sk").s()).toList());
  }

  @Test
  void query_withLimit_pagesWithoutLossOrDuplicates() {
    List<Integer> seen = new ArrayList<>();
    Map<String, AttributeValue> start = null;
    int pages = 0;
    do {
      Map<String, AttributeValue> from = start;
      QueryResponse page = dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :p")
          .expressionAttributeValues(item(":p", s("p"))).limit(6).exclusiveStartKey(from));
      assertTrue(page.count() <= 6);
      seen.addAll(sortKeys(page.items()));
      start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
      pages++;
    } while (start != null);
    assertEquals(IntStream.rangeClosed(1, 20).boxed().toList(), seen);
    assertEquals(4, pages);
  }

  @Test
  void queryPaginator_descending_visitsEveryItemOnce() {
    List<Integer> seen = new ArrayList<>();
    dynamo.queryPaginator(QueryRequest.builder().tableName(table).keyConditionExpression("pk = :p")
        .expressionAttributeValues(item(":p", s("p"))).scanIndexForward(false).limit(7).build())
        .items().forEach(i -> seen.add(Integer.valueOf(i.get("sk").n())));
    assertEquals(IntStream.rangeClosed(1, 20).map(i -> 21 - i).boxed().toList(), seen);
  }

  @Test
  void query_withFilter_countsMatchesAndScannedItemsSeparately() {
    QueryResponse page = dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :p")
        .filterExpression("qty = :zero").expressionAttributeValues(item(":p", s("p"), ":zero", n(0))).limit(10));
    assertEquals(List.of(3, 6, 9), sortKeys(page.items()));
    assertEquals(3, page.count());
    assertEquals(10, page.scannedCount());
    assertEquals(item("pk", s("p"), "sk", n(10)), page.lastEvaluatedKey());
  }

  @Test
  void query_selectCount_returnsCountsOnly() {
    QueryResponse page = dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :p")
        .expressionAttributeValues(item(":p", s("p"))).select(Select.COUNT));
    assertEquals(20, page.count());
    assertFalse(page.hasItems());
  }

  @Test
  void query_withProjection_andConsumedCapacity_returnsOnlyNamedAttributes() {
    QueryResponse page = dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :q")
        .expressionAttributeValues(item(":q", s("q"))).projectionExpression("sk").consistentRead(true)
        .returnConsumedCapacity(ReturnConsumedCapacity.TOTAL));
    assertEquals(List.of(item("sk", n(1)), item("sk", n(2)), item("sk", n(3))), page.items());
    assertEquals(table, page.consumedCapacity().tableName());
    assertTrue(page.consumedCapacity().capacityUnits() > 0);
  }

  @Test
  void query_mistakes_throwValidationNamingTheProblem() {
    assertValidation(() -> query("sk = :five", item(":five", n(5))), "Query condition missed key schema element: pk");
    assertValidation(() -> query("pk = :p OR sk = :five", item(":p", s("p"), ":five", n(5))),
        "Invalid operator used in KeyConditionExpression: OR");
    assertValidation(() -> query("pk = :p AND qty = :five", item(":p", s("p"), ":five", n(5))),
        "qty");
    assertValidation(() -> query("pk = :p AND sk = :s", item(":p", s("p"), ":s", s("5"))),
        "Condition parameter type does not match schema type");
    assertValidation(() -> query("pk > :p", item(":p", s("p"))), "Query key condition not supported");
    assertValidation(() -> dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :p")
        .filterExpression("sk > :five").expressionAttributeValues(item(":p", s("p"), ":five", n(5)))),
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk");
    assertValidation(() -> dynamo.query(b -> b.tableName(table).indexName("by-qty").keyConditionExpression("pk = :p")
        .expressionAttributeValues(item(":p", s("p")))), "does not have the specified index: by-qty");
    assertValidation(() -> dynamo.query(b -> b.tableName(table)), "KeyConditionExpression");
    assertValidation(() -> dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :p AND sk > :five")
        .expressionAttributeValues(item(":p", s("p"), ":five", n(5))).exclusiveStartKey(item("pk", s("p"), "sk",
            n(2)))), "The provided starting key is outside query boundaries");
    assertValidation(() -> dynamo.query(b -> b.tableName(table).keyConditionExpression("pk = :p")
        .expressionAttributeValues(item(":p", s("p"))).exclusiveStartKey(item("pk", s("q"), "sk", n(2)))),
        "The provided starting key is outside query boundaries");
  }

  @Test
  void query_overOneMegabyte_isCutIntoPages() {
    String name = rangeTable("megabyte");
    String body = "x".repeat(100 * 1024);
    for (int i = 0; i < 25; i++) {
      int sk = i;
      dynamo.putItem(b -> b.tableName(name).item(item("pk", s("big"), "sk", n(sk), "body", s(body))));
    }
    List<Integer> seen = new ArrayList<>();
    dynamo.queryPaginator(b -> b.tableName(name).keyConditionExpression("pk = :b")
        .expressionAttributeValues(item(":b", s("big")))).forEach(page -> {
          assertTrue(page.count() <= 10, "a page of " + page.count() + " items of 100 KB is over 1 MB");
          seen.addAll(sortKeys(page.items()));
        });
    assertEquals(IntStream.range(0, 25).boxed().toList(), seen);
  }

  @Test
  void scan_withFilterAndLimit_pagesThroughTheWholeTable() {
    List<String> seen = new ArrayList<>();
    int scanned = 0;
    for (ScanResponse page : dynamo.scanPaginator(b -> b.tableName(table).limit(4)
        .filterExpression("attribute_not_exists(qty) OR qty = :one").expressionAttributeValues(item(":one", n(1))))) {
      assertTrue(page.scannedCount() <= 4);
      scanned += page.scannedCount();
      page.items().forEach(i -> seen.add(i.get("pk").s() + i.get("sk").n()));
    }
    assertEquals(26, scanned);
    assertEquals(7 + 6, seen.size());
    assertEquals(seen.size(), new HashSet<>(seen).size());
  }

  @Test
  void scan_segments_partitionTheTableDisjointlyAndCompletely() {
    String name = hashTable("segments");
    for (int i = 0; i < 60; i++) {
      int k = i;
      dynamo.putItem(b -> b.tableName(name).item(item("pk", s("key-" + k))));
    }
    Set<String> all = new HashSet<>();
    int total = 0;
    for (int segment = 0; segment < 4; segment++) {
      int current = segment;
      for (ScanResponse page : dynamo.scanPaginator(b -> b.tableName(name).segment(current).totalSegments(4)
          .limit(5))) {
        total += page.count();
        page.items().forEach(i -> all.add(i.get("pk").s()));
      }
    }
    assertEquals(60, total);
    assertEquals(60, all.size());
  }

  @Test
  void scan_segmentMistakes_throwValidation() {
    assertValidation(() -> dynamo.scan(b -> b.tableName(table).segment(1)), "TotalSegments");
    assertValidation(() -> dynamo.scan(b -> b.tableName(table).segment(4).totalSegments(4)),
        "Segment: 4 is not less than TotalSegments: 4");
    assertValidation(() -> dynamo.scan(b -> b.tableName(table).select(Select.ALL_ATTRIBUTES)
        .projectionExpression("pk")), "ProjectionExpression");
  }
}
