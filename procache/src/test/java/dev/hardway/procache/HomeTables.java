package dev.hardway.procache;

import dev.hardway.testkit.junit.Fresh;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/** Home tables and the published stream, as the aggregator tests use them. */
final class HomeTables {
  private HomeTables() {}

  /** A table with a string hash key, and a NEW_AND_OLD_IMAGES stream when asked. */
  static void spec(CreateTableRequest.Builder b, String key, boolean stream) {
    b.billingMode(BillingMode.PAY_PER_REQUEST)
        .attributeDefinitions(AttributeDefinition.builder().attributeName(key)
            .attributeType(ScalarAttributeType.S).build())
        .keySchema(KeySchemaElement.builder().attributeName(key).keyType(KeyType.HASH).build());
    if (stream) {
      b.streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES));
    }
  }

  static String table(Fresh fresh, String key, boolean stream) {
    return fresh.table(b -> spec(b, key, stream));
  }

  static String streamArn(DynamoDbClient ddb, String table) {
    return ddb.describeTable(b -> b.tableName(table)).table().latestStreamArn();
  }

  /** A profile: key {@code user}, version {@code ver}, and a name. */
  static void put(DynamoDbClient ddb, String table, String user, long ver) {
    Map<String, AttributeValue> item = new HashMap<>();
    item.put("user", AttributeValue.fromS(user));
    item.put("ver", AttributeValue.fromN(Long.toString(ver)));
    item.put("name", AttributeValue.fromS(user + "-v" + ver));
    ddb.putItem(b -> b.tableName(table).item(item));
  }

  /** The joiner of these profiles: one update per item, versioned by {@code ver}; items without it are poison. */
  static List<PushedUpdate> join(Aggregator.Change c) {
    var image = c.newImage();
    if (image == null) {
      // A removal: a tombstone one version above the item removed.
      var old = c.oldImage();
      long ver = old == null ? 1 : Long.parseLong(old.get("ver").n()) + 1;
      return List.of(new PushedUpdate(c.keys().get("user").s(), ver, 1, null));
    }
    if (!image.containsKey("ver")) {
      throw new IllegalArgumentException("no ver in " + c.keys());
    }
    return List.of(new PushedUpdate(image.get("user").s(), Long.parseLong(image.get("ver").n()), 1,
        image.get("name").s().getBytes(StandardCharsets.UTF_8)));
  }

  /** Every update published to a stream, from every shard's oldest record. */
  static List<PushedUpdate> published(KinesisClient kinesis, String stream) {
    List<PushedUpdate> out = new ArrayList<>();
    for (var shard : kinesis.listShards(b -> b.streamName(stream)).shards()) {
      String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard.shardId())
          .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
      while (it != null) {
        String at = it;
        var r = kinesis.getRecords(b -> b.shardIterator(at).limit(10_000));
        r.records().forEach(rec -> out.add(PushedUpdate.decode(rec.data().asByteArray())));
        if (r.records().isEmpty()) {
          break;
        }
        it = r.nextShardIterator();
      }
    }
    return out;
  }
}
