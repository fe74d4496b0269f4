package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * The whole push path on the test kit: a home table's stream, the aggregator and its joiner, Kinesis, a region's
 * writer, its Redis, and a reader there — which finds each change without ever reading the home region.
 */
@LocalAwsTest({Service.DYNAMODB, Service.KINESIS, Service.REDIS})
class PipelineTest {
  private RedisClient redis;

  @BeforeEach
  void setUp(LocalAws aws) {
    redis = RedisClient.create(RedisURI.create(aws.endpoint(Service.REDIS).toString()));
  }

  @AfterEach
  void tearDown() {
    redis.shutdown();
  }

  /** Profiles keyed by user; the joined value is "name/tier", versioned by the item's own counter. */
  private static List<PushedUpdate> join(Aggregator.Change c) {
    String user = c.keys().get("user").s();
    Map<String, AttributeValue> item = c.newImage();
    if (item == null) {
      long version = Long.parseLong(c.oldImage().get("ver").n()) + 1;
      return List.of(new PushedUpdate(user, version, micros(), null));
    }
    if (item.containsKey("poison")) {
      throw new IllegalArgumentException("cannot join " + user);
    }
    String joined = item.get("name").s() + "/" + item.get("tier").s();
    return List.of(new PushedUpdate(user, Long.parseLong(item.get("ver").n()), micros(),
        joined.getBytes(StandardCharsets.UTF_8)));
  }

  private static long micros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  private static void put(DynamoDbClient ddb, String table, String user, long ver, String name, String tier,
      boolean poison) {
    var item = new java.util.HashMap<String, AttributeValue>();
    item.put("user", AttributeValue.fromS(user));
    item.put("ver", AttributeValue.fromN(Long.toString(ver)));
    item.put("name", AttributeValue.fromS(name));
    item.put("tier", AttributeValue.fromS(tier));
    if (poison) {
      item.put("poison", AttributeValue.fromBool(true));
    }
    ddb.putItem(b -> b.tableName(table).item(item));
  }

  @Test
  void homeWrites_reachARemoteReader_throughStreamAggregatorKinesisAndWriter(LocalAws aws, DynamoDbClient ddb,
      KinesisClient kinesis, Fresh fresh) {
    String table = fresh.table(b -> b.billingMode(BillingMode.PAY_PER_REQUEST)
        .attributeDefinitions(AttributeDefinition.builder().attributeName("user")
            .attributeType(ScalarAttributeType.S).build())
        .keySchema(KeySchemaElement.builder().attributeName("user").keyType(KeyType.HASH).build())
        .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)));
    String arn = ddb.describeTable(b -> b.tableName(table)).table().latestStreamArn();
    String updates = fresh.stream(2);
    String prefix = fresh.name("profile") + ":";
    List<String> dead = new CopyOnWriteArrayList<>();
    try (Aggregator aggregator = Aggregator.builder().streams(aws.dynamoDbStreams()).table("profiles", arn)
        .joiner(PipelineTest::join).publishTo(kinesis, updates).pollInterval(Duration.ofMillis(20))
        .deadLetters((change, failure) -> dead.add(failure.getMessage())).build().start();
        RegionWriter writer = RegionWriter.builder().stream(kinesis, updates).redis(redis, prefix).fromOldest()
            .pollInterval(Duration.ofMillis(20)).build().start();
        ProCache<String, String> reader = ProCache.<String, String>builder(ValueCodec.utf8()).redis(redis, prefix)
            .refreshAfter(Duration.ofMillis(1)).deadline(Duration.ofSeconds(2))
            .home(k -> {
              throw new AssertionError("the remote reader must not read the home region for " + k);
            }).build()) {
      put(ddb, table, "alice", 1, "Alice", "gold", false);
      put(ddb, table, "bob", 1, "Bob", "silver", true);       // the joiner fails on it: dead-lettered
      put(ddb, table, "carol", 1, "Carol", "bronze", false);
      await().atMost(Duration.ofSeconds(20)).until(() -> writer.stats().applied() == 2);
      assertThat(reader.get("alice").value()).isEqualTo("Alice/gold");
      assertThat(reader.get("carol").value()).isEqualTo("Carol/bronze");
      assertThat(dead).containsExactly("cannot join bob");
      assertThat(aggregator.stats().poison()).isEqualTo(1);

      // A rotated stream shard: the child is read after its parent; a delete arrives as a tombstone.
      aws.dynamoDbServer().rotateStreamShard(table);
      put(ddb, table, "alice", 2, "Alice", "platinum", false);
      ddb.deleteItem(b -> b.tableName(table).key(Map.of("user", AttributeValue.fromS("carol"))));
      await().atMost(Duration.ofSeconds(20)).until(() -> writer.stats().applied() == 4);
      // The reader's in-process entries are a refresh old: the first get answers stale and refreshes from Redis.
      await().atMost(Duration.ofSeconds(5)).until(() -> "Alice/platinum".equals(reader.get("alice").value()));
      await().atMost(Duration.ofSeconds(5)).until(() -> reader.get("carol").freshness() == Lookup.Freshness.ABSENT);
      assertThat(writer.stats().stalenessP99Micros()).isPositive();
    }
  }
}
