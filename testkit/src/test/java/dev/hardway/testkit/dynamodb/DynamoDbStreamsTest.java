package dev.hardway.testkit.dynamodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.ExpiredIteratorException;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.OperationType;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.Shard;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamDescription;
import software.amazon.awssdk.services.dynamodb.model.StreamStatus;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TrimmedDataAccessException;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

class DynamoDbStreamsTest extends DynamoDbTestSupport {

  private void put(String table, Map<String, AttributeValue> item) {
    dynamo.putItem(b -> b.tableName(table).item(item));
  }

  private StreamDescription describe(String table) {
    String arn = streamArn(table);
    return streams.describeStream(b -> b.streamArn(arn)).streamDescription();
  }

  private String iterator(String table, String shardId, ShardIteratorType type, String sequence) {
    String arn = streamArn(table);
    return streams.getShardIterator(b -> b.streamArn(arn).shardId(shardId).shardIteratorType(type)
        .sequenceNumber(sequence)).shardIterator();
  }

  private String openShard(String table) {
    List<Shard> shards = describe(table).shards();
    return shards.get(shards.size() - 1).shardId();
  }

  private GetRecordsResponse read(String iterator) {
    return streams.getRecords(b -> b.shardIterator(iterator));
  }

  private static List<String> pks(List<Record> records) {
    return records.stream().map(r -> r.dynamodb().keys().get("pk").s()).toList();
  }

  @Test
  void describeTable_withStream_reportsSpecificationArnAndLabel() {
    Instant created = clock.instant();
    String table = hashTable("described", StreamViewType.NEW_AND_OLD_IMAGES);
    var description = dynamo.describeTable(b -> b.tableName(table)).table();
    String label = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS").withZone(ZoneOffset.UTC).format(created);
    assertTrue(description.streamSpecification().streamEnabled());
    assertEquals(StreamViewType.NEW_AND_OLD_IMAGES, description.streamSpecification().streamViewType());
    assertEquals(label, description.latestStreamLabel());
    assertEquals("arn:aws:dynamodb:us-east-1:000000000000:table/" + table + "/stream/" + label,
        description.latestStreamArn());
    StreamDescription stream = describe(table);
    assertEquals(StreamStatus.ENABLED, stream.streamStatus());
    assertEquals(table, stream.tableName());
    assertEquals(List.of(key("pk", KeyType.HASH)), stream.keySchema());
    assertEquals(created.truncatedTo(ChronoUnit.MILLIS), stream.creationRequestDateTime());
    assertEquals(1, stream.shards().size());
    assertNull(stream.shards().get(0).sequenceNumberRange().endingSequenceNumber());
    assertNotNull(stream.shards().get(0).sequenceNumberRange().startingSequenceNumber());
  }

