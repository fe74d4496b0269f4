package dev.hardway.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.OperationType;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

/** DynamoDB + Streams through the stack: a put shows up as a stream record, read with the SDK's streams client. */
@LocalAwsTest(Service.DYNAMODB)
class DynamoDbServiceTest {

  private static String streamTable(Fresh fresh) {
    return fresh.table(t -> t
        .attributeDefinitions(AttributeDefinition.builder().attributeName("id").attributeType(ScalarAttributeType.S)
            .build())
        .keySchema(KeySchemaElement.builder().attributeName("id").keyType(KeyType.HASH).build())
        .billingMode(BillingMode.PAY_PER_REQUEST)
        .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)));
  }

  @Test
  void putItem_appearsAsAStreamRecordWithItsImage(DynamoDbClient dynamo, DynamoDbStreamsClient streams,
      Fresh fresh) {
    String table = streamTable(fresh);
    dynamo.putItem(b -> b.tableName(table).item(Map.of(
        "id", AttributeValue.fromS("campaign-1"), "budget", AttributeValue.fromN("1000"))));

    String arn = dynamo.describeTable(b -> b.tableName(table)).table().latestStreamArn();
    String shard = streams.describeStream(b -> b.streamArn(arn)).streamDescription().shards().get(0).shardId();
    String iterator = streams.getShardIterator(b -> b.streamArn(arn).shardId(shard)
        .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
    List<Record> records = streams.getRecords(b -> b.shardIterator(iterator)).records();

    assertThat(records).hasSize(1);
    assertThat(records.get(0).eventName()).isEqualTo(OperationType.INSERT);
    assertThat(records.get(0).dynamodb().newImage())
        .containsEntry("budget", AttributeValue.fromN("1000"));
  }

  @Test
  void rotateStreamShard_opensAChildOfTheOpenShard(LocalAws aws, DynamoDbClient dynamo,
      DynamoDbStreamsClient streams, Fresh fresh) {
    String table = streamTable(fresh);
    String arn = dynamo.describeTable(b -> b.tableName(table)).table().latestStreamArn();
    String parent = streams.describeStream(b -> b.streamArn(arn)).streamDescription().shards().get(0).shardId();

    String child = aws.dynamoDbServer().rotateStreamShard(table);

    var shards = streams.describeStream(b -> b.streamArn(arn)).streamDescription().shards();
    assertThat(shards).hasSize(2);
    assertThat(shards.get(1).shardId()).isEqualTo(child);
    assertThat(shards.get(1).parentShardId()).isEqualTo(parent);
  }
}
