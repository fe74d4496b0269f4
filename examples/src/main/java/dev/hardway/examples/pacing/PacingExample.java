package dev.hardway.examples.pacing;

import dev.hardway.pacing.BoxId;
import dev.hardway.pacing.Budget;
import dev.hardway.pacing.BudgetSpec;
import dev.hardway.pacing.Coordinator;
import dev.hardway.pacing.CoordinatorService;
import dev.hardway.pacing.Pacer;
import dev.hardway.pacing.PacerSync;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;

/**
 * One budget spent by boxes in two regions, through a coordinator, on the test kit's Kinesis, S3 and DynamoDB: the
 * box behind the busy load balancer does not run away with it, and the total never passes the budget.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java
 * -Dexample=dev.hardway.examples.pacing.PacingExample}
 */
public final class PacingExample {
  private PacingExample() {}

  /**
   * Runs the example.
   *
   * @param args none
   * @throws InterruptedException when interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    try (LocalAws aws = LocalAws.start(Service.S3, Service.KINESIS, Service.DYNAMODB)) {
      WaiterOverrideConfiguration fast = WaiterOverrideConfiguration.builder()
          .backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100))).build();
      aws.s3().createBucket(b -> b.bucket("pacing"));
      aws.kinesis().createStream(b -> b.streamName("pacing-reports").shardCount(1));
      aws.kinesis().waiter().waitUntilStreamExists(
          DescribeStreamRequest.builder().streamName("pacing-reports").build(), fast);
      aws.dynamoDb().createTable(CreateTableRequest.builder().tableName("pacing-lock")
          .keySchema(KeySchemaElement.builder().attributeName("lockId").keyType(KeyType.HASH).build())
          .attributeDefinitions(AttributeDefinition.builder().attributeName("lockId")
              .attributeType(ScalarAttributeType.S).build())
          .billingMode(BillingMode.PAY_PER_REQUEST).build());

      // $2 over the next 8 seconds (micros: millionths of a dollar).
      Instant start = Instant.now();
      BudgetSpec budget = BudgetSpec.lifetime("campaign-42", 2_000_000, start, start.plusSeconds(8));
      Duration sync = Duration.ofMillis(250);
      try (CoordinatorService banker = CoordinatorService.builder()
              .coordinator(Coordinator.builder().budgets(List.of(budget)).regions(Set.of("us-east", "eu-west"))
                  .quorum(1).syncInterval(sync).leaseFreshFor(Duration.ofSeconds(1)))
              .kinesis(aws.kinesis()).stream("pacing-reports").s3(aws.s3()).bucket("pacing")
              .dynamoDb(aws.dynamoDb()).lockTable("pacing-lock").owner("banker-1").syncInterval(sync)
              .lockTtl(Duration.ofSeconds(1)).build();
          Pacer busy = Pacer.builder().box(BoxId.forThisProcess("us-east", "box-1")).build();
          Pacer quiet = Pacer.builder().box(BoxId.forThisProcess("eu-west", "box-1")).build();
          PacerSync busySync = PacerSync.builder().pacer(busy).kinesis(aws.kinesis()).stream("pacing-reports")
              .s3(aws.s3()).bucket("pacing").syncInterval(sync).build();
          PacerSync quietSync = PacerSync.builder().pacer(quiet).kinesis(aws.kinesis()).stream("pacing-reports")
              .s3(aws.s3()).bucket("pacing").syncInterval(sync).build()) {
        Budget busyBudget = busy.budget("campaign-42");
        Budget quietBudget = quiet.budget("campaign-42");
        long busySpent = 0;
        long quietSpent = 0;
        // The busy box sees four opportunities for each one the quiet box sees, as behind a TCP load balancer.
        while (Instant.now().isBefore(start.plusSeconds(9))) {
          for (int i = 0; i < 4; i++) {
            if (busyBudget.shouldBid() && busyBudget.trySpend(2_000)) {
              busySpent += 2_000;
            }
          }
          if (quietBudget.shouldBid() && quietBudget.trySpend(2_000)) {
            quietSpent += 2_000;
          }
          Thread.sleep(1);
        }
        System.out.printf("budget 2,000,000 micros: us-east/box-1 spent %,d, eu-west/box-1 spent %,d, total %,d%n",
            busySpent, quietSpent, busySpent + quietSpent);
        System.out.println("coordinator: " + banker.stats());
        System.out.println("us-east/box-1 sync: " + busySync.stats());
        System.out.println("eu-west/box-1 sync: " + quietSync.stats());
      }
    }
  }
}
