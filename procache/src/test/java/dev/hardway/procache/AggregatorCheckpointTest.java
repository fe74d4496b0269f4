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
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/** A restarted aggregator resumes from its checkpoints instead of publishing the stream again. */
@LocalAwsTest({Service.DYNAMODB, Service.KINESIS})
class AggregatorCheckpointTest {

  @Test
  void aRestartedAggregator_resumesFromItsCheckpoints(LocalAws aws, DynamoDbClient ddb, KinesisClient kinesis,
      Fresh fresh) {
    String profiles = HomeTables.table(fresh, "user", true);
    String checkpoints = HomeTables.table(fresh, "shard", false);
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
    assertThat(HomeTables.published(kinesis, updates)).hasSize(5);
  }

  @Test
  void startAtLatest_skipsWhatCameBefore_andPublishesWhatComesAfter(LocalAws aws, DynamoDbClient ddb,
      KinesisClient kinesis, Fresh fresh) {
    String profiles = HomeTables.table(fresh, "user", true);
    String updates = fresh.stream(1);
    for (int i = 0; i < 3; i++) {
      HomeTables.put(ddb, profiles, "old" + i, 1);
    }
    try (Aggregator a = Aggregator.builder().streams(aws.dynamoDbStreams())
        .table("profiles", HomeTables.streamArn(ddb, profiles)).joiner(HomeTables::join).publishTo(kinesis, updates)
        .startAtLatest().pollInterval(Duration.ofMillis(20)).build().start()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> a.stats().shardsHeld() == 1);
      HomeTables.put(ddb, profiles, "new", 1);
      await().atMost(Duration.ofSeconds(10)).until(() -> a.stats().published() == 1);
      await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> a.stats().published() == 1);
    }
    assertThat(HomeTables.published(kinesis, updates)).extracting(PushedUpdate::key).containsExactly("new");
  }

  private static void put(DynamoDbClient ddb, String table, String user) {
    ddb.putItem(b -> b.tableName(table).item(Map.of("user", AttributeValue.fromS(user),
        "ver", AttributeValue.fromN("1"))));
  }
}
