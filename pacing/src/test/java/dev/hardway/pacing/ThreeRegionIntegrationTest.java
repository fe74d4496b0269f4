package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Three regions, each with its own box, SDK clients and fault proxies, and a coordinator service with its own, over
 * the test kit's Kinesis, S3 and DynamoDB, in real time: a region is cut off and comes back, then the coordinator
 * is cut off and comes back. Spend never exceeds the budget, and every box is back on fresh leases after each heal.
 * (A takeover from a snapshot is {@code CoordinatorServiceTest}'s.)
 */
@LocalAwsTest({Service.S3, Service.KINESIS, Service.DYNAMODB})
class ThreeRegionIntegrationTest {
  private static final ClientOverrideConfiguration NO_RETRIES = ClientOverrideConfiguration.builder()
      .retryStrategy(AwsRetryStrategy.doNotRetry()).apiCallTimeout(Duration.ofSeconds(2)).build();
  private static final long BUDGET = 3_000_000;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final AtomicBoolean spending = new AtomicBoolean(true);

  @AfterEach
  void closeAll() throws Exception {
    spending.set(false);
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T track(T c) {
    closeables.add(c);
    return c;
  }

  private FaultProxy proxy(LocalAws aws, Service s) {
    return track(FaultProxy.builder().target("127.0.0.1", aws.port(s)).http(true).start());
  }

  private record Region(String name, Pacer pacer, Budget budget, List<FaultProxy> proxies, AtomicLong spent) {}

  @Test
  void spendStaysWithinBudget_throughARegionCutAndACoordinatorOutage(LocalAws aws, Fresh fresh) {
    String bucket = fresh.bucket();
    String stream = fresh.stream(1);
    String table = fresh.table(t -> t
        .keySchema(KeySchemaElement.builder().attributeName("lockId").keyType(KeyType.HASH).build())
        .attributeDefinitions(AttributeDefinition.builder().attributeName("lockId")
            .attributeType(ScalarAttributeType.S).build())
        .billingMode(BillingMode.PAY_PER_REQUEST));
    Instant start = Instant.now();
    Instant end = start.plusSeconds(24);
    BudgetSpec spec = BudgetSpec.lifetime("campaign", BUDGET, start, end);
    Duration sync = Duration.ofMillis(250);

    // The coordinator, behind proxies of its own.
    FaultProxy cS3 = proxy(aws, Service.S3);
    FaultProxy cKinesis = proxy(aws, Service.KINESIS);
    FaultProxy cDynamo = proxy(aws, Service.DYNAMODB);
    CoordinatorService banker = track(CoordinatorService.builder()
        .coordinator(Coordinator.builder().budgets(List.of(spec)).regions(Set.of("r1", "r2", "r3")).quorum(2)
            .syncInterval(sync).quorumWindow(Duration.ofSeconds(3)).leaseFreshFor(Duration.ofMillis(1500))
            .reserveHorizon(Duration.ofSeconds(6)).maxClockSkew(Duration.ofMillis(100)))
        .kinesis(track(aws.configure(KinesisClient.builder(), cKinesis.uri()).overrideConfiguration(NO_RETRIES)
            .build()))
        .stream(stream)
        .s3(track(aws.configure(S3Client.builder(), cS3.uri()).overrideConfiguration(NO_RETRIES).build()))
        .bucket(bucket)
        .dynamoDb(track(aws.configure(DynamoDbClient.builder(), cDynamo.uri()).overrideConfiguration(NO_RETRIES)
            .build()))
        .lockTable(table)
        .owner("banker-1")
        .syncInterval(sync)
        .lockTtl(Duration.ofMillis(1500))
        .build());

    List<Region> regions = new ArrayList<>();
    for (String name : List.of("r1", "r2", "r3")) {
      FaultProxy s3Proxy = proxy(aws, Service.S3);
      FaultProxy kinesisProxy = proxy(aws, Service.KINESIS);
      Pacer pacer = track(Pacer.builder().box(new BoxId(name, "box-1")).tickInterval(Duration.ofMillis(50))
          .rateWindow(Duration.ofSeconds(2)).build());
      track(PacerSync.builder().pacer(pacer).syncInterval(sync)
          .kinesis(track(aws.configure(KinesisClient.builder(), kinesisProxy.uri()).overrideConfiguration(NO_RETRIES)
              .build()))
          .stream(stream)
          .s3(track(aws.configure(S3Client.builder(), s3Proxy.uri()).overrideConfiguration(NO_RETRIES).build()))
          .bucket(bucket)
          .build());
      Region r = new Region(name, pacer, pacer.budget("campaign"), List.of(s3Proxy, kinesisProxy), new AtomicLong());
      regions.add(r);
      // Demand far above the plan: 1000 micros a millisecond against about 125,000 micros a second for everyone.
      Thread.ofPlatform().daemon().name("spender-" + name).start(() -> {
        while (spending.get()) {
          if (r.budget().shouldBid() && r.budget().trySpend(1_000)) {
            r.spent().addAndGet(1_000);
          }
          try {
            Thread.sleep(1);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
    }
    AtomicLong worst = new AtomicLong();
    Runnable withinBudget = () -> {
      long total = regions.stream().mapToLong(r -> r.spent().get()).sum();
      worst.accumulateAndGet(total, Math::max);
      assertThat(total).isLessThanOrEqualTo(BUDGET);
    };

    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      withinBudget.run();
      assertThat(regions).allSatisfy(r ->
          assertThat(r.budget().stats().mode()).isEqualTo(BudgetStats.Mode.FRESH));
    });
    assertThat(banker.leading()).isTrue();

    // A region cut off: its box can no longer fetch or report, and degrades; the others carry on.
    Region cut = regions.get(2);
    cut.proxies().forEach(p -> {
      p.refuseConnections(true);
      p.resetConnections();
    });
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      withinBudget.run();
      assertThat(cut.budget().stats().mode()).isEqualTo(BudgetStats.Mode.DEGRADED);
    });
    cut.proxies().forEach(p -> p.refuseConnections(false));
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      withinBudget.run();
      assertThat(cut.budget().stats().mode()).isEqualTo(BudgetStats.Mode.FRESH);
    });

    // The coordinator cut off: every lease ages, every box degrades; the coordinator's cycles fail.
    long failuresBefore = banker.stats().failures();
    for (FaultProxy p : List.of(cS3, cKinesis, cDynamo)) {
      p.refuseConnections(true);
      p.resetConnections();
    }
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      withinBudget.run();
      assertThat(regions).allSatisfy(r ->
          assertThat(r.budget().stats().mode()).isEqualTo(BudgetStats.Mode.DEGRADED));
    });
    for (FaultProxy p : List.of(cS3, cKinesis, cDynamo)) {
      p.refuseConnections(false);
    }
    await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      withinBudget.run();
      assertThat(regions).allSatisfy(r ->
          assertThat(r.budget().stats().mode()).isEqualTo(BudgetStats.Mode.FRESH));
    });
    assertThat(banker.stats().failures()).isGreaterThan(failuresBefore);
    assertThat(banker.leading()).as("leading again, in its term or a new one").isTrue();

    // To the end of the budget's window: never over, and most of it spent despite two outages.
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
      withinBudget.run();
      return Instant.now().isAfter(end.plusSeconds(1));
    });
    withinBudget.run();
    long total = regions.stream().mapToLong(r -> r.spent().get()).sum();
    System.out.printf("spent %d of %d micros (%.1f %%), coordinator %s%n", total, BUDGET, 100.0 * total / BUDGET,
        banker.stats());
    assertThat(total).as("spent %d of %d", total, BUDGET).isGreaterThan(BUDGET / 2);
    for (Region r : regions) {
      assertThat(r.budget().stats().spentMicros() - r.budget().stats().refundedMicros()).isEqualTo(r.spent().get());
    }
  }
}
