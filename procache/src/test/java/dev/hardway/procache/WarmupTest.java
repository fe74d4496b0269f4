package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * A new or emptied regional tier fills from the home table or from a peer region, and a value the stream already
 * brought (newer) is never replaced by the warm-up's older copy.
 */
@LocalAwsTest({Service.DYNAMODB, Service.REDIS})
class WarmupTest {
  private RedisClient redis;

  @BeforeEach
  void setUp(LocalAws aws) {
    redis = RedisClient.create(RedisURI.create(aws.endpoint(Service.REDIS).toString()));
  }

  @AfterEach
  void tearDown() {
    redis.shutdown();
  }

  private ProCache<String, String> reader(String prefix) {
    return ProCache.<String, String>builder(ValueCodec.utf8()).redis(redis, prefix)
        .home(k -> {
          throw new AssertionError("a warmed region must not read home for " + k);
        }).build();
  }

  @Test
  void fromTable_fillsEveryKey_keepsNewerStreamedValues_andDeadLettersPoison(DynamoDbClient ddb, Fresh fresh) {
    String table = HomeTables.table(fresh, "user", false);
    for (int i = 0; i < 250; i++) {
      HomeTables.put(ddb, table, "u" + i, 3);
    }
    ddb.putItem(b -> b.tableName(table).item(Map.of("user", AttributeValue.fromS("broken"))));
    String prefix = fresh.name("warm") + ":";
    List<String> dead = new CopyOnWriteArrayList<>();
    try (ProCache<String, String> reader = reader(prefix)) {
      // The stream brought u7 at version 4 before the warm-up ran.
      assertThat(reader.apply("u7", Versioned.of("u7-v4", 4, 1)).join()).isTrue();
      Warmup.Result r = Warmup.builder().fromTable(ddb, table, HomeTables::join).into(redis, prefix).segments(3)
          .deadLetters((c, e) -> dead.add(e.getMessage())).build().run();
      assertThat(r.read()).isEqualTo(251);
      assertThat(r.written()).isEqualTo(249);
      assertThat(r.notNewer()).isEqualTo(1);
      assertThat(r.poison()).isEqualTo(1);
      assertThat(r.homeReadUnits()).isPositive();
      assertThat(dead).containsExactly("no ver in {user=AttributeValue(S=broken)}");
      for (int i = 0; i < 250; i++) {
        Lookup<String> l = reader.get("u" + i);
        assertThat(l.value()).isEqualTo(i == 7 ? "u7-v4" : "u" + i + "-v3");
      }
    }
  }

  @Test
  void fromPeer_copiesValuesVersionsAndTombstones(Fresh fresh) {
    String peer = fresh.name("peer") + ":";
    String fresh2 = fresh.name("new") + ":";
    try (ProCache<String, String> peerWriter = ProCache.<String, String>builder(ValueCodec.utf8())
        .redis(redis, peer).build()) {
      peerWriter.warm(List.of(Map.entry("a", Versioned.of("A", 5, 11)), Map.entry("b", Versioned.absent(6, 12)),
          Map.entry("c", Versioned.of("C", 2, 13)))).join();
    }
    try (ProCache<String, String> target = ProCache.<String, String>builder(ValueCodec.utf8())
        .redis(redis, fresh2).build()) {
      target.warm(List.of(Map.entry("c", Versioned.of("C3", 3, 14)))).join();
    }
    Warmup.Result r = Warmup.builder().fromPeer(redis, peer).into(redis, fresh2).redisTimeout(Duration.ofSeconds(5))
        .build().run();
    assertThat(r.read()).isEqualTo(3);
    assertThat(r.written()).isEqualTo(2);
    assertThat(r.notNewer()).isEqualTo(1);
    try (ProCache<String, String> reader = reader(fresh2)) {
      assertThat(reader.get("a").value()).isEqualTo("A");
      assertThat(reader.get("a").version()).isEqualTo(5);
      assertThat(reader.get("b").freshness()).isEqualTo(Lookup.Freshness.ABSENT);
      assertThat(reader.get("c").value()).isEqualTo("C3");
    }
  }

  @Test
  void aWarmupWithoutSourceOrTarget_isRefusedClearly() {
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> Warmup.builder().build()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("fromTable or fromPeer");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> Warmup.builder().segments(0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("segments must be 1 to 1000, got 0");
  }
}
