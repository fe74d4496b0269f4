package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/** Two coordinator services over the test kit's Kinesis, S3 and DynamoDB: one leads, the other takes over. */
@LocalAwsTest({Service.S3, Service.KINESIS, Service.DYNAMODB})
class CoordinatorServiceTest {

  @Test
  void oneLeadsAtATime_andATakeoverResumesFromTheSnapshot_withoutAGapInTheBoxesLeases(LocalAws aws, Fresh fresh) {
    String bucket = fresh.bucket();
    String stream = fresh.stream(1);
    String table = fresh.table(t -> t
        .keySchema(KeySchemaElement.builder().attributeName("lockId").keyType(KeyType.HASH).build())
        .attributeDefinitions(AttributeDefinition.builder().attributeName("lockId")
            .attributeType(ScalarAttributeType.S).build())
        .billingMode(BillingMode.PAY_PER_REQUEST));
    Coordinator.Builder settings = Coordinator.builder()
        .budgets(List.of(BudgetSpec.daily("campaign", 1_000_000_000, ZoneOffset.UTC)))
        .regions(Set.of("us-east")).quorum(1);
    BoxId box = new BoxId("us-east", "box-1");
    CoordinatorService a = service(aws, settings, bucket, stream, table, "a");
    try (CoordinatorService b = service(aws, settings, bucket, stream, table, "b");
        Pacer pacer = Pacer.builder().box(box).backgroundTick(false).build();
        PacerSync sync = PacerSync.builder().pacer(pacer).kinesis(aws.kinesis()).stream(stream).s3(aws.s3())
            .bucket(bucket).background(false).build()) {
      assertThat(a.cycle()).isTrue();
      assertThat(b.cycle()).as("the standby publishes nothing").isFalse();
      // A new box learns the budget's period from the allocation, reports, and gets a lease at the next cycle.
      sync.fetchAllocation();
      pacer.tick();
      pacer.budget("campaign").shouldBid();
      sync.publishReports();
      assertThat(a.cycle()).isTrue();
      sync.fetchAllocation();
      pacer.tick();
      Allocation first = pacer.allocation();
      assertThat(first.term()).isEqualTo(1);
      Lease before = first.budgets().get("campaign").leases().get(box);
      assertThat(before).isNotNull();
      assertThat(pacer.budget("campaign").stats().mode()).isEqualTo(BudgetStats.Mode.FRESH);

      a.close(); // gives the lock up (closed here, not by try-with-resources: the takeover is the point)
      assertThat(b.cycle()).isTrue();
      assertThat(b.leading()).isTrue();
      assertThat(b.term()).isEqualTo(2);
      sync.fetchAllocation();
      pacer.tick();
      Allocation second = pacer.allocation();
      assertThat(second.term()).isEqualTo(2);
      Lease after = second.budgets().get("campaign").leases().get(box);
      assertThat(after.grantedMicros()).as("the new leader knows the grant").isGreaterThanOrEqualTo(
          before.grantedMicros());
      assertThat(after.epoch()).isGreaterThan(before.epoch());
      assertThat(pacer.budget("campaign").stats().mode()).isEqualTo(BudgetStats.Mode.FRESH);
      assertThat(b.stats().takeovers()).isEqualTo(1);
    } finally {
      a.close();
    }
  }

  private static CoordinatorService service(LocalAws aws, Coordinator.Builder settings, String bucket,
      String stream, String table, String owner) {
    return CoordinatorService.builder().coordinator(settings).kinesis(aws.kinesis()).stream(stream).s3(aws.s3())
        .bucket(bucket).dynamoDb(aws.dynamoDb()).lockTable(table).owner(owner).background(false)
        .lockTtl(Duration.ofSeconds(30)).build();
  }

  @Test
  void snapshots_roundTrip() {
    Coordinator c = Coordinator.builder()
        .budgets(List.of(BudgetSpec.daily("d", 5_000, ZoneOffset.ofHours(2)),
            BudgetSpec.lifetime("l", 7_000, Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-12-01T00:00:00Z")).withDegradation(new Degradation.SafeRate(3))))
        .regions(Set.of("r")).quorum(1).build();
    BoxId box = new BoxId("r", "b");
    c.offer(new SpendReport(box, "d", new BudgetSpec("d", 5_000, ZoneOffset.ofHours(2), Instant.MIN, Instant.MAX,
        Degradation.LAST_RATE).period(Instant.now()), 10, 0, 10, 0, 3, 20, 0, System.currentTimeMillis()));
    c.allocate();
    CoordinatorSnapshot s = c.snapshot();
    SnapshotFormat.Stored back = SnapshotFormat.decode(SnapshotFormat.encode(s, java.util.Map.of("shard-0", "42")));
    assertThat(back.coordinator()).isEqualTo(s);
    c.offer(new SpendReport(box, "d", s.periods().get(0).period(), 10, 0, 10, 0, 3, 20, 0,
        System.currentTimeMillis() + 1, true));
    CoordinatorSnapshot leaving = c.snapshot();
    assertThat(SnapshotFormat.decode(SnapshotFormat.encode(leaving, java.util.Map.of())).coordinator())
        .isEqualTo(leaving);
    assertThat(back.positions()).containsEntry("shard-0", "42");
  }
}
