package dev.hardway.pacing;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;

/**
 * Leadership of the coordinators, in one DynamoDB item written only with conditional updates. Taking it increments
 * the term (the fencing token every allocation carries); the holder renews it and, in the same conditional write,
 * records where its latest snapshot is. A deposed holder's write fails, so it never publishes after losing, and a new
 * holder always reads the snapshot of everything its predecessor published.
 *
 * <p>The table needs a string partition key named {@code lockId}.
 */
final class LeaderLock {
  private final DynamoDbClient ddb;
  private final String table;
  private final String lockId;
  private final String owner;
  private final Duration ttl;
  private final InstantSource clock;

  /**
   * What the holder got when it took the lock.
   *
   * @param term the new term
   * @param snapshotKey where the previous holder's last snapshot is, or null
   */
  record Held(long term, @Nullable String snapshotKey) {}

  LeaderLock(DynamoDbClient ddb, String table, String lockId, String owner, Duration ttl, InstantSource clock) {
    this.ddb = ddb;
    this.table = table;
    this.lockId = lockId;
    this.owner = owner;
    this.ttl = ttl;
    this.clock = clock;
  }

  private Map<String, AttributeValue> key() {
    return Map.of("lockId", AttributeValue.fromS(lockId));
  }

  /** Takes the lock if nobody holds it or the holder let it expire; empty when someone else holds it. */
  Optional<Held> tryAcquire() {
    long now = clock.millis();
    try {
      UpdateItemResponse r = ddb.updateItem(b -> b.tableName(table).key(key())
          .updateExpression("SET #owner = :me, expiresAt = :exp ADD #term :one")
          .conditionExpression("attribute_not_exists(lockId) OR expiresAt < :now OR #owner = :me")
          .expressionAttributeNames(Map.of("#owner", "owner", "#term", "term"))
          .expressionAttributeValues(Map.of(":me", AttributeValue.fromS(owner),
              ":exp", AttributeValue.fromN(Long.toString(now + ttl.toMillis())),
              ":now", AttributeValue.fromN(Long.toString(now)),
              ":one", AttributeValue.fromN("1")))
          .returnValues(ReturnValue.ALL_NEW));
      Map<String, AttributeValue> item = r.attributes();
      AttributeValue snapshot = item.get("snapshotKey");
      return Optional.of(new Held(Long.parseLong(item.get("term").n()), snapshot == null ? null : snapshot.s()));
    } catch (ConditionalCheckFailedException held) {
      return Optional.empty();
    }
  }

  /**
   * Renews the lock for the term held, recording the latest snapshot's key; false when the lock was lost (then the
   * caller must not publish).
   */
  boolean renew(long term, @Nullable String snapshotKey) {
    long now = clock.millis();
    String update = snapshotKey == null ? "SET expiresAt = :exp" : "SET expiresAt = :exp, snapshotKey = :snap";
    Map<String, AttributeValue> values = new java.util.HashMap<>(Map.of(
        ":me", AttributeValue.fromS(owner),
        ":term", AttributeValue.fromN(Long.toString(term)),
        ":exp", AttributeValue.fromN(Long.toString(now + ttl.toMillis()))));
    if (snapshotKey != null) {
      values.put(":snap", AttributeValue.fromS(snapshotKey));
    }
    try {
      ddb.updateItem(b -> b.tableName(table).key(key()).updateExpression(update)
          .conditionExpression("#owner = :me AND #term = :term")
          .expressionAttributeNames(Map.of("#owner", "owner", "#term", "term"))
          .expressionAttributeValues(values));
      return true;
    } catch (ConditionalCheckFailedException lost) {
      return false;
    }
  }

  /** Gives the lock up at once, so a standby need not wait for it to expire. */
  void release(long term) {
    try {
      ddb.updateItem(b -> b.tableName(table).key(key()).updateExpression("SET expiresAt = :zero")
          .conditionExpression("#owner = :me AND #term = :term")
          .expressionAttributeNames(Map.of("#owner", "owner", "#term", "term"))
          .expressionAttributeValues(Map.of(":me", AttributeValue.fromS(owner),
              ":term", AttributeValue.fromN(Long.toString(term)), ":zero", AttributeValue.fromN("0"))));
    } catch (ConditionalCheckFailedException alreadyLost) {
      // Someone else holds it already.
    }
  }
}
