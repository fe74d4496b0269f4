package dev.hardway.testkit.dynamodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.waiters.WaiterResponse;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableResponse;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ListTablesResponse;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.Tag;
import software.amazon.awssdk.services.dynamodb.model.TimeToLiveStatus;

class DynamoDbTableTest extends DynamoDbTestSupport {

  @Test
  void createTable_thenDescribeTable_isActiveWithSchemaArnAndBilling() {
    String name = rangeTable("orders");
    var table = dynamo.describeTable(b -> b.tableName(name)).table();
    assertEquals("ACTIVE", table.tableStatusAsString());
    assertEquals(name, table.tableName());
    assertEquals("arn:aws:dynamodb:us-east-1:000000000000:table/" + name, table.tableArn());
    assertEquals(List.of(key("pk", KeyType.HASH), key("sk", KeyType.RANGE)), table.keySchema());
    assertEquals(2, table.attributeDefinitions().size());
    assertEquals(BillingMode.PROVISIONED, table.billingModeSummary().billingMode());
    assertEquals(5L, table.provisionedThroughput().readCapacityUnits());
    assertEquals(START.toEpochMilli(), table.creationDateTime().toEpochMilli());
    assertEquals(0L, table.itemCount());
    assertNotNull(table.tableId());
    assertNull(table.streamSpecification());
  }

  @Test
  void waitUntilTableExists_rightAfterCreateTable_succeedsOnFirstAttempt() {
    String name = hashTable("waited");
    WaiterResponse<DescribeTableResponse> waited = dynamo.waiter().waitUntilTableExists(b -> b.tableName(name));
    assertEquals(1, waited.attemptsExecuted());
    assertEquals("ACTIVE", waited.matched().response().orElseThrow().table().tableStatusAsString());
  }

