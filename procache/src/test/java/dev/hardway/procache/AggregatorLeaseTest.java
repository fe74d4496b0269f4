package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * Several aggregators share the shards through leases in the checkpoint table: each reads its fair share, every
 * change is published, and when one stops the other takes its shards over.
 */
@LocalAwsTest({Service.DYNAMODB, Service.KINESIS})
class AggregatorLeaseTest {

  @Test
  void twoInstances_shareTheShards_andOneTakesOverWhenTheOtherStops(LocalAws aws, DynamoDbClient ddb,
      KinesisClient kinesis, Fresh fresh) {
    List<String> tables = List.of(HomeTables.table(fresh, "user", true), HomeTables.table(fresh, "user", true),
        HomeTables.table(fresh, "user", true), HomeTables.table(fresh, "user", true));
    String checkpoints = HomeTables.table(fresh, "shard", false);
    String updates = fresh.stream(1);
    Aggregator.Builder builder = Aggregator.builder().streams(aws.dynamoDbStreams()).joiner(HomeTables::join)
        .publishTo(kinesis, updates).checkpoints(ddb, checkpoints).lease(Duration.ofMillis(800))
        .pollInterval(Duration.ofMillis(20));
    for (String t : tables) {
      builder.table(t, HomeTables.streamArn(ddb, t));
    }
    Set<String> written = new HashSet<>();
    try (Aggregator a = builder.workerId("a").build().start()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> a.stats().shardsHeld() == 4);
      try (Aggregator b = builder.workerId("b").build().start()) {
        // a hands over its extra shards once it sees b's heartbeat.
        await().atMost(Duration.ofSeconds(10))
            .until(() -> a.stats().shardsHeld() == 2 && b.stats().shardsHeld() == 2);
        for (int i = 0; i < 40; i++) {
          HomeTables.put(ddb, tables.get(i % 4), "u" + i, 1);
          written.add("u" + i);
        }
        await().atMost(Duration.ofSeconds(20))
            .until(() -> a.stats().published() + b.stats().published() >= 40);
        assertThat(a.stats().published()).isPositive();
        assertThat(b.stats().published()).isPositive();
      }
      // b closed cleanly and released its leases: a takes them at its next lease round.
      await().atMost(Duration.ofSeconds(10)).until(() -> a.stats().shardsHeld() == 4);
      for (int i = 40; i < 60; i++) {
        HomeTables.put(ddb, tables.get(i % 4), "u" + i, 1);
        written.add("u" + i);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> {
        Set<String> seen = new HashSet<>();
        HomeTables.published(kinesis, updates).forEach(u -> seen.add(u.key()));
        return seen.containsAll(written);
      });
      assertThat(a.stats().leasesLost()).isZero();
    }
  }

  @Test
  void aCrashedInstancesShards_areTakenOverWhenItsLeasesExpire(LocalAws aws, DynamoDbClient ddb,
      KinesisClient kinesis, Fresh fresh) {
    String table = HomeTables.table(fresh, "user", true);
    String checkpoints = HomeTables.table(fresh, "shard", false);
    String updates = fresh.stream(1);
    // A crashed instance: its lease on the shard is in the table, and nobody renews it.
    String shardKey = HomeTables.streamArn(ddb, table) + "|"
        + aws.dynamoDbStreams().describeStream(r -> r.streamArn(HomeTables.streamArn(ddb, table)))
            .streamDescription().shards().get(0).shardId();
    ddb.putItem(r -> r.tableName(checkpoints).item(java.util.Map.of(
        "shard", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS(shardKey),
        "owner", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("crashed"),
        "leaseUntil", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromN(
            Long.toString(System.currentTimeMillis() + 1_500)))));
    HomeTables.put(ddb, table, "x", 1);
    try (Aggregator a = Aggregator.builder().streams(aws.dynamoDbStreams()).table(table,
            HomeTables.streamArn(ddb, table)).joiner(HomeTables::join).publishTo(kinesis, updates)
        .checkpoints(ddb, checkpoints).lease(Duration.ofMillis(400)).pollInterval(Duration.ofMillis(20))
        .workerId("a").build().start()) {
      await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(1)).until(() -> a.stats().published() == 0);
      await().atMost(Duration.ofSeconds(10)).until(() -> a.stats().published() == 1);
      assertThat(a.stats().shardsHeld()).isEqualTo(1);
    }
  }
}
