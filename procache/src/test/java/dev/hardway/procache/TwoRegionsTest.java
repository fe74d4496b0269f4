package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * Two remote regions, each with its own Redis server and writer, fed by one aggregator. One region's Redis is cut off
 * (behind the fault proxy): that region's readers keep answering from their in-process tier within the deadline, the
 * other region keeps receiving changes, and after the heal the cut-off region catches up — the newest version wins.
 * The home region is out of reach of region B's readers throughout, so every answer there comes from its own tiers.
 */
@LocalAwsTest({Service.DYNAMODB, Service.KINESIS, Service.REDIS})
class TwoRegionsTest {

  private static ProCache<String, String> reader(RedisClient redis, String prefix) {
    return ProCache.<String, String>builder(ValueCodec.utf8()).redis(redis, prefix).recordStats()
        .refreshAfter(Duration.ofMillis(50)).redisTimeout(Duration.ofMillis(200))
        .home(k -> {
          // In this test the home region is out of reach too: only Redis and the in-process tier can answer.
          throw new IllegalStateException("home unreachable for " + k);
        }).build();
  }

  @Test
  void aRegionCutOff_servesLocally_theOtherKeepsGoing_andItCatchesUpAfterTheHeal(LocalAws aws, DynamoDbClient ddb,
      KinesisClient kinesis, Fresh fresh) {
    String table = HomeTables.table(fresh, "user", true);
    String updates = fresh.stream(2);
    String prefix = fresh.name("profile") + ":";
    try (LocalAws regionB = LocalAws.start(Service.REDIS)) {
      FaultProxy toB = regionB.faults(Service.REDIS);
      RedisClient redisA = RedisClient.create(RedisURI.create(aws.endpoint(Service.REDIS).toString()));
      RedisClient redisB = RedisClient.create(RedisURI.create(toB.uri().getHost(), toB.port()));
      try (Aggregator aggregator = Aggregator.builder().streams(aws.dynamoDbStreams())
              .table("profiles", HomeTables.streamArn(ddb, table)).joiner(HomeTables::join)
              .publishTo(kinesis, updates).pollInterval(Duration.ofMillis(20)).build().start();
          RegionWriter writerA = RegionWriter.builder().stream(kinesis, updates).redis(redisA, prefix).fromOldest()
              .pollInterval(Duration.ofMillis(20)).build().start();
          RegionWriter writerB = RegionWriter.builder().stream(kinesis, updates).redis(redisB, prefix).fromOldest()
              .pollInterval(Duration.ofMillis(20)).build().start();
          ProCache<String, String> readerA = reader(redisA, prefix);
          ProCache<String, String> readerB = reader(redisB, prefix)) {
        for (int i = 0; i < 10; i++) {
          HomeTables.put(ddb, table, "u" + i, 1);
        }
        await().atMost(Duration.ofSeconds(20))
            .until(() -> writerA.stats().applied() == 10 && writerB.stats().applied() == 10);
        for (int i = 0; i < 10; i++) {
          String key = "u" + i;
          await().atMost(Duration.ofSeconds(2)).until(() -> readerB.get(key).version() == 1);
        }

        // Region B's Redis cut off: connections reset, new ones refused.
        toB.refuseConnections(true);
        toB.resetConnections();
        for (int i = 0; i < 10; i++) {
          HomeTables.put(ddb, table, "u" + i, 2);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> writerA.stats().applied() == 20);
        await().atMost(Duration.ofSeconds(5)).until(() -> "u3-v2".equals(readerA.get("u3").value()));
        assertThat(writerB.stats().applied()).isEqualTo(10);
        for (int i = 0; i < 10; i++) {
          // Stale but answered, from the in-process tier, within the deadline.
          Lookup<String> l = readerB.get("u" + i);
          assertThat(l.value()).isEqualTo("u" + i + "-v1");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> writerB.stats().failures() > 0);
        assertThat(readerB.stats().redisFailures()).isPositive();

        toB.refuseConnections(false);
        await().atMost(Duration.ofSeconds(30)).until(() -> writerB.stats().applied() == 20);
        for (int i = 0; i < 10; i++) {
          String key = "u" + i;
          await().atMost(Duration.ofSeconds(5)).until(() -> "%s-v2".formatted(key).equals(readerB.get(key).value()));
          assertThat(readerB.get(key).source()).isEqualTo(Lookup.Source.REDIS);
        }
        assertThat(aggregator.stats().published()).isEqualTo(20);
      } finally {
        redisA.shutdown();
        redisB.shutdown();
      }
    }
  }
}
