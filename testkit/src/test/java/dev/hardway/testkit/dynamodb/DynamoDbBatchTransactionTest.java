package dev.hardway.testkit.dynamodb;

import static dev.hardway.testkit.dynamodb.DynamoDbItemTest.assertValidation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionCheck;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.IdempotentParameterMismatchException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactGetItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

class DynamoDbBatchTransactionTest extends DynamoDbTestSupport {

  private static WriteRequest put(Map<String, AttributeValue> item) {
    return WriteRequest.builder().putRequest(p -> p.item(item)).build();
  }

  private static WriteRequest delete(Map<String, AttributeValue> key) {
    return WriteRequest.builder().deleteRequest(d -> d.key(key)).build();
  }

  private static TransactWriteItem tx(Put put) {
    return TransactWriteItem.builder().put(put).build();
  }

  private static TransactWriteItem tx(Update update) {
    return TransactWriteItem.builder().update(update).build();
  }

  private static TransactWriteItem tx(Delete delete) {
    return TransactWriteItem.builder().delete(delete).build();
  }

  private static TransactWriteItem tx(ConditionCheck check) {
    return TransactWriteItem.builder().conditionCheck(check).build();
  }

  private Map<String, AttributeValue> get(String table, String pk) {
    var reply = dynamo.getItem(b -> b.tableName(table).key(item("pk", s(pk))));
    return reply.hasItem() ? reply.item() : null;
  }

  @Test
  void batchWriteItem_putsAndDeletesAcrossTables_withNothingUnprocessed() {
    String first = hashTable("batch-a");
    String second = hashTable("batch-b");
    dynamo.putItem(b -> b.tableName(second).item(item("pk", s("old"))));
    BatchWriteItemResponse reply = dynamo.batchWriteItem(b -> b.requestItems(Map.of(
        first, IntStream.range(0, 20).mapToObj(i -> put(item("pk", s("k" + i), "i", n(i)))).toList(),
        second, List.of(delete(item("pk", s("old"))), put(item("pk", s("new")))))));
    assertTrue(reply.unprocessedItems().isEmpty());
    assertEquals(20, dynamo.scan(b -> b.tableName(first)).count());
    assertEquals(null, get(second, "old"));
    assertEquals(item("pk", s("new")), get(second, "new"));
  }

  @Test
  void batchWriteItem_mistakes_areRefusedBeforeAnythingIsWritten() {
    String table = hashTable("batch-bad");
    assertValidation(() -> dynamo.batchWriteItem(b -> b.requestItems(Map.of(table,
        IntStream.range(0, 26).mapToObj(i -> put(item("pk", s("k" + i)))).toList()))), "less than or equal to 25");
    assertValidation(() -> dynamo.batchWriteItem(b -> b.requestItems(Map.of(table,
        List.of(put(item("pk", s("same"))), delete(item("pk", s("same"))))))), "contains duplicates");
    assertValidation(() -> dynamo.batchWriteItem(b -> b.requestItems(Map.of(table,
        List.of(put(item("pk", s("fine"))), put(item("nokey", s("x"))))))), "Missing the key pk");
    assertThrows(ResourceNotFoundException.class, () -> dynamo.batchWriteItem(b -> b.requestItems(Map.of(
        table, List.of(put(item("pk", s("fine")))), "no-such-table", List.of(put(item("pk", s("x"))))))));
    assertEquals(0, dynamo.scan(b -> b.tableName(table)).count());
  }

  @Test
  void batchGetItem_returnsFoundItemsPerTable_withProjection() {
    String table = hashTable("batch-get");
    for (int i = 0; i < 5; i++) {
      int k = i;
      dynamo.putItem(b -> b.tableName(table).item(item("pk", s("k" + k), "i", n(k), "other", s("x"))));
    }
    var reply = dynamo.batchGetItem(b -> b.requestItems(Map.of(table, KeysAndAttributes.builder()
        .keys(List.of(item("pk", s("k1")), item("pk", s("k3")), item("pk", s("absent"))))
        .projectionExpression("pk, i").build())));
    assertTrue(reply.unprocessedKeys().isEmpty());
    Set<Map<String, AttributeValue>> got = Set.copyOf(reply.responses().get(table));
    assertEquals(Set.of(item("pk", s("k1"), "i", n(1)), item("pk", s("k3"), "i", n(3))), got);
  }

