package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.TestClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;

/**
 * A stream reader paused longer than its iterators live (15 minutes, on the test kit's clock) resumes after the last
 * record it handled: nothing is skipped and nothing is published twice.
 */
class AggregatorPauseTest {

  @Test
  void anExpiredIterator_resumesAfterTheLastRecordHandled() {
    TestClock clock = TestClock.ofNow();
    try (LocalAws aws = LocalAws.builder().services(Service.DYNAMODB, Service.KINESIS).clock(clock).start()) {
      var ddb = aws.dynamoDb();
      ddb.createTable(b -> b.tableName("profiles").billingMode(BillingMode.PAY_PER_REQUEST)
          .attributeDefinitions(AttributeDefinition.builder().attributeName("user")
              .attributeType(ScalarAttributeType.S).build())
          .keySchema(KeySchemaElement.builder().attributeName("user").keyType(KeyType.HASH).build())
          .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)));
      String arn = ddb.describeTable(b -> b.tableName("profiles")).table().latestStreamArn();
      aws.kinesis().createStream(b -> b.streamName("updates").shardCount(1));
      aws.kinesis().waiter().waitUntilStreamExists(DescribeStreamRequest.builder().streamName("updates").build(),
          WaiterOverrideConfiguration.builder().backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100)))
              .build());
      Aggregator.Joiner joiner = c -> List.of(new PushedUpdate(c.keys().get("user").s(), 1, 1,
          "x".getBytes(StandardCharsets.UTF_8)));
      try (Aggregator aggregator = Aggregator.builder().streams(aws.dynamoDbStreams()).table("profiles", arn)
          .joiner(joiner).publishTo(aws.kinesis(), "updates").pollInterval(Duration.ofMillis(20)).build().start()) {
        put(ddb, "a");
        put(ddb, "b");
        await().atMost(Duration.ofSeconds(15)).until(() -> aggregator.stats().published() == 2);
        // Every iterator the aggregator holds is now older than 15 minutes.
        clock.advance(Duration.ofMinutes(16));
        await().atMost(Duration.ofSeconds(15)).until(() -> aggregator.stats().failures() >= 1);
        put(ddb, "c");
        await().atMost(Duration.ofSeconds(15)).until(() -> aggregator.stats().published() == 3);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
            .until(() -> aggregator.stats().published() == 3);
        assertThat(aggregator.stats().changes()).isEqualTo(3);
      }
    }
  }

  private static void put(software.amazon.awssdk.services.dynamodb.DynamoDbClient ddb, String user) {
    ddb.putItem(b -> b.tableName("profiles").item(Map.of("user", AttributeValue.fromS(user))));
  }
}