  @ParameterizedTest
  @EnumSource(value = StreamViewType.class, names = {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"})
  void writes_appendInsertModifyRemove_withImagesAsTheViewTypeSays(StreamViewType view) {
    String table = rangeTable("view", view);
    Map<String, AttributeValue> key = item("pk", s("a"), "sk", n(1));
    Map<String, AttributeValue> first = item("pk", s("a"), "sk", n(1), "v", n(1));
    Map<String, AttributeValue> second = item("pk", s("a"), "sk", n(1), "v", n(2));
    put(table, first);
    dynamo.updateItem(b -> b.tableName(table).key(key).updateExpression("SET v = :two")
        .expressionAttributeValues(item(":two", n(2))));
    dynamo.deleteItem(b -> b.tableName(table).key(key));
    List<Record> records = allRecords(table);
    assertEquals(List.of(OperationType.INSERT, OperationType.MODIFY, OperationType.REMOVE),
        records.stream().map(Record::eventName).toList());
    boolean withNew = view == StreamViewType.NEW_IMAGE || view == StreamViewType.NEW_AND_OLD_IMAGES;
    boolean withOld = view == StreamViewType.OLD_IMAGE || view == StreamViewType.NEW_AND_OLD_IMAGES;
    List<Map<String, AttributeValue>> expectedNew = List.of(first, second, Map.of());
    List<Map<String, AttributeValue>> expectedOld = List.of(Map.of(), first, second);
    for (int i = 0; i < 3; i++) {
      var data = records.get(i).dynamodb();
      assertEquals(key, data.keys());
      assertEquals(view, data.streamViewType());
      assertEquals(withNew ? expectedNew.get(i) : Map.of(), data.newImage(), "NewImage of record " + i);
      assertEquals(withOld ? expectedOld.get(i) : Map.of(), data.oldImage(), "OldImage of record " + i);
    }
  }

  @Test
  void records_carryDynamoDbsFields_withIncreasingSequenceNumbers() {
    String table = hashTable("fields", StreamViewType.NEW_IMAGE);
    Instant written = clock.instant();
    for (int i = 0; i < 5; i++) {
      put(table, item("pk", s("k" + i), "v", n(i)));
    }
    List<Record> records = allRecords(table);
    assertEquals(5, records.size());
    BigInteger previous = BigInteger.ZERO;
    Set<String> eventIds = new HashSet<>();
    for (Record r : records) {
      assertEquals("1.1", r.eventVersion());
      assertEquals("aws:dynamodb", r.eventSource());
      assertEquals("us-east-1", r.awsRegion());
      assertNull(r.userIdentity());
      assertEquals(written.truncatedTo(ChronoUnit.SECONDS), r.dynamodb().approximateCreationDateTime());
      String sequence = r.dynamodb().sequenceNumber();
      assertTrue(sequence.matches("[0-9]{21}"), sequence);
      assertTrue(new BigInteger(sequence).compareTo(previous) > 0, "sequence numbers must increase");
      previous = new BigInteger(sequence);
      assertTrue(r.dynamodb().sizeBytes() > 0);
      assertTrue(eventIds.add(r.eventID()), "duplicate event id " + r.eventID());
    }
  }

  @Test
  void writesThatChangeNothing_appendNoRecord() {
    String table = hashTable("noop", StreamViewType.NEW_AND_OLD_IMAGES);
    Map<String, AttributeValue> original = item("pk", s("a"), "v", n("1.0"), "tags",
        AttributeValue.fromSs(List.of("x", "y")));
    put(table, original);
    put(table, item("pk", s("a"), "v", n("1"), "tags", AttributeValue.fromSs(List.of("y", "x"))));
    dynamo.deleteItem(b -> b.tableName(table).key(item("pk", s("missing"))));
    dynamo.updateItem(b -> b.tableName(table).key(item("pk", s("a"))).updateExpression("SET v = :one REMOVE absent")
        .expressionAttributeValues(item(":one", n(1))));
    assertThrows(ConditionalCheckFailedException.class, () -> dynamo.putItem(b -> b.tableName(table)
        .item(item("pk", s("a"), "v", n(9))).conditionExpression("attribute_not_exists(pk)")));
    dynamo.transactWriteItems(b -> b.transactItems(TransactWriteItem.builder().conditionCheck(c -> c.tableName(table)
        .key(item("pk", s("a"))).conditionExpression("attribute_exists(pk)")).build()));
    List<Record> records = allRecords(table);
    assertEquals(1, records.size());
    assertEquals(OperationType.INSERT, records.get(0).eventName());
  }

  @Test
  void iterators_trimHorizonLatestAtAndAfterSequenceNumber_startWhereTheySay() {
    String table = hashTable("iterators", StreamViewType.KEYS_ONLY);
    String shard = openShard(table);
    String latestBefore = iterator(table, shard, ShardIteratorType.LATEST, null);
    for (String k : List.of("a", "b", "c")) {
      put(table, item("pk", s(k)));
    }
    List<Record> all = read(iterator(table, shard, ShardIteratorType.TRIM_HORIZON, null)).records();
    assertEquals(List.of("a", "b", "c"), pks(all));
    assertEquals(List.of("a", "b", "c"), pks(read(latestBefore).records()));
    String b = all.get(1).dynamodb().sequenceNumber();
    assertEquals(List.of("b", "c"), pks(read(iterator(table, shard, ShardIteratorType.AT_SEQUENCE_NUMBER, b))
        .records()));
    assertEquals(List.of("c"), pks(read(iterator(table, shard, ShardIteratorType.AFTER_SEQUENCE_NUMBER, b))
        .records()));
    String latest = iterator(table, shard, ShardIteratorType.LATEST, null);
    GetRecordsResponse nothingYet = read(latest);
    assertTrue(nothingYet.records().isEmpty());
    assertNotNull(nothingYet.nextShardIterator(), "an open shard always has a next iterator");
    put(table, item("pk", s("d")));
    assertEquals(List.of("d"), pks(read(nothingYet.nextShardIterator()).records()));
  }

  @Test
  void getRecords_withLimit_returnsAPageAndAnIteratorToTheRest() {
    String table = hashTable("limit", StreamViewType.KEYS_ONLY);
    for (int i = 0; i < 5; i++) {
      put(table, item("pk", s("k" + i)));
    }
    String shard = openShard(table);
    String iterator = iterator(table, shard, ShardIteratorType.TRIM_HORIZON, null);
    GetRecordsResponse first = streams.getRecords(b -> b.shardIterator(iterator).limit(2));
    assertEquals(List.of("k0", "k1"), pks(first.records()));
    GetRecordsResponse rest = streams.getRecords(b -> b.shardIterator(first.nextShardIterator()).limit(1000));
    assertEquals(List.of("k2", "k3", "k4"), pks(rest.records()));
  }

  @Test
  void shardIterator_fifteenMinutesAfterIssue_hasExpired() {
    String table = hashTable("expiry", StreamViewType.KEYS_ONLY);
    put(table, item("pk", s("a")));
    String shard = openShard(table);
    String iterator = iterator(table, shard, ShardIteratorType.TRIM_HORIZON, null);
    clock.advance(Duration.ofMinutes(15));
    GetRecordsResponse stillValid = read(iterator);
    assertEquals(List.of("a"), pks(stillValid.records()));
    clock.advance(Duration.ofSeconds(1));
    ExpiredIteratorException e = assertThrows(ExpiredIteratorException.class, () -> read(iterator));
    assertTrue(e.awsErrorDetails().errorMessage().contains("Iterator expired"), e.getMessage());
    clock.advance(Duration.ofMinutes(14));
    assertTrue(read(stillValid.nextShardIterator()).records().isEmpty(), "the next iterator was issued later");
  }

  @Test
  void shardIterator_whenAltered_isRefusedAsInvalid() {
    String table = hashTable("tamper", StreamViewType.KEYS_ONLY);
    String iterator = iterator(table, openShard(table), ShardIteratorType.TRIM_HORIZON, null);
    char last = iterator.charAt(iterator.length() - 2);
    String altered = iterator.substring(0, iterator.length() - 2) + (last == 'A' ? 'B' : 'A')
        + iterator.charAt(iterator.length() - 1);
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> read(altered));
    assertEquals("ValidationException", e.awsErrorDetails().errorCode());
    assertTrue(e.awsErrorDetails().errorMessage().contains("Invalid ShardIterator"), e.getMessage());
  }

  @Test
  void getShardIterator_forUnknownShardOrStream_throwsResourceNotFound() {
    String table = hashTable("unknown", StreamViewType.KEYS_ONLY);
    String arn = streamArn(table);
    assertThrows(ResourceNotFoundException.class, () -> streams.getShardIterator(b -> b.streamArn(arn)
        .shardId("shardId-00000000000000000000-00000000").shardIteratorType(ShardIteratorType.TRIM_HORIZON)));
    assertThrows(ResourceNotFoundException.class, () -> streams.getShardIterator(b -> b.streamArn(arn + "x")
        .shardId(openShard(table)).shardIteratorType(ShardIteratorType.TRIM_HORIZON)));
    DynamoDbException e = assertThrows(DynamoDbException.class, () -> streams.getShardIterator(b -> b.streamArn(arn)
        .shardId(openShard(table)).shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).sequenceNumber("12x")));
    assertEquals("ValidationException", e.awsErrorDetails().errorCode());
    assertTrue(e.awsErrorDetails().errorMessage().contains("12x"), e.getMessage());
  }