  @Test
  void batchGetItem_overOneHundredKeys_isRefused() {
    String table = hashTable("batch-many");
    List<Map<String, AttributeValue>> keys = new ArrayList<>();
    for (int i = 0; i < 101; i++) {
      keys.add(item("pk", s("k" + i)));
    }
    assertValidation(() -> dynamo.batchGetItem(b -> b.requestItems(Map.of(table,
        KeysAndAttributes.builder().keys(keys).build()))), "Too many items requested for the BatchGetItem call");
  }

  @Test
  void transactWriteItems_appliesEveryActionAcrossTables() {
    String first = hashTable("tx-a");
    String second = hashTable("tx-b");
    dynamo.putItem(b -> b.tableName(first).item(item("pk", s("counter"), "n", n(1))));
    dynamo.putItem(b -> b.tableName(second).item(item("pk", s("doomed"))));
    dynamo.putItem(b -> b.tableName(second).item(item("pk", s("guard"), "open", bool(true))));
    dynamo.transactWriteItems(b -> b.clientRequestToken("token-1").transactItems(
        tx(Put.builder().tableName(first).item(item("pk", s("created"))).conditionExpression(
            "attribute_not_exists(pk)").build()),
        tx(Update.builder().tableName(first).key(item("pk", s("counter"))).updateExpression("ADD n :one")
            .expressionAttributeValues(item(":one", n(1))).build()),
        tx(Delete.builder().tableName(second).key(item("pk", s("doomed"))).build()),
        tx(ConditionCheck.builder().tableName(second).key(item("pk", s("guard"))).conditionExpression("#o = :t")
            .expressionAttributeNames(Map.of("#o", "open")).expressionAttributeValues(item(":t", bool(true)))
            .build())));
    assertEquals(item("pk", s("created")), get(first, "created"));
    assertEquals(n(2), get(first, "counter").get("n"));
    assertEquals(null, get(second, "doomed"));
  }

