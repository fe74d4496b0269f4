package dev.hardway.testkit.dynamodb;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GetShardIteratorResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

/**
 * One server per test class, with a clock the tests move, and real SDK clients over the wire. Each test makes its own
 * tables, so tests in a class do not see each other's data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DynamoDbTestSupport {

  static final Instant START = Instant.parse("2026-11-28T12:34:56.789Z");

  final ManualClock clock = new ManualClock(START);
  DynamoDbServer server;
  SdkHttpClient http;
  DynamoDbClient dynamo;
  DynamoDbStreamsClient streams;
  private final AtomicInteger tableCounter = new AtomicInteger();

  @BeforeAll
  void startServer() {
    server = DynamoDbServer.builder().clock(clock).start();
    http = Apache5HttpClient.create();
    dynamo = DynamoDbClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(credentials())
        .httpClient(http)
        // A server bug must fail the test at once, not after the SDK's retries.
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
    streams = DynamoDbStreamsClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(credentials())
        .httpClient(http)
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  @AfterAll
  void stopServer() {
    streams.close();
    dynamo.close();
    http.close();
    server.close();
  }

  /** A client of another server, with its own connection pool: closing it lets that server stop at once. */
  static DynamoDbClient clientOf(DynamoDbServer other) {
    return DynamoDbClient.builder().endpointOverride(other.endpoint()).region(Region.US_EAST_1)
        .credentialsProvider(credentials()).httpClientBuilder(Apache5HttpClient.builder()).build();
  }

  static DynamoDbStreamsClient streamsClientOf(DynamoDbServer other) {
    return DynamoDbStreamsClient.builder().endpointOverride(other.endpoint()).region(Region.US_EAST_1)
        .credentialsProvider(credentials()).httpClientBuilder(Apache5HttpClient.builder()).build();
  }

  static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "not-a-real-secret"));
  }

  String tableName(String prefix) {
    return prefix + "-" + tableCounter.incrementAndGet();
  }

  /** A table keyed by {@code pk} (S), optionally with a stream. */
  String hashTable(String prefix, StreamViewType view) {
    String name = tableName(prefix);
    dynamo.createTable(b -> {
      b.tableName(name)
          .keySchema(key("pk", KeyType.HASH))
          .attributeDefinitions(attribute("pk", ScalarAttributeType.S))
          .billingMode(BillingMode.PAY_PER_REQUEST);
      if (view != null) {
        b.streamSpecification(s -> s.streamEnabled(true).streamViewType(view));
      }
    });
    return name;
  }

  String hashTable(String prefix) {
    return hashTable(prefix, null);
  }

  /** A table keyed by {@code pk} (S) and {@code sk} (N). */
  String rangeTable(String prefix, StreamViewType view) {
    String name = tableName(prefix);
    dynamo.createTable(b -> {
      b.tableName(name)
          .keySchema(key("pk", KeyType.HASH), key("sk", KeyType.RANGE))
          .attributeDefinitions(attribute("pk", ScalarAttributeType.S), attribute("sk", ScalarAttributeType.N))
          .provisionedThroughput(p -> p.readCapacityUnits(5L).writeCapacityUnits(5L));
      if (view != null) {
        b.streamSpecification(s -> s.streamEnabled(true).streamViewType(view));
      }
    });
    return name;
  }

  String rangeTable(String prefix) {
    return rangeTable(prefix, null);
  }

  String streamArn(String table) {
    return dynamo.describeTable(b -> b.tableName(table)).table().latestStreamArn();
  }

  /** Every record of every shard of the table's latest stream, from the trim horizon, parents before children. */
  List<Record> allRecords(String table) {
    String arn = streamArn(table);
    List<Record> out = new ArrayList<>();
    for (var shard : streams.describeStream(b -> b.streamArn(arn)).streamDescription().shards()) {
      GetShardIteratorResponse it = streams.getShardIterator(b -> b.streamArn(arn).shardId(shard.shardId())
          .shardIteratorType(ShardIteratorType.TRIM_HORIZON));
      String iterator = it.shardIterator();
      while (iterator != null) {
        String current = iterator;
        var page = streams.getRecords(b -> b.shardIterator(current));
        out.addAll(page.records());
        if (page.records().isEmpty() && shard.sequenceNumberRange().endingSequenceNumber() == null) {
          break;
        }
        iterator = page.nextShardIterator();
      }
    }
    return out;
  }

  static KeySchemaElement key(String name, KeyType type) {
    return KeySchemaElement.builder().attributeName(name).keyType(type).build();
  }

  static AttributeDefinition attribute(String name, ScalarAttributeType type) {
    return AttributeDefinition.builder().attributeName(name).attributeType(type).build();
  }

  static AttributeValue s(String value) {
    return AttributeValue.fromS(value);
  }

  static AttributeValue n(String value) {
    return AttributeValue.fromN(value);
  }

  static AttributeValue n(long value) {
    return AttributeValue.fromN(Long.toString(value));
  }

  static AttributeValue b(byte... bytes) {
    return AttributeValue.fromB(SdkBytes.fromByteArray(bytes));
  }

  static AttributeValue bool(boolean value) {
    return AttributeValue.fromBool(value);
  }

  static AttributeValue list(AttributeValue... values) {
    return AttributeValue.fromL(List.of(values));
  }

  static AttributeValue map(Object... namesAndValues) {
    return AttributeValue.fromM(item(namesAndValues));
  }

  /** An item from alternating names and values. */
  static Map<String, AttributeValue> item(Object... namesAndValues) {
    Map<String, AttributeValue> item = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      item.put((String) namesAndValues[i], (AttributeValue) namesAndValues[i + 1]);
    }
    return item;
  }
}
