package dev.hardway.testkit.dynamodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.ExpectedAttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

class DynamoDbItemTest extends DynamoDbTestSupport {

  private String conditions;

  /** One item the parameterized condition tests evaluate against. */
  @BeforeAll
  void createConditionItem() {
    conditions = hashTable("conditions");
    dynamo.putItem(b -> b.tableName(conditions).item(item(
        "pk", s("subject"),
        "qty", n(5),
        "price", n("9.99"),
        "title", s("Hardway"),
        "flag", bool(true),
        "nothing", AttributeValue.fromNul(true),
        "tags", AttributeValue.fromSs(List.of("red", "blue")),
        "scores", AttributeValue.fromNs(List.of("1", "2.5")),
        "bin", b((byte) 0x7f),
        "nested", map("inside", map("deep", n(1)), "arr", list(s("x"), n(2))),
        "blank", s(""))));
  }

  /** Runs a condition against the item by putting it again unchanged: success is true, a failed check false. */
  private boolean holds(String condition, Map<String, AttributeValue> values) {
    Map<String, AttributeValue> item = dynamo.getItem(b -> b.tableName(conditions).key(item("pk", s("subject"))))
        .item();
    try {
      dynamo.putItem(b -> b.tableName(conditions).item(item).conditionExpression(condition)
          .expressionAttributeValues(values.isEmpty() ? null : values));
      return true;
    } catch (ConditionalCheckFailedException e) {
      return false;
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "qty = :five | true",
      "qty <> :five | false",
      "qty < :six | true",
      "qty <= :five | true",
      "qty > :five | false",
      "qty >= :five | true",
      "price > :five | true",
      "qty BETWEEN :five AND :six | true",
      "qty BETWEEN :six AND :seven | false",
      "qty IN (:six, :five) | true",
      "qty IN (:six, :seven) | false",
      "qty = :five AND title = :title | true",
      "qty = :six OR title = :title | true",
      "NOT qty = :five | false",
      "NOT (qty = :six OR title = :other) | true",
      "qty = :six AND title = :title OR flag = :yes | true",
      "qty = :six AND (title = :title OR flag = :yes) | false",
      "attribute_exists(title) | true",
      "attribute_exists(absent) | false",
      "attribute_not_exists(absent) | true",
      "attribute_exists(nested.inside.deep) | true",
      "attribute_exists(nested.arr[1]) | true",
      "attribute_exists(nested.arr[2]) | false",
      "attribute_type(tags, :ss) | true",
      "attribute_type(qty, :ss) | false",
      "attribute_type(nothing, :null) | true",
      "begins_with(title, :hard) | true",
      "begins_with(title, :other) | false",
      "contains(title, :way) | true",
      "contains(tags, :red) | true",
      "contains(tags, :other) | false",
      "contains(scores, :twoHalf) | true",
      "contains(nested.arr, :x) | true",
      "size(title) = :seven | true",
      "size(tags) = :two | true",
      "size(nested) = :two | true",
      "size(blank) = :zero | true",
      "size(absent) = :zero | false",
      "absent <> :five | true",
      "absent = :five | false",
      "absent < :five | false",
      "title < :five | false",
      "title <> :five | true",
      "nested.inside.deep = :one | true",
      "nested.arr[0] = :x | true",
      "flag = :yes | true",
      "bin < :rawHigh | true",
  })
  void conditionExpression_evaluatesAsDynamoDb(String condition, boolean expected) {
    Map<String, AttributeValue> all = item(
        ":zero", n(0), ":one", n(1), ":two", n(2), ":five", n(5), ":six", n(6), ":seven", n(7),
        ":title", s("Hardway"), ":other", s("other"), ":hard", s("Hard"), ":way", s("way"), ":red", s("red"),
        ":x", s("x"), ":twoHalf", n("2.50"), ":yes", bool(true), ":ss", s("SS"), ":null", s("NULL"),
        ":rawHigh", b((byte) 0x80));
    Map<String, AttributeValue> used = new LinkedHashMap<>();
    all.forEach((k, v) -> {
      if (condition.matches(".*" + k + "\\b.*")) {
        used.put(k, v);
      }
    });
    assertEquals(expected, holds(condition, used), condition);
  }