  @Test
  void transactWriteItems_whenOneConditionFails_writesNothingAndReportsReasons() {
    String table = hashTable("tx-cancel");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("existing"), "v", n(1))));
    TransactionCanceledException e = assertThrows(TransactionCanceledException.class,
        () -> dynamo.transactWriteItems(b -> b.transactItems(
            tx(Put.builder().tableName(table).item(item("pk", s("fresh"))).build()),
            tx(Update.builder().tableName(table).key(item("pk", s("existing"))).updateExpression("SET v = :two")
                .conditionExpression("v = :two").expressionAttributeValues(item(":two", n(2)))
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build()),
            tx(Put.builder().tableName(table).item(item("pk", s("third"))).build()))));
    assertTrue(e.hasCancellationReasons());
    List<CancellationReason> reasons = e.cancellationReasons();
    assertEquals(List.of("None", "ConditionalCheckFailed", "None"),
        reasons.stream().map(CancellationReason::code).toList());
    assertEquals(item("pk", s("existing"), "v", n(1)), reasons.get(1).item());
    assertTrue(e.awsErrorDetails().errorMessage().contains("[None, ConditionalCheckFailed, None]"), e.getMessage());
    assertEquals(null, get(table, "fresh"));
    assertEquals(null, get(table, "third"));
    assertEquals(n(1), get(table, "existing").get("v"));
  }

  @Test
  void transactWriteItems_whenAnUpdateFailsAtRunTime_cancelsWithValidationError() {
    String table = hashTable("tx-runtime");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "title", s("text"))));
    TransactionCanceledException e = assertThrows(TransactionCanceledException.class,
        () -> dynamo.transactWriteItems(b -> b.transactItems(
            tx(Put.builder().tableName(table).item(item("pk", s("b"))).build()),
            tx(Update.builder().tableName(table).key(item("pk", s("a"))).updateExpression("SET title = title + :one")
                .expressionAttributeValues(item(":one", n(1))).build()))));
    assertEquals(List.of("None", "ValidationError"),
        e.cancellationReasons().stream().map(CancellationReason::code).toList());
    assertEquals(null, get(table, "b"));
  }

  @Test
  void transactWriteItems_twoActionsOnOneItem_isRefused() {
    String table = hashTable("tx-twice");
    assertValidation(() -> dynamo.transactWriteItems(b -> b.transactItems(
        tx(Put.builder().tableName(table).item(item("pk", s("a"))).build()),
        tx(Delete.builder().tableName(table).key(item("pk", s("a"))).build()))),
        "Transaction request cannot include multiple operations on one item");
  }

  @Test
  void transactGetItems_returnsItemsInRequestOrder_withEmptyEntriesForMissingOnes() {
    String table = hashTable("tx-get");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "v", n(1))));
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("c"), "v", n(3))));
    var responses = dynamo.transactGetItems(b -> b.transactItems(
        TransactGetItem.builder().get(g -> g.tableName(table).key(item("pk", s("c")))).build(),
        TransactGetItem.builder().get(g -> g.tableName(table).key(item("pk", s("b")))).build(),
        TransactGetItem.builder().get(g -> g.tableName(table).key(item("pk", s("a"))).projectionExpression("v"))
            .build())).responses();
    assertEquals(3, responses.size());
    assertEquals(item("pk", s("c"), "v", n(3)), responses.get(0).item());
    assertFalse(responses.get(1).hasItem());
    assertEquals(item("v", n(1)), responses.get(2).item());
  }

  @Test
  void transactWriteItems_retriedWithItsClientToken_commitsOnceForTenMinutes() {
    String table = hashTable("tx-token");
    TransactWriteItem increment = tx(Update.builder().tableName(table).key(item("pk", s("n")))
        .updateExpression("ADD hits :one").expressionAttributeValues(item(":one", n(1))).build());
    dynamo.transactWriteItems(b -> b.clientRequestToken("retry-me").transactItems(increment));
    dynamo.transactWriteItems(b -> b.clientRequestToken("retry-me").transactItems(increment));
    assertEquals(n(1), get(table, "n").get("hits"));
    IdempotentParameterMismatchException e = assertThrows(IdempotentParameterMismatchException.class,
        () -> dynamo.transactWriteItems(b -> b.clientRequestToken("retry-me").transactItems(
            tx(Delete.builder().tableName(table).key(item("pk", s("n"))).build()))));
    assertTrue(e.awsErrorDetails().errorMessage().contains("retry-me"), e.getMessage());
    clock.advance(Duration.ofMinutes(10).plusSeconds(1));
    dynamo.transactWriteItems(b -> b.clientRequestToken("retry-me").transactItems(increment));
    assertEquals(n(2), get(table, "n").get("hits"));
    dynamo.transactWriteItems(b -> b.transactItems(increment));
    dynamo.transactWriteItems(b -> b.transactItems(increment));
    assertEquals(n(4), get(table, "n").get("hits"), "the SDK's own tokens differ from call to call");
  }

  @Test
  void transactWriteItems_overOneHundredActions_isRefused() {
    String table = hashTable("tx-many");
    List<TransactWriteItem> actions = IntStream.range(0, 101)
        .mapToObj(i -> tx(Put.builder().tableName(table).item(item("pk", s("k" + i))).build()))
        .collect(Collectors.toList());
    assertValidation(() -> dynamo.transactWriteItems(b -> b.transactItems(actions)), "less than or equal to 100");
  }
}
