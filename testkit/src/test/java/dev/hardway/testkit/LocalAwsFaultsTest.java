package dev.hardway.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpFaultResponse;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.junit.LocalAwsTest;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.sts.StsClient;

/** The stack's fault proxies: in front of a service, reached by clients pointed at them, cleared between tests. */
@LocalAwsTest({Service.STS, Service.REDIS})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalAwsFaultsTest {

  @Test
  @Order(1)
  void throttlingInjectedInFrontOfSts_isRetriedByTheSdk(LocalAws aws) {
    FaultProxy proxy = aws.faults(Service.STS);
    HttpFault throttle = proxy.addHttpFault(HttpFault.when(HttpMatch.any())
        .respond(HttpFaultResponse.stsThrottling()).times(2));
    try (StsClient viaProxy = aws.configure(StsClient.builder(), proxy.uri()).build()) {
      assertThat(viaProxy.getCallerIdentity().account()).isEqualTo(LocalAws.ACCOUNT_ID);
    }

    assertThat(throttle.matched()).isEqualTo(2);
    assertThat(aws.faults(Service.STS)).isSameAs(proxy);
  }

  @Test
  @Order(2)
  void crossRegionLatency_inFrontOfRedis_slowsEachRoundTrip(LocalAws aws) {
    FaultProxy proxy = aws.faults(Service.REDIS);
    RedisClient client = RedisClient.create("redis://127.0.0.1:" + proxy.port());
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      proxy.latency(Direction.BOTH, Duration.ofMillis(35), Duration.ZERO);
      long t0 = System.nanoTime();
      connection.sync().set("k", "v");
      long millis = (System.nanoTime() - t0) / 1_000_000;

      // 35 ms each way: a 70 ms round trip, as between two regions.
      assertThat(millis).isGreaterThanOrEqualTo(70);
    } finally {
      client.shutdown();
    }
  }

  @Test
  @Order(3)
  void faultsFromEarlierTests_areClearedByTheExtension(LocalAws aws) {
    FaultProxy sts = aws.faults(Service.STS);
    FaultProxy redis = aws.faults(Service.REDIS);

    assertThat(sts.httpFaults()).isEmpty();
    RedisClient client = RedisClient.create("redis://127.0.0.1:" + redis.port());
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      // The fastest of a few pings: one slow ping on a loaded machine must not decide this.
      long fastest = Long.MAX_VALUE;
      for (int i = 0; i < 5; i++) {
        long t0 = System.nanoTime();
        connection.sync().ping();
        fastest = Math.min(fastest, (System.nanoTime() - t0) / 1_000_000);
      }
      assertThat(fastest).isLessThan(70);
    } finally {
      client.shutdown();
    }
  }
}