  @Test
  void createTable_whenTableExists_throwsResourceInUse() {
    String name = hashTable("twice");
    ResourceInUseException e = assertThrows(ResourceInUseException.class, () -> dynamo.createTable(b -> b
        .tableName(name)
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S))
        .billingMode(BillingMode.PAY_PER_REQUEST)));
    assertTrue(e.awsErrorDetails().errorMessage().contains(name), e.getMessage());
  }

  @Test
  void describeTable_whenMissing_throwsResourceNotFoundNamingTable() {
    ResourceNotFoundException e = assertThrows(ResourceNotFoundException.class,
        () -> dynamo.describeTable(b -> b.tableName("no-such-table")));
    assertTrue(e.awsErrorDetails().errorMessage().contains("no-such-table"), e.getMessage());
  }

  @Test
  void listTables_withLimit_pagesThroughEveryTableOnce() {
    for (int i = 0; i < 5; i++) {
      hashTable("listed");
    }
    List<String> seen = new ArrayList<>();
    String start = null;
    do {
      String from = start;
      ListTablesResponse page = dynamo.listTables(b -> b.limit(2).exclusiveStartTableName(from));
      assertTrue(page.tableNames().size() <= 2);
      seen.addAll(page.tableNames());
      start = page.lastEvaluatedTableName();
    } while (start != null);
    assertEquals(seen.stream().distinct().toList(), seen);
    assertEquals(dynamo.listTables().tableNames(), seen);
    assertTrue(seen.stream().filter(t -> t.startsWith("listed-")).count() >= 5);
  }

  @Test
  void deleteTable_removesTable_andWaiterSeesItGone() {
    String name = hashTable("deleted");
    dynamo.putItem(b -> b.tableName(name).item(item("pk", s("a"))));
    var deleted = dynamo.deleteTable(b -> b.tableName(name)).tableDescription();
    assertEquals("DELETING", deleted.tableStatusAsString());
    dynamo.waiter().waitUntilTableNotExists(b -> b.tableName(name));
    assertFalse(dynamo.listTables().tableNames().contains(name));
    assertThrows(ResourceNotFoundException.class,
        () -> dynamo.getItem(b -> b.tableName(name).key(item("pk", s("a")))));
  }

  @Test
  void deleteTable_withDeletionProtection_isRefusedUntilDisabled() {
    String name = hashTable("protected");
    dynamo.updateTable(b -> b.tableName(name).deletionProtectionEnabled(true));
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> dynamo.deleteTable(b -> b.tableName(name)));
    assertEquals("ValidationException", e.awsErrorDetails().errorCode());
    dynamo.updateTable(b -> b.tableName(name).deletionProtectionEnabled(false));
    dynamo.deleteTable(b -> b.tableName(name));
  }

  @Test
  void createTable_whenDefinitionsDoNotMatchKeySchema_throwsValidation() {
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> dynamo.createTable(b -> b
        .tableName(tableName("mismatch"))
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("extra", ScalarAttributeType.N))
        .billingMode(BillingMode.PAY_PER_REQUEST)));
    assertEquals("ValidationException", e.awsErrorDetails().errorCode());
    assertTrue(e.awsErrorDetails().errorMessage().contains("Number of attributes in KeySchema does not exactly "
        + "match number of attributes defined in AttributeDefinitions"), e.getMessage());
    assertTrue(e.awsErrorDetails().errorMessage().contains("extra"), e.getMessage());
  }

  @Test
  void createTable_provisionedWithoutThroughput_throwsValidation() {
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> dynamo.createTable(b -> b
        .tableName(tableName("nothroughput"))
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S))));
    assertTrue(e.awsErrorDetails().errorMessage().contains("ReadCapacityUnits and WriteCapacityUnits must both be "
        + "specified when BillingMode is PROVISIONED"), e.getMessage());
  }

  @Test
  void createTable_withInvalidName_throwsValidationNamingTheValue() {
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> dynamo.createTable(b -> b
        .tableName("bad name!")
        .keySchema(key("pk", KeyType.HASH))
        .attributeDefinitions(attribute("pk", ScalarAttributeType.S))
        .billingMode(BillingMode.PAY_PER_REQUEST)));
    assertEquals("ValidationException", e.awsErrorDetails().errorCode());
    assertTrue(e.awsErrorDetails().errorMessage().contains("'bad name!'"), e.getMessage());
  }

  @Test
  void updateTable_disableThenEnableStream_closesOldStreamAndOpensNewOne() {
    String name = hashTable("restream", StreamViewType.KEYS_ONLY);
    String first = streamArn(name);
    var disabled = dynamo.updateTable(b -> b.tableName(name).streamSpecification(s -> s.streamEnabled(false)))
        .tableDescription();
    assertNull(disabled.streamSpecification());
    assertEquals(first, disabled.latestStreamArn());
    assertEquals("DISABLED", streams.describeStream(b -> b.streamArn(first)).streamDescription()
        .streamStatusAsString());
    var enabled = dynamo.updateTable(b -> b.tableName(name)
        .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_IMAGE)))
        .tableDescription();
    assertNotEquals(first, enabled.latestStreamArn());
    assertEquals(StreamViewType.NEW_IMAGE, enabled.streamSpecification().streamViewType());
    assertEquals("ENABLED", streams.describeStream(b -> b.streamArn(enabled.latestStreamArn())).streamDescription()
        .streamStatusAsString());
  }

  @Test
  void updateTable_enableStreamWhenEnabled_throwsValidationNamingTheStream() {
    String name = hashTable("doubled", StreamViewType.KEYS_ONLY);
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> dynamo.updateTable(b -> b.tableName(name)
        .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_IMAGE))));
    assertEquals("ValidationException", e.awsErrorDetails().errorCode());
    assertTrue(e.awsErrorDetails().errorMessage().contains(streamArn(name)), e.getMessage());
  }

  @Test
  void updateTable_toPayPerRequest_changesBillingSummary() {
    String name = rangeTable("billing");
    var updated = dynamo.updateTable(b -> b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST))
        .tableDescription();
    assertEquals(BillingMode.PAY_PER_REQUEST, updated.billingModeSummary().billingMode());
    assertNotNull(updated.billingModeSummary().lastUpdateToPayPerRequestDateTime());
  }

  @Test
  void updateTable_withNothingToChange_throwsValidation() {
    String name = hashTable("unchanged");
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> dynamo.updateTable(b -> b.tableName(name)));
    assertEquals("ValidationException", e.awsErrorDetails().errorCode());
  }

  @Test
  void updateTimeToLive_thenDescribe_reportsAttribute() {
    String name = hashTable("ttl");
    assertEquals(TimeToLiveStatus.DISABLED, dynamo.describeTimeToLive(b -> b.tableName(name))
        .timeToLiveDescription().timeToLiveStatus());
    var spec = dynamo.updateTimeToLive(b -> b.tableName(name)
        .timeToLiveSpecification(t -> t.enabled(true).attributeName("expiresAt"))).timeToLiveSpecification();
    assertTrue(spec.enabled());
    var description = dynamo.describeTimeToLive(b -> b.tableName(name)).timeToLiveDescription();
    assertEquals(TimeToLiveStatus.ENABLED, description.timeToLiveStatus());
    assertEquals("expiresAt", description.attributeName());
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> dynamo.updateTimeToLive(b -> b
        .tableName(name).timeToLiveSpecification(t -> t.enabled(true).attributeName("expiresAt"))));
    assertTrue(e.awsErrorDetails().errorMessage().contains("already enabled"), e.getMessage());
  }

  @Test
  void tagResource_thenListTags_returnsTags_andUntagRemovesThem() {
    String name = hashTable("tagged");
    String arn = dynamo.describeTable(b -> b.tableName(name)).table().tableArn();
    dynamo.tagResource(b -> b.resourceArn(arn).tags(Tag.builder().key("team").value("ads").build()));
    assertEquals(List.of(Tag.builder().key("team").value("ads").build()),
        dynamo.listTagsOfResource(b -> b.resourceArn(arn)).tags());
    dynamo.untagResource(b -> b.resourceArn(arn).tagKeys("team"));
    assertTrue(dynamo.listTagsOfResource(b -> b.resourceArn(arn)).tags().isEmpty());
  }
}
