package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.Service;
import dev.hardway.testkit.TestClock;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/** Leadership through conditional writes on the test kit's DynamoDB. */
@LocalAwsTest(Service.DYNAMODB)
class LeaderLockTest {
  private final TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
  private LeaderLock a;
  private LeaderLock b;

  @BeforeEach
  void table(DynamoDbClient ddb, Fresh fresh) {
    String table = fresh.table(t -> t
        .keySchema(KeySchemaElement.builder().attributeName("lockId").keyType(KeyType.HASH).build())
        .attributeDefinitions(AttributeDefinition.builder().attributeName("lockId")
            .attributeType(ScalarAttributeType.S).build())
        .billingMode(BillingMode.PAY_PER_REQUEST));
    a = new LeaderLock(ddb, table, "pacing", "coordinator-a", Duration.ofSeconds(30), clock);
    b = new LeaderLock(ddb, table, "pacing", "coordinator-b", Duration.ofSeconds(30), clock);
  }

  @Test
  void oneHolderAtATime_eachTakeoverRaisesTheTerm_andHandsOverTheSnapshot() {
    LeaderLock.Held first = a.tryAcquire().orElseThrow();
    assertThat(first.term()).isEqualTo(1);
    assertThat(first.snapshotKey()).isNull();
    assertThat(b.tryAcquire()).isEmpty();
    assertThat(a.renew(1, "snapshots/1-5")).isTrue();
    clock.advance(Duration.ofSeconds(20));
    assertThat(b.tryAcquire()).as("renewed 20 s ago for 30 s").isEmpty();
    clock.advance(Duration.ofSeconds(11));
    LeaderLock.Held second = b.tryAcquire().orElseThrow();
    assertThat(second.term()).isEqualTo(2);
    assertThat(second.snapshotKey()).isEqualTo("snapshots/1-5");
    assertThat(a.renew(1, "snapshots/1-6")).as("the deposed holder's write fails").isFalse();
    assertThat(b.renew(2, null)).isTrue();
  }

  @Test
  void release_letsAStandbyTakeOverAtOnce() {
    LeaderLock.Held held = a.tryAcquire().orElseThrow();
    a.release(held.term());
    assertThat(b.tryAcquire()).map(LeaderLock.Held::term).contains(held.term() + 1);
    a.release(held.term()); // no longer the holder: nothing happens
    assertThat(b.renew(held.term() + 1, null)).isTrue();
  }
}
