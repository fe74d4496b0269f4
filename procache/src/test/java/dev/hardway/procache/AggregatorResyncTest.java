package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;

/**
 * An aggregator that was stopped while the stream trimmed records it had not read resyncs the table with a full scan:
 * every item's newest version reaches Kinesis, including the ones whose changes were trimmed.
 */
class AggregatorResyncTest {

  @Test
  void changesTrimmedWhileStopped_comeBackThroughAFullResync() {
    // The stream keeps only 10 records, as if the aggregator had been stopped for more than 24 hours.
    try (LocalAws aws = LocalAws.builder().services(Service.DYNAMODB, Service.KINESIS)
        .dynamoDb(b -> b.streamRecordLimit(10)).start()) {
      var ddb = aws.dynamoDb();
      var kinesis = aws.kinesis();
      ddb.createTable(b -> HomeTables.spec(b.tableName("profiles"), "user", true));
      ddb.createTable(b -> HomeTables.spec(b.tableName("checkpoints"), "shard", false));
      String arn = HomeTables.streamArn(ddb, "profiles");
      kinesis.createStream(b -> b.streamName("updates").shardCount(1));
      kinesis.waiter().waitUntilStreamExists(DescribeStreamRequest.builder().streamName("updates").build(),
          WaiterOverrideConfiguration.builder().backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100)))
              .build());
      Aggregator.Builder builder = Aggregator.builder().streams(aws.dynamoDbStreams()).table("profiles", arn)
          .joiner(HomeTables::join).publishTo(kinesis, "updates").checkpoints(ddb, "checkpoints")
          .resyncWith(ddb).pollInterval(Duration.ofMillis(20));
      try (Aggregator first = builder.build().start()) {
        HomeTables.put(ddb, "profiles", "u0", 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> first.stats().published() == 1);
      }
      Map<String, Long> newest = new HashMap<>();
      for (int i = 0; i < 30; i++) {
        long ver = 2 + i / 10;
        HomeTables.put(ddb, "profiles", "u" + (i % 10), ver);
        newest.put("u" + (i % 10), ver);
      }
      assertThat(aws.dynamoDbServer().stats().streamRecordsTrimmed()).isPositive();
      try (Aggregator second = builder.build().start()) {
        await().atMost(Duration.ofSeconds(20)).until(() -> second.stats().resyncs() == 1);
        assertThat(second.stats().trimmed()).isEqualTo(1);
        assertThat(second.stats().resyncedItems()).isEqualTo(10);
        assertThat(second.stats().resyncReadUnits()).isPositive();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
          Map<String, Long> seen = new HashMap<>();
          HomeTables.published(kinesis, "updates").forEach(u -> seen.merge(u.key(), u.version(), Math::max));
          return seen.equals(newest);
        });
      }
    }
  }
}
