package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import dev.hardway.testkit.LocalAws;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ScalingType;

/** The region writer between the test kit's Kinesis and Redis, read back through a region's ProCache. */
@LocalAwsTest({Service.KINESIS, Service.REDIS})
class RegionWriterTest {
  private RedisClient redis;
  private String prefix;

  @BeforeEach
  void setUp(LocalAws aws, Fresh fresh) {
    redis = RedisClient.create(RedisURI.create(aws.endpoint(Service.REDIS).toString()));
    prefix = fresh.name("w") + ":";
  }

  @AfterEach
  void tearDown() {
    redis.shutdown();
  }

  private static void push(KinesisClient kinesis, String stream, String key, long version, String value) {
    long now = Instant.now().toEpochMilli() * 1_000;
    byte[] data = new PushedUpdate(key, version, now, value == null ? null
        : value.getBytes(StandardCharsets.UTF_8)).encode();
    kinesis.putRecord(b -> b.streamName(stream).partitionKey(key).data(SdkBytes.fromByteArray(data)));
  }

  private ProCache<String, String> reader() {
    return ProCache.<String, String>builder(ValueCodec.utf8()).redis(redis, prefix).refreshAfter(Duration.ofMillis(1))
        .deadline(Duration.ofSeconds(2)).build();
  }

  @Test
  void updates_reachRedis_newestVersionWins_despiteDuplicatesAndReordering(KinesisClient kinesis, Fresh fresh) {
    String stream = fresh.stream(2);
    try (RegionWriter writer = RegionWriter.builder().stream(kinesis, stream).redis(redis, prefix).fromOldest()
        .pollInterval(Duration.ofMillis(20)).build().start();
        ProCache<String, String> cache = reader()) {
      push(kinesis, stream, "u1", 2, "second");
      push(kinesis, stream, "u1", 1, "first");        // late and older
      push(kinesis, stream, "u1", 2, "second");       // a duplicate
      push(kinesis, stream, "u2", 1, "other");
      push(kinesis, stream, "u2", 3, null);           // deleted
      await().atMost(Duration.ofSeconds(15)).until(() -> writer.stats().applied() + writer.stats().ignored() == 5);
      assertThat(cache.get("u1").value()).isEqualTo("second");
      assertThat(cache.get("u1").version()).isEqualTo(2);
      assertThat(cache.get("u2").freshness()).isEqualTo(Lookup.Freshness.ABSENT);
      assertThat(writer.stats().ignored()).isEqualTo(2);
      assertThat(writer.stats().stalenessMaxMicros()).isPositive();
    }
  }

  @Test
  void aPoisonRecord_isDeadLettered_andTheShardKeepsMoving(KinesisClient kinesis, Fresh fresh) {
    String stream = fresh.stream(1);
    try (RegionWriter writer = RegionWriter.builder().stream(kinesis, stream).redis(redis, prefix).fromOldest()
        .pollInterval(Duration.ofMillis(20)).build().start();
        ProCache<String, String> cache = reader()) {
      kinesis.putRecord(b -> b.streamName(stream).partitionKey("x").data(SdkBytes.fromUtf8String("not an update")));
      push(kinesis, stream, "u3", 1, "after the poison");
      await().atMost(Duration.ofSeconds(15)).until(() -> writer.stats().applied() == 1);
      assertThat(writer.stats().poison()).isEqualTo(1);
      assertThat(cache.get("u3").value()).isEqualTo("after the poison");
      try (var connection = redis.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE)) {
        List<byte[]> dead = connection.sync().lrange((prefix + "dead-letter").getBytes(StandardCharsets.UTF_8), 0, -1);
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0), StandardCharsets.UTF_8)).isEqualTo("not an update");
      }
    }
  }

  @Test
  void reshardingMidStream_losesNoUpdate(KinesisClient kinesis, Fresh fresh) {
    String stream = fresh.stream(1);
    try (RegionWriter writer = RegionWriter.builder().stream(kinesis, stream).redis(redis, prefix).fromOldest()
        .pollInterval(Duration.ofMillis(20)).shardRefresh(Duration.ofMillis(200)).build().start();
        ProCache<String, String> cache = reader()) {
      for (int i = 0; i < 20; i++) {
        push(kinesis, stream, "k" + i, 1, "before");
      }
      kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(2).scalingType(ScalingType.UNIFORM_SCALING));
      await().atMost(Duration.ofSeconds(15)).until(() -> kinesis.describeStreamSummary(b -> b.streamName(stream))
          .streamDescriptionSummary().streamStatusAsString().equals("ACTIVE"));
      for (int i = 0; i < 20; i++) {
        push(kinesis, stream, "k" + i, 2, "after");
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> writer.stats().applied() == 40);
      for (int i = 0; i < 20; i++) {
        assertThat(cache.get("k" + i).value()).isEqualTo("after");
      }
    }
  }
}