  @Test
  void conditionExpression_comparesStringsByUtf8Bytes() {
    String table = hashTable("utf8");
    // U+FF61 sorts after the surrogate pair of U+1F600 in UTF-16, but before it in UTF-8.
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("k"), "title", s("\uFF61"))));
    dynamo.deleteItem(b -> b.tableName(table).key(item("pk", s("k"))).conditionExpression("title < :emoji")
        .expressionAttributeValues(item(":emoji", s("\uD83D\uDE00"))));
  }

  @Test
  void putItem_thenGetItem_roundTripsEveryType() {
    String table = hashTable("types");
    Map<String, AttributeValue> written = item(
        "pk", s("all"),
        "s", s("text ü 😀"),
        "n", n("-12.5"),
        "b", b((byte) 0, (byte) 0xff),
        "ss", AttributeValue.fromSs(List.of("a", "b")),
        "ns", AttributeValue.fromNs(List.of("1", "2")),
        "bs", AttributeValue.fromBs(List.of(SdkBytes.fromByteArray(new byte[] {1}),
            SdkBytes.fromByteArray(new byte[] {2}))),
        "m", map("k", s("v"), "deep", map("x", n(1))),
        "l", list(s("x"), n(1), bool(false), AttributeValue.fromNul(true)),
        "bool", bool(true),
        "nul", AttributeValue.fromNul(true),
        "emptyString", s(""),
        "emptyList", AttributeValue.fromL(List.of()),
        "emptyMap", AttributeValue.fromM(Map.of()));
    dynamo.putItem(b -> b.tableName(table).item(written));
    Map<String, AttributeValue> read = dynamo.getItem(b -> b.tableName(table).key(item("pk", s("all")))
        .consistentRead(true)).item();
    assertEquals(written.keySet(), read.keySet());
    written.forEach((k, v) -> {
      if (v.ss().isEmpty() && v.ns().isEmpty() && v.bs().isEmpty()) {
        assertEquals(v, read.get(k), k);
      }
    });
    assertEquals(Set.copyOf(written.get("ss").ss()), Set.copyOf(read.get("ss").ss()));
    assertEquals(Set.copyOf(written.get("ns").ns()), Set.copyOf(read.get("ns").ns()));
    assertEquals(Set.copyOf(written.get("bs").bs()), Set.copyOf(read.get("bs").bs()));
  }

  @ParameterizedTest(name = "{0} is stored as {1}")
  @CsvSource({
      "1.50, 1.5",
      "-0, 0",
      "0.000, 0",
      "1e3, 1000",
      "+7, 7",
      "0.0100, 0.01",
      "-1.0E-5, -0.00001",
      "12345678901234567890123456789012345678, 12345678901234567890123456789012345678",
      "1E+125, 100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
  })
  void putItem_normalizesNumbers(String sent, String stored) {
    String table = hashTable("numbers");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("n"), "value", n(sent))));
    assertEquals(stored, dynamo.getItem(b -> b.tableName(table).key(item("pk", s("n")))).item().get("value").n());
  }

  @ParameterizedTest(name = "number \"{0}\"")
  @CsvSource(delimiter = '|', value = {
      "123456789012345678901234567890123456789 | more than 38 significant digits",
      "1E+126 | Number overflow",
      "1E-131 | Number underflow",
      "12abc | cannot be converted into a number",
      "'' | cannot be converted into a number",
  })
  void putItem_withInvalidNumber_throwsValidationNamingTheValue(String sent, String problem) {
    String table = hashTable("badnumbers");
    DynamoDbException e = assertThrows(DynamoDbException.class,
        () -> dynamo.putItem(b -> b.tableName(table).item(item("pk", s("n"), "value", n(sent)))));
    assertValidation(e, problem);
    assertTrue(e.awsErrorDetails().errorMessage().contains("\"" + sent + "\""), e.getMessage());
  }

  @Test
  void putItem_withEmptyOrDuplicateSet_throwsValidation() {
    String table = hashTable("sets");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"), "tags", AttributeValue.fromSs(List.of()))))), "may not be empty");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"), "tags", AttributeValue.fromSs(List.of("x", "x")))))), "contains duplicates");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"), "nums", AttributeValue.fromNs(List.of("1", "1.0")))))), "contains duplicates");
  }

  @Test
  void putItem_withKeyProblems_throwsValidationNamingTheKey() {
    String table = rangeTable("keys");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"))))), "Missing the key sk in the item");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"), "sk", s("1"))))), "Type mismatch for key sk expected: N actual: S");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s(""), "sk", n(1))))), "cannot contain an empty string value. Key: pk");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.getItem(b -> b.tableName(table)
        .key(item("pk", s("a"))))), "The provided key element does not match the schema");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.getItem(b -> b.tableName(table)
        .key(item("pk", s("a"), "sk", n(1), "other", s("x"))))), "The provided key element does not match");
  }

  @Test
  void putItem_overFourHundredKilobytes_throwsValidation() {
    String table = hashTable("large");
    String big = "x".repeat(400 * 1024);
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"), "body", s(big))))), "Item size has exceeded the maximum allowed size");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "body", s("x".repeat(399 * 1024)))));
  }

  @Test
  void putItem_onMissingTable_throwsResourceNotFound() {
    assertThrows(ResourceNotFoundException.class,
        () -> dynamo.putItem(b -> b.tableName("nowhere").item(item("pk", s("a")))));
  }

  @Test
  void putItem_whenConditionFails_throwsConditionalCheckFailed() {
    String table = hashTable("conditional");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "qty", n(1))));
    ConditionalCheckFailedException e = assertThrows(ConditionalCheckFailedException.class,
        () -> dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "qty", n(2)))
            .conditionExpression("attribute_not_exists(pk)")));
    assertEquals("The conditional request failed", e.awsErrorDetails().errorMessage());
    assertFalse(e.hasItem());
    assertEquals(n(1), dynamo.getItem(b -> b.tableName(table).key(item("pk", s("a")))).item().get("qty"));
  }

  @Test
  void putItem_whenConditionFailsWithReturnAllOld_exceptionCarriesTheItem() {
    String table = hashTable("conditionalold");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "qty", n(1))));
    ConditionalCheckFailedException e = assertThrows(ConditionalCheckFailedException.class,
        () -> dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "qty", n(2)))
            .conditionExpression("qty = :two").expressionAttributeValues(item(":two", n(2)))
            .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)));
    assertEquals(item("pk", s("a"), "qty", n(1)), e.item());
  }

  @Test
  void putItem_returnValuesAllOld_returnsReplacedItem_andAllNewIsRefused() {
    String table = hashTable("putreturn");
    assertFalse(dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "v", n(1)))
        .returnValues(ReturnValue.ALL_OLD)).hasAttributes());
    assertEquals(item("pk", s("a"), "v", n(1)), dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"), "v", n(2))).returnValues(ReturnValue.ALL_OLD)).attributes());
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"))).returnValues(ReturnValue.ALL_NEW))), "ALL_NEW");
  }

  @Test
  void getItem_withProjectionExpression_returnsOnlyNamedPaths() {
    String table = hashTable("projection");
    dynamo.putItem(b -> b.tableName(table).item(item(
        "pk", s("a"), "title", s("t"), "other", s("o"),
        "nested", map("keep", n(1), "drop", n(2)),
        "arr", list(s("zero"), s("one"), s("two")))));
    Map<String, AttributeValue> got = dynamo.getItem(b -> b.tableName(table).key(item("pk", s("a")))
        .projectionExpression("title, nested.keep, arr[2], arr[0], #missing")
        .expressionAttributeNames(Map.of("#missing", "no such attribute"))).item();
    assertEquals(item("title", s("t"), "nested", map("keep", n(1)), "arr", list(s("zero"), s("two"))), got);
  }

  @Test
  void getItem_withOverlappingProjection_throwsValidation() {
    String table = hashTable("overlap");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.getItem(b -> b.tableName(table)
        .key(item("pk", s("a"))).projectionExpression("nested, nested.keep"))), "Two document paths overlap");
  }

  @Test
  void getItem_whenMissing_returnsNoItem() {
    String table = hashTable("absent");
    assertFalse(dynamo.getItem(b -> b.tableName(table).key(item("pk", s("nothing")))).hasItem());
  }

  @Test
  void updateItem_setRemoveAddDelete_changeTheItem() {
    String table = hashTable("update");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "qty", n(1), "gone", s("x"),
        "tags", AttributeValue.fromSs(List.of("a", "b", "c")))));
    Map<String, AttributeValue> after;
    update(table, "a", b -> b
        .updateExpression("SET title = :t, qty = qty + :two REMOVE gone ADD tags :d, hits :one")
        .expressionAttributeValues(item(":t", s("new"), ":two", n(2), ":one", n(1),
            ":d", AttributeValue.fromSs(List.of("d")))));
    after = update(table, "a", b -> b.updateExpression("DELETE tags :ab")
        .expressionAttributeValues(item(":ab", AttributeValue.fromSs(List.of("a", "b", "zz"))))
        .returnValues(ReturnValue.ALL_NEW));
    assertEquals(s("new"), after.get("title"));
    assertEquals(n(3), after.get("qty"));
    assertEquals(n(1), after.get("hits"));
    assertFalse(after.containsKey("gone"));
    assertEquals(Set.of("c", "d"), Set.copyOf(after.get("tags").ss()));
  }

  @Test
  void updateItem_deletingEverySetMember_removesTheAttribute() {
    String table = hashTable("emptyset");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "tags", AttributeValue.fromSs(List.of("x")))));
    Map<String, AttributeValue> after = update(table, "a", b -> b.updateExpression("DELETE tags :x")
        .expressionAttributeValues(item(":x", AttributeValue.fromSs(List.of("x"))))
        .returnValues(ReturnValue.ALL_NEW));
    assertEquals(item("pk", s("a")), after);
  }

  @Test
  void updateItem_functionsAndArithmetic_evaluateAgainstTheOldItem() {
    String table = hashTable("functions");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "x", n(10), "y", n(1), "l", list(n(1)))));
    Map<String, AttributeValue> after = update(table, "a", b -> b
        .updateExpression("SET x = y, y = x, l = list_append(l, :more), c = if_not_exists(c, :zero) + :one, "
            + "x2 = if_not_exists(x, :zero) - :one, l2 = list_append(:more, if_not_exists(l2, :empty))")
        .expressionAttributeValues(item(":more", list(n(2), n(3)), ":zero", n(0), ":one", n(1),
            ":empty", AttributeValue.fromL(List.of())))
        .returnValues(ReturnValue.ALL_NEW));
    assertEquals(n(1), after.get("x"));
    assertEquals(n(10), after.get("y"));
    assertEquals(list(n(1), n(2), n(3)), after.get("l"));
    assertEquals(n(1), after.get("c"));
    assertEquals(n(9), after.get("x2"));
    assertEquals(list(n(2), n(3)), after.get("l2"));
  }

  @Test
  void updateItem_nestedPathsAndListIndexes_setAndRemove() {
    String table = hashTable("paths");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"),
        "doc", map("inside", map("v", n(1)), "arr", list(s("a"), s("b"), s("c"), s("d"))))));
    Map<String, AttributeValue> after = update(table, "a", b -> b
        .updateExpression("SET doc.inside.v = :two, doc.inside.#new = :x, doc.arr[1] = :B, doc.arr[10] = :e "
            + "REMOVE doc.arr[0], doc.arr[2]")
        .expressionAttributeNames(Map.of("#new", "new-name"))
        .expressionAttributeValues(item(":two", n(2), ":x", s("x"), ":B", s("B"), ":e", s("e")))
        .returnValues(ReturnValue.ALL_NEW));
    assertEquals(map("inside", map("v", n(2), "new-name", s("x")), "arr", list(s("B"), s("d"), s("e"))),
        after.get("doc"));
  }

  @Test
  void updateItem_onMissingItem_createsItFromTheKey() {
    String table = rangeTable("upsert");
    Map<String, AttributeValue> after = dynamo.updateItem(b -> b.tableName(table)
        .key(item("pk", s("a"), "sk", n(1))).updateExpression("ADD hits :one")
        .expressionAttributeValues(item(":one", n(1))).returnValues(ReturnValue.ALL_NEW)).attributes();
    assertEquals(item("pk", s("a"), "sk", n(1), "hits", n(1)), after);
  }

  @Test
  void updateItem_thatOnlyRemovesFromAMissingItem_createsNothing_butAnEmptyUpdateDoes() {
    String table = hashTable("removeonly");
    assertTrue(dynamo.updateItem(b -> b.tableName(table).key(item("pk", s("a"))).updateExpression("REMOVE x, y")
        .returnValues(ReturnValue.ALL_NEW)).attributes().isEmpty());
    assertFalse(dynamo.getItem(b -> b.tableName(table).key(item("pk", s("a")))).hasItem());
    dynamo.updateItem(b -> b.tableName(table).key(item("pk", s("b"))));
    assertEquals(item("pk", s("b")), dynamo.getItem(b -> b.tableName(table).key(item("pk", s("b")))).item());
  }

  @Test
  void updateItem_returnValues_returnTheRightAttributes() {
    String table = hashTable("returns");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "x", n(1), "y", n(1), "doc", map("z", n(1)))));
    Map<String, AttributeValue> values = item(":v", n(2));
    assertEquals(item("x", n(1), "doc", map("z", n(1))), update(table, "a", b -> b
        .updateExpression("SET x = :v, doc.z = :v").expressionAttributeValues(values)
        .returnValues(ReturnValue.UPDATED_OLD)));
    assertEquals(item("x", n(3), "doc", map("z", n(3))), update(table, "a", b -> b
        .updateExpression("SET x = x + :one, doc.z = doc.z + :one").expressionAttributeValues(item(":one", n(1)))
        .returnValues(ReturnValue.UPDATED_NEW)));
    assertEquals(item("pk", s("a"), "x", n(3), "y", n(1), "doc", map("z", n(3))), update(table, "a", b -> b
        .updateExpression("REMOVE y").returnValues(ReturnValue.ALL_OLD)));
    assertEquals(item("pk", s("a"), "x", n(3), "doc", map("z", n(3))), update(table, "a", b -> b
        .updateExpression("REMOVE y").returnValues(ReturnValue.ALL_NEW)));
    assertTrue(dynamo.updateItem(b -> b.tableName(table).key(item("pk", s("a"))).updateExpression("SET x = :v")
        .expressionAttributeValues(values)).attributes().isEmpty());
  }

  @Test
  void updateItem_whenConditionFails_leavesItemAndThrows() {
    String table = hashTable("condupdate");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "version", n(1))));
    assertThrows(ConditionalCheckFailedException.class, () -> update(table, "a", b -> b
        .updateExpression("SET version = :two").conditionExpression("version = :two")
        .expressionAttributeValues(item(":two", n(2)))));
    update(table, "a", b -> b.updateExpression("SET version = :two").conditionExpression("version = :one")
        .expressionAttributeValues(item(":one", n(1), ":two", n(2))));
    assertEquals(n(2), dynamo.getItem(b -> b.tableName(table).key(item("pk", s("a")))).item().get("version"));
  }

  @Test
  void updateItem_expressionMistakes_throwValidationNamingTheMistake() {
    String table = hashTable("mistakes");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "title", s("t"), "doc", map("x", n(1)))));
    assertUpdateRefused(table, "SET a = :v, a.b = :v", item(":v", n(1)), "Two document paths overlap");
    assertUpdateRefused(table, "SET a = :v SET b = :v", item(":v", n(1)), "\"SET\" section can only be used once");
    assertUpdateRefused(table, "SET pk = :v", item(":v", s("x")), "Cannot update attribute pk");
    assertUpdateRefused(table, "SET a = :v", item(":v", n(1), ":unused", n(2)),
        "unused in expressions: keys: {:unused}");
    assertUpdateRefused(table, "SET a = :nope", item(":v", n(1)), "attribute value: :nope");
    assertUpdateRefused(table, "SET #nope = :v", item(":v", n(1)), "attribute name: #nope");
    assertUpdateRefused(table, "SET a = title + :v", item(":v", n(1)), "incorrect data type");
    assertUpdateRefused(table, "SET a = absent + :v", item(":v", n(1)), "does not exist in the item");
    assertUpdateRefused(table, "SET absent.deep = :v", item(":v", n(1)), "document path provided in the update "
        + "expression is invalid for update");
    assertUpdateRefused(table, "SET a = :v,", item(":v", n(1)), "Syntax error; token: \"<EOF>\"");
    assertUpdateRefused(table, "ADD title :s", item(":s", s("x")), "operator: ADD");
    assertUpdateRefused(table, "SET status = :v", item(":v", n(1)), "reserved keyword; reserved keyword: status");
    assertUpdateRefused(table, "SET a = size(title)", null, "size");
  }

  private void assertUpdateRefused(String table, String expression, Map<String, AttributeValue> values,
      String problem) {
    assertValidation(assertThrows(DynamoDbException.class, () -> update(table, "a", b -> b
        .updateExpression(expression).expressionAttributeValues(values))), problem);
  }

  @Test
  void deleteItem_withConditionAndReturnValues_removesAndReturnsTheItem() {
    String table = hashTable("delete");
    dynamo.putItem(b -> b.tableName(table).item(item("pk", s("a"), "qty", n(1))));
    assertThrows(ConditionalCheckFailedException.class, () -> dynamo.deleteItem(b -> b.tableName(table)
        .key(item("pk", s("a"))).conditionExpression("qty > :one").expressionAttributeValues(item(":one", n(1)))));
    Map<String, AttributeValue> old = dynamo.deleteItem(b -> b.tableName(table).key(item("pk", s("a")))
        .conditionExpression("qty = :one").expressionAttributeValues(item(":one", n(1)))
        .returnValues(ReturnValue.ALL_OLD)).attributes();
    assertEquals(item("pk", s("a"), "qty", n(1)), old);
    assertFalse(dynamo.getItem(b -> b.tableName(table).key(item("pk", s("a")))).hasItem());
    assertFalse(dynamo.deleteItem(b -> b.tableName(table).key(item("pk", s("a"))).returnValues(ReturnValue.ALL_OLD))
        .hasAttributes());
  }

  @Test
  void legacyParameters_areRefusedNamingTheParameter() {
    String table = hashTable("legacy");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"))).expected(Map.of("pk", ExpectedAttributeValue.builder().exists(false).build())))),
        "legacy parameter Expected");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.getItem(b -> b.tableName(table)
        .key(item("pk", s("a"))).attributesToGet("pk"))), "legacy parameter AttributesToGet");
  }

  @Test
  void expressionAttributeValues_withoutAnyExpression_areRefused() {
    String table = hashTable("noexpr");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"))).expressionAttributeValues(item(":v", n(1))))),
        "can only be specified when using expressions");
  }

  @Test
  void conditionExpression_withWrongOperandTypes_isRefusedBeforeEvaluation() {
    String table = hashTable("operands");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"))).conditionExpression("begins_with(pk, :n)")
        .expressionAttributeValues(item(":n", n(1))))), "begins_with");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"))).conditionExpression("pk BETWEEN :hi AND :lo")
        .expressionAttributeValues(item(":hi", n(9), ":lo", n(1))))), "upper bound to be greater than or equal");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"))).conditionExpression("nosuch(pk)"))), "Invalid function name; function: nosuch");
    assertValidation(assertThrows(DynamoDbException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"))).conditionExpression("pk = "))), "Syntax error");
  }

  private Map<String, AttributeValue> update(String table, String pk, Consumer<UpdateItemRequest.Builder> request) {
    return dynamo.updateItem(b -> {
      b.tableName(table).key(item("pk", s(pk)));
      request.accept(b);
    }).attributes();
  }

  static void assertValidation(Executable call, String problem) {
    assertValidation(assertThrows(DynamoDbException.class, call), problem);
  }

  static void assertValidation(DynamoDbException e, String problem) {
    assertEquals("ValidationException", e.awsErrorDetails().errorCode(), e.getMessage());
    assertEquals(400, e.statusCode());
    assertTrue(e.awsErrorDetails().errorMessage().contains(problem),
        "expected \"" + problem + "\" in: " + e.awsErrorDetails().errorMessage());
  }
}
