package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/** A restarted aggregator resumes from its checkpoints instead of publishing the stream again. */
@LocalAwsTest({Service.DYNAMODB, Service.KINESIS})
class AggregatorCheckpointTest {

  private static String table(Fresh fresh, String key, boolean stream) {
    return fresh.table(b -> {
      b.billingMode(BillingMode.PAY_PER_REQUEST)
          .attributeDefinitions(AttributeDefinition.builder().attributeName(key)
              .attributeType(ScalarAttributeType.S).build())
          .keySchema(KeySchemaElement.builder().attributeName(key).keyType(KeyType.HASH).build());
      if (stream) {
        b.streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES));
      }
    });
  }

  private static int recordsIn(KinesisClient kinesis, String stream) {
    int n = 0;
    for (var shard : kinesis.listShards(b -> b.streamName(stream)).shards()) {
      String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard.shardId())
          .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
      String at = it;
      n += kinesis.getRecords(b -> b.shardIterator(at).limit(10_000)).records().size();
    }
    return n;
  }

  @Test
  void aRestartedAggregator_resumesFromItsCheckpoints(LocalAws aws, DynamoDbClient ddb, KinesisClient kinesis,
      Fresh fresh) {
    String profiles = table(fresh, "user", true);
    String checkpoints = table(fresh, "shard", false);
    String arn = ddb.describeTable(b -> b.tableName(profiles)).table().latestStreamArn();
    String updates = fresh.stream(1);
    Aggregator.Joiner joiner = c -> List.of(new PushedUpdate(c.keys().get("user").s(),
        Long.parseLong(c.newImage().get("ver").n()), 1, "x".getBytes(StandardCharsets.UTF_8)));
    Aggregator.Builder builder = Aggregator.builder().streams(aws.dynamoDbStreams()).table("profiles", arn)
        .joiner(joiner).publishTo(kinesis, updates).checkpoints(ddb, checkpoints).pollInterval(Duration.ofMillis(20));
    for (int i = 0; i < 3; i++) {
      put(ddb, profiles, "u" + i);
    }
    try (Aggregator first = builder.build().start()) {
      await().atMost(Duration.ofSeconds(15)).until(() -> first.stats().published() == 3);
    }
    put(ddb, profiles, "u3");
    put(ddb, profiles, "u4");
    try (Aggregator second = builder.build().start()) {
      await().atMost(Duration.ofSeconds(15)).until(() -> second.stats().published() == 2);
      // A little longer, to see that nothing old comes again.
      await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
          .until(() -> second.stats().published() == 2);
    }
    assertThat(recordsIn(kinesis, updates)).isEqualTo(5);
  }

  private static void put(DynamoDbClient ddb, String table, String user) {
    ddb.putItem(b -> b.tableName(table).item(Map.of("user", AttributeValue.fromS(user),
        "ver", AttributeValue.fromN("1"))));
  }
}
