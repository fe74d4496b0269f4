package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * The home region (the test kit's DynamoDB behind the fault proxy, 70 ms away) cut off and healed: hits stay hits,
 * misses answer unknown within the deadline, home reads in flight stay bounded, and reads recover after the heal.
 */
@LocalAwsTest({Service.DYNAMODB})
class HomeOutageTest {

  @Test
  void aCutOffHome_keepsHitsFast_answersMissesInTime_boundsLoads_andRecovers(LocalAws aws, DynamoDbClient ddb,
      Fresh fresh) throws Exception {
    String table = fresh.table(b -> b.billingMode(BillingMode.PAY_PER_REQUEST)
        .attributeDefinitions(AttributeDefinition.builder().attributeName("user")
            .attributeType(ScalarAttributeType.S).build())
        .keySchema(KeySchemaElement.builder().attributeName("user").keyType(KeyType.HASH).build()));
    ddb.putItem(b -> b.tableName(table).item(Map.of("user", AttributeValue.fromS("u0"),
        "ver", AttributeValue.fromN("1"), "name", AttributeValue.fromS("zero"))));
    FaultProxy faults = aws.faults(Service.DYNAMODB);
    faults.latency(Direction.BOTH, Duration.ofMillis(35), Duration.ZERO);
    try (DynamoDbClient remote = aws.configure(DynamoDbClient.builder(), faults.uri())
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD).apiCallTimeout(Duration.ofSeconds(3)))
        .build();
        ProCache<String, String> cache = ProCache.<String, String>builder(ValueCodec.utf8()).recordStats()
            .deadline(Duration.ofMillis(20)).maxHomeLoadsInFlight(8).breaker(1_000, Duration.ofSeconds(1))
            .home(user -> {
              var item = remote.getItem(b -> b.tableName(table).key(Map.of("user", AttributeValue.fromS(user))))
                  .item();
              return item.isEmpty() ? Versioned.absent(0, 0)
                  : Versioned.of(item.get("name").s(), Long.parseLong(item.get("ver").n()), 0);
            }).build()) {
      // Warm: u0 is known (the first read is a deadline miss — home is 70 ms away — and fills it).
      await().atMost(Duration.ofSeconds(5)).until(() -> "zero".equals(cache.get("u0").value()));

      faults.blackHole(true);
      for (int i = 1; i <= 40; i++) {
        long start = System.nanoTime();
        Lookup<String> miss = cache.get("u" + i);
        // Functional, not a timing figure: the caller was not held until a load that could not finish.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        assertThat(miss.freshness()).isEqualTo(Lookup.Freshness.UNKNOWN);
        assertThat(cache.get("u0").value()).isEqualTo("zero");
      }
      ProCacheStats during = cache.stats();
      assertThat(during.homePermitsFree()).isZero();
      assertThat(during.homeLoads()).isLessThanOrEqualTo(9);
      assertThat(during.shedLoads()).isPositive();

      faults.blackHole(false);
      faults.resetConnections();
      await().atMost(Duration.ofSeconds(15)).until(() -> cache.stats().homePermitsFree() == 8);
      await().atMost(Duration.ofSeconds(5)).until(() -> cache.get("u41").freshness() == Lookup.Freshness.ABSENT);
    } finally {
      faults.clearFaults();
    }
  }
}