  @Test
  void recordsOlderThanADay_areTrimmed_andReadingBeforeTheHorizonFails() {
    String table = hashTable("aged", StreamViewType.KEYS_ONLY);
    put(table, item("pk", s("old")));
    String shard = openShard(table);
    String oldSequence = read(iterator(table, shard, ShardIteratorType.TRIM_HORIZON, null)).records().get(0)
        .dynamodb().sequenceNumber();
    long trimmedBefore = server.stats().streamRecordsTrimmed();
    clock.advance(Duration.ofHours(24).plusSeconds(1));
    put(table, item("pk", s("new")));
    assertEquals(List.of("new"), pks(read(iterator(table, shard, ShardIteratorType.TRIM_HORIZON, null)).records()));
    TrimmedDataAccessException e = assertThrows(TrimmedDataAccessException.class,
        () -> iterator(table, shard, ShardIteratorType.AT_SEQUENCE_NUMBER, oldSequence));
    assertTrue(e.awsErrorDetails().errorMessage().contains(oldSequence), e.getMessage());
    assertTrue(server.stats().streamRecordsTrimmed() >= trimmedBefore + 1);
  }

  @Test
  void streamRecordLimit_trimsTheOldestRecords_andCountsThem() {
    try (DynamoDbServer small = DynamoDbServer.builder().clock(clock).streamRecordLimit(5).start();
        DynamoDbClient client = clientOf(small);
        DynamoDbStreamsClient streamsClient = streamsClientOf(small)) {
      client.createTable(b -> b.tableName("bounded").keySchema(key("pk", KeyType.HASH))
          .attributeDefinitions(attribute("pk", ScalarAttributeType.S)).billingMode(BillingMode.PAY_PER_REQUEST)
          .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.KEYS_ONLY)));
      for (int i = 0; i < 8; i++) {
        int k = i;
        client.putItem(b -> b.tableName("bounded").item(item("pk", s("k" + k))));
      }
      String arn = client.describeTable(b -> b.tableName("bounded")).table().latestStreamArn();
      String shard = streamsClient.describeStream(b -> b.streamArn(arn)).streamDescription().shards().get(0)
          .shardId();
      String iterator = streamsClient.getShardIterator(b -> b.streamArn(arn).shardId(shard)
          .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
      assertEquals(List.of("k3", "k4", "k5", "k6", "k7"),
          pks(streamsClient.getRecords(b -> b.shardIterator(iterator)).records()));
      assertEquals(8, small.stats().streamRecordsWritten());
      assertEquals(3, small.stats().streamRecordsTrimmed());
    }
  }

  @Test
  void rotateStreamShard_closesTheParent_andReadersMoveToTheChildWithoutLossOrDuplicates() {
    String table = hashTable("rotate", StreamViewType.NEW_IMAGE);
    String parent = openShard(table);
    String early = iterator(table, parent, ShardIteratorType.TRIM_HORIZON, null);
    for (String k : List.of("a", "b", "c")) {
      put(table, item("pk", s(k)));
    }
    GetRecordsResponse firstPage = streams.getRecords(b -> b.shardIterator(early).limit(2));
    String child = server.rotateStreamShard(table);
    for (String k : List.of("d", "e")) {
      put(table, item("pk", s(k)));
    }
    List<Shard> shards = describe(table).shards();
    assertEquals(List.of(parent, child), shards.stream().map(Shard::shardId).toList());
    assertEquals(parent, shards.get(1).parentShardId());
    assertNotNull(shards.get(0).sequenceNumberRange().endingSequenceNumber());
    assertNull(shards.get(1).sequenceNumberRange().endingSequenceNumber());
    assertTrue(new BigInteger(shards.get(1).sequenceNumberRange().startingSequenceNumber())
        .compareTo(new BigInteger(shards.get(0).sequenceNumberRange().endingSequenceNumber())) > 0);

    List<String> seen = new ArrayList<>(pks(firstPage.records()));
    GetRecordsResponse rest = read(firstPage.nextShardIterator());
    seen.addAll(pks(rest.records()));
    assertNull(rest.nextShardIterator(), "a closed shard read to its end has no next iterator");
    seen.addAll(pks(read(iterator(table, child, ShardIteratorType.TRIM_HORIZON, null)).records()));
    assertEquals(List.of("a", "b", "c", "d", "e"), seen);

    GetRecordsResponse latestOnClosed = read(iterator(table, parent, ShardIteratorType.LATEST, null));
    assertTrue(latestOnClosed.records().isEmpty());
    assertNull(latestOnClosed.nextShardIterator());
    assertEquals(List.of("a", "b", "c", "d", "e"), pks(allRecords(table)));
  }

  @Test
  void rotateStreamShard_withoutAnEnabledStream_throws() {
    String table = hashTable("nostream");
    assertThrows(IllegalStateException.class, () -> server.rotateStreamShard(table));
    assertThrows(IllegalArgumentException.class, () -> server.rotateStreamShard("no-such-table"));
  }

  @Test
  void describeStream_withLimit_pagesThroughShards() {
    String table = hashTable("shardpages", StreamViewType.KEYS_ONLY);
    for (int i = 0; i < 4; i++) {
      put(table, item("pk", s("k" + i)));
      server.rotateStreamShard(table);
    }
    String arn = streamArn(table);
    List<String> seen = new ArrayList<>();
    String start = null;
    do {
      String from = start;
      StreamDescription page = streams.describeStream(b -> b.streamArn(arn).limit(2).exclusiveStartShardId(from))
          .streamDescription();
      assertTrue(page.shards().size() <= 2);
      page.shards().forEach(s -> seen.add(s.shardId()));
      start = page.lastEvaluatedShardId();
    } while (start != null);
    assertEquals(5, seen.size());
    assertEquals(5, new HashSet<>(seen).size());
    assertEquals(List.of("k0", "k1", "k2", "k3"), pks(allRecords(table)));
  }

  @Test
  void listStreams_filtersByTable_andPages() {
    String first = hashTable("listed", StreamViewType.KEYS_ONLY);
    String second = hashTable("listed", StreamViewType.KEYS_ONLY);
    var only = streams.listStreams(b -> b.tableName(first)).streams();
    assertEquals(1, only.size());
    assertEquals(streamArn(first), only.get(0).streamArn());
    assertEquals(first, only.get(0).tableName());
    List<String> arns = new ArrayList<>();
    String start = null;
    do {
      String from = start;
      var page = streams.listStreams(b -> b.limit(1).exclusiveStartStreamArn(from));
      assertTrue(page.streams().size() <= 1);
      page.streams().forEach(s -> arns.add(s.streamArn()));
      start = page.lastEvaluatedStreamArn();
    } while (start != null);
    assertTrue(arns.containsAll(List.of(streamArn(first), streamArn(second))));
    assertEquals(arns.size(), new HashSet<>(arns).size());
  }

  @Test
  void disablingTheStream_stopsRecording_butTheStreamStaysReadable() {
    String table = hashTable("disabled", StreamViewType.KEYS_ONLY);
    String arn = streamArn(table);
    put(table, item("pk", s("before")));
    dynamo.updateTable(b -> b.tableName(table).streamSpecification(s -> s.streamEnabled(false)));
    put(table, item("pk", s("after")));
    StreamDescription stream = streams.describeStream(b -> b.streamArn(arn)).streamDescription();
    assertEquals(StreamStatus.DISABLED, stream.streamStatus());
    assertNotNull(stream.shards().get(0).sequenceNumberRange().endingSequenceNumber());
    assertEquals(List.of("before"), pks(allRecords(table)));
  }

  @Test
  void deleteTable_disablesTheStream_whichStaysListedAndReadable() {
    String table = hashTable("dropped", StreamViewType.KEYS_ONLY);
    String arn = streamArn(table);
    put(table, item("pk", s("kept")));
    dynamo.deleteTable(b -> b.tableName(table));
    StreamDescription stream = streams.describeStream(b -> b.streamArn(arn)).streamDescription();
    assertEquals(StreamStatus.DISABLED, stream.streamStatus());
    assertEquals(1, streams.listStreams(b -> b.tableName(table)).streams().size());
    String shard = stream.shards().get(0).shardId();
    GetRecordsResponse page = streams.getRecords(b -> b.shardIterator(streams.getShardIterator(i -> i.streamArn(arn)
        .shardId(shard).shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator()));
    assertEquals(List.of("kept"), pks(page.records()));
    assertNull(page.nextShardIterator());
  }

  @Test
  void transactionsAndBatches_appendOneRecordPerChangedItem() {
    String table = hashTable("multi", StreamViewType.NEW_AND_OLD_IMAGES);
    put(table, item("pk", s("same"), "v", n(1)));
    put(table, item("pk", s("gone")));
    dynamo.transactWriteItems(b -> b.transactItems(
        TransactWriteItem.builder().put(Put.builder().tableName(table).item(item("pk", s("t1"))).build()).build(),
        TransactWriteItem.builder().update(Update.builder().tableName(table).key(item("pk", s("same")))
            .updateExpression("SET v = :one").expressionAttributeValues(item(":one", n(1))).build()).build(),
        TransactWriteItem.builder().delete(Delete.builder().tableName(table).key(item("pk", s("gone"))).build())
            .build()));
    dynamo.batchWriteItem(b -> b.requestItems(Map.of(table, List.of(
        WriteRequest.builder().putRequest(p -> p.item(item("pk", s("b1")))).build(),
        WriteRequest.builder().putRequest(p -> p.item(item("pk", s("same"), "v", n(1)))).build(),
        WriteRequest.builder().deleteRequest(d -> d.key(item("pk", s("never")))).build()))));
    List<Record> records = allRecords(table);
    assertEquals(List.of("same", "gone", "t1", "gone", "b1"), pks(records));
    assertEquals(List.of(OperationType.INSERT, OperationType.INSERT, OperationType.INSERT, OperationType.REMOVE,
        OperationType.INSERT), records.stream().map(Record::eventName).toList());
  }

  @Test
  void expireItems_deletesExpiredItems_withServiceIdentityOnTheRemoveRecord() {
    String table = hashTable("ttl", StreamViewType.OLD_IMAGE);
    dynamo.updateTimeToLive(b -> b.tableName(table).timeToLiveSpecification(t -> t.enabled(true)
        .attributeName("expiresAt")));
    long now = clock.instant().getEpochSecond();
    put(table, item("pk", s("expired"), "expiresAt", n(now - 10)));
    put(table, item("pk", s("future"), "expiresAt", n(now + 1000)));
    put(table, item("pk", s("ancient"), "expiresAt", n(now - 6L * 366 * 24 * 3600)));
    put(table, item("pk", s("text"), "expiresAt", s("yesterday")));
    assertEquals(1, server.expireItems());
    assertFalse(dynamo.getItem(b -> b.tableName(table).key(item("pk", s("expired")))).hasItem());
    assertEquals(3, dynamo.scan(b -> b.tableName(table)).count());
    Record removal = allRecords(table).get(4);
    assertEquals(OperationType.REMOVE, removal.eventName());
    assertEquals("Service", removal.userIdentity().type());
    assertEquals("dynamodb.amazonaws.com", removal.userIdentity().principalId());
    assertEquals(item("pk", s("expired"), "expiresAt", n(now - 10)), removal.dynamodb().oldImage());
  }
}
