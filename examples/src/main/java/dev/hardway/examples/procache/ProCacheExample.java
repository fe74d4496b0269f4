package dev.hardway.examples.procache;

import dev.hardway.procache.Aggregator;
import dev.hardway.procache.Lookup;
import dev.hardway.procache.ProCache;
import dev.hardway.procache.ProCacheStats;
import dev.hardway.procache.PushedUpdate;
import dev.hardway.procache.RegionWriter;
import dev.hardway.procache.ValueCodec;
import dev.hardway.procache.Versioned;
import dev.hardway.procache.Warmup;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;

/**
 * User profiles written in a home region and read in a remote one, on the test kit's DynamoDB (with Streams),
 * Kinesis and Redis: the remote region's Redis is warmed from a scan of the home table, the aggregator pushes every
 * later change through Kinesis to the region's writer, and the region's bidders read through {@link ProCache} within
 * 20 ms — without a single read of the home region.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java
 * -Dexample=dev.hardway.examples.procache.ProCacheExample}
 */
public final class ProCacheExample {
  private ProCacheExample() {}

  /**
   * Runs the example.
   *
   * @param args none
   * @throws Exception when the local servers fail
   */
  public static void main(String[] args) throws Exception {
    try (LocalAws aws = LocalAws.start(Service.DYNAMODB, Service.KINESIS, Service.REDIS)) {
      DynamoDbClient home = aws.dynamoDb();
      home.createTable(b -> b.tableName("profiles").billingMode(BillingMode.PAY_PER_REQUEST)
          .attributeDefinitions(AttributeDefinition.builder().attributeName("user")
              .attributeType(ScalarAttributeType.S).build())
          .keySchema(KeySchemaElement.builder().attributeName("user").keyType(KeyType.HASH).build())
          .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)));
      String streamArn = home.describeTable(b -> b.tableName("profiles")).table().latestStreamArn();
      aws.kinesis().createStream(b -> b.streamName("profile-updates").shardCount(1));
      aws.kinesis().waiter().waitUntilStreamExists(
          DescribeStreamRequest.builder().streamName("profile-updates").build(),
          WaiterOverrideConfiguration.builder().backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100)))
              .build());
      for (int i = 0; i < 1_000; i++) {
        writeProfile(home, "user-" + i, 1, "segment-" + (i % 7));
      }

      // The joiner: one home item in, the value readers want out, versioned by the item's "ver".
      Aggregator.Joiner joiner = change -> {
        Map<String, AttributeValue> item = change.newImage();
        String user = change.keys().get("user").s();
        if (item == null) {
          long removed = Long.parseLong(change.oldImage().get("ver").n());
          return List.of(new PushedUpdate(user, removed + 1, micros(Instant.now()), null));
        }
        byte[] value = ("segments=" + item.get("segments").s()).getBytes(StandardCharsets.UTF_8);
        return List.of(new PushedUpdate(user, Long.parseLong(item.get("ver").n()),
            Long.parseLong(item.get("at").n()), value));
      };

      RedisClient regionRedis = RedisClient.create(RedisURI.create(aws.endpoint(Service.REDIS).toString()));
      try (RegionWriter writer = RegionWriter.builder().stream(aws.kinesis(), "profile-updates")
              .redis(regionRedis, "profile:").fromOldest().pollInterval(Duration.ofMillis(20)).build().start();
          Aggregator aggregator = Aggregator.builder().streams(aws.dynamoDbStreams()).table("profiles", streamArn)
              .joiner(joiner).publishTo(aws.kinesis(), "profile-updates").startAtLatest()
              .pollInterval(Duration.ofMillis(20)).build().start();
          ProCache<String, String> profiles = ProCache.<String, String>builder(ValueCodec.utf8())
              .redis(regionRedis, "profile:")
              .home(user -> {
                throw new IllegalStateException("this example's region never reads home, yet it read " + user);
              })
              .refreshAfter(Duration.ofMillis(50))
              .recordStats()
              .build()) {
        while (aggregator.stats().shardsHeld() == 0) {
          Thread.sleep(10);
        }
        Warmup.Result warm = Warmup.builder().fromTable(home, "profiles", joiner).into(regionRedis, "profile:")
            .build().run();
        System.out.printf(Locale.ROOT, "warm-up: %,d profiles scanned at home, %,d written to the region's Redis%n",
            warm.read(), warm.written());

        Lookup<String> before = profiles.get("user-42");
        long settle = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (before.freshness() != Lookup.Freshness.FRESH && System.nanoTime() < settle) {
          // A cold JVM can miss the 20 ms deadline on its first Redis read; the read goes on and fills the cache.
          // Ask again well inside refreshAfter, so the answer is the filled entry and not a revalidating one.
          Thread.sleep(5);
          before = profiles.get("user-42");
        }
        System.out.printf(Locale.ROOT, "user-42 in the region: %s (%s, version %d)%n", before.value(),
            before.freshness(), before.version());

        writeProfile(home, "user-42", 2, "segment-0,sports");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Lookup<String> after = profiles.get("user-42");
        while (after.version() < 2 && System.nanoTime() < deadline) {
          Thread.sleep(20);
          after = profiles.get("user-42");
        }
        if (after.version() < 2) {
          throw new IllegalStateException("the change did not reach the region within 30 s: " + after);
        }
        System.out.printf(Locale.ROOT, "after a home write, user-42 in the region: %s (version %d), pushed in %.0f ms%n",
            after.value(), after.version(), writer.stats().stalenessMaxMicros() / 1e3);

        int answered = 0;
        for (int i = 0; i < 1_000; i++) {
          if (profiles.get("user-" + i).hasValue()) {
            answered++;
          }
        }
        ProCacheStats s = profiles.stats();
        System.out.printf(Locale.ROOT, "%,d of 1,000 profiles answered; in-process hits %,d, Redis hits %,d, "
            + "home reads %,d, deadline misses %,d%n", answered, s.localHits(), s.redisHits(), s.homeLoads(),
            s.deadlineMisses());
      } finally {
        regionRedis.shutdown();
      }
    }
  }

  private static void writeProfile(DynamoDbClient home, String user, long version, String segments) {
    Map<String, AttributeValue> item = new HashMap<>();
    item.put("user", AttributeValue.fromS(user));
    item.put("ver", AttributeValue.fromN(Long.toString(version)));
    item.put("segments", AttributeValue.fromS(segments));
    item.put("at", AttributeValue.fromN(Long.toString(micros(Instant.now()))));
    home.putItem(b -> b.tableName("profiles").item(item));
  }

  private static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }
}
