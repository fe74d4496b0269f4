package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The DynamoDB Streams API. Shard iterators are opaque to clients: the stream, shard, read position and issue time,
 * signed with the server's random key so a client cannot forge or alter one; they expire as DynamoDB's do.
 */
final class StreamOperations {

  /** How long DynamoDB honours a shard iterator after issuing it. */
  static final Duration ITERATOR_LIFETIME = Duration.ofMinutes(15);
  static final int MAX_GET_RECORDS = 1000;

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
  private static final int MAC_BYTES = 16;

  private final Database db;
  private final SecretKeySpec key;

  StreamOperations(Database db) {
    this.db = db;
    this.key = new SecretKeySpec(db.secret(), "HmacSHA256");
  }

  ObjectNode listStreams(Wire.Members r) {
    String table = r.string("TableName");
    if (table != null) {
      Wire.checkTableName(table, "tableName");
    }
    Integer limit = r.intInRange("Limit", 1, 100);
    int max = limit == null ? 100 : limit;
    String start = r.string("ExclusiveStartStreamArn");
    ObjectNode reply = Wire.object();
    ArrayNode list = reply.putArray("Streams");
    String last = null;
    for (Stream stream : db.streams()) {
      if (table != null && !stream.tableName.equals(table)) {
        continue;
      }
      if (start != null && stream.arn.compareTo(start) <= 0) {
        continue;
      }
      if (list.size() == max) {
        reply.put("LastEvaluatedStreamArn", last);
        break;
      }
      list.addObject().put("StreamArn", stream.arn).put("TableName", stream.tableName)
          .put("StreamLabel", stream.label);
      last = stream.arn;
    }
    return reply;
  }

  ObjectNode describeStream(Wire.Members r) {
    Stream stream = db.stream(r.requireString("StreamArn"));
    Integer limit = r.intInRange("Limit", 1, 100);
    ObjectNode reply = Wire.object();
    reply.set("StreamDescription",
        stream.describe(r.string("ExclusiveStartShardId"), limit == null ? 100 : limit, db.now()));
    return reply;
  }

  ObjectNode getShardIterator(Wire.Members r) {
    String arn = r.requireString("StreamArn");
    String shardId = r.requireString("ShardId");
    String type = r.choice("ShardIteratorType", "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER",
        "AFTER_SEQUENCE_NUMBER");
    if (type == null) {
      throw ServiceError.constraint(null, "shardIteratorType", "must not be null");
    }
    String sequenceText = r.string("SequenceNumber");
    Long sequence = null;
    if (type.endsWith("_SEQUENCE_NUMBER")) {
      if (sequenceText == null) {
        throw ServiceError.validation("SequenceNumber is required when ShardIteratorType is " + type);
      }
      sequence = db.parseSequence(sequenceText, "SequenceNumber");
    }
    Stream stream = db.stream(arn);
    Instant now = db.now();
    long after = stream.startPosition(shardId, type, sequence, now);
    ObjectNode reply = Wire.object();
    reply.put("ShardIterator", encode(arn, shardId, after, now));
    return reply;
  }

  ObjectNode getRecords(Wire.Members r) {
    String iterator = r.requireString("ShardIterator");
    if (iterator.isEmpty() || iterator.length() > 2048) {
      throw ServiceError.constraint(Wire.shorten(iterator), "shardIterator", "must have length between 1 and 2048");
    }
    Integer limit = r.intInRange("Limit", 1, MAX_GET_RECORDS);
    Position position = decode(iterator);
    Instant now = db.now();
    Instant issued = Instant.ofEpochMilli(position.issuedMillis());
    if (issued.plus(ITERATOR_LIFETIME).isBefore(now)) {
      throw ServiceError.expiredIterator("Iterator expired. The iterator was created at time " + issued
          + " while right now it is " + now + " which is further in the future than the tolerated delay of "
          + ITERATOR_LIFETIME.toMillis() + " milliseconds.");
    }
    Stream stream = db.stream(position.streamArn());
    Stream.Page page = stream.read(position.shardId(), position.after(),
        limit == null ? MAX_GET_RECORDS : limit, now);
    ObjectNode reply = Wire.object();
    reply.set("Records", page.records());
    if (!page.shardEnded()) {
      reply.put("NextShardIterator", encode(position.streamArn(), position.shardId(), page.nextAfter(), now));
    }
    return reply;
  }

  private record Position(String streamArn, String shardId, long after, long issuedMillis) {}

  private String encode(String arn, String shardId, long after, Instant issued) {
    byte[] payload = (arn + "|" + shardId + "|" + after + "|" + issued.toEpochMilli())
        .getBytes(StandardCharsets.UTF_8);
    return ENCODER.encodeToString(payload) + "." + ENCODER.encodeToString(mac(payload));
  }

  private Position decode(String iterator) {
    int dot = iterator.indexOf('.');
    Position position = null;
    if (dot > 0) {
      try {
        byte[] payload = DECODER.decode(iterator.substring(0, dot));
        byte[] mac = DECODER.decode(iterator.substring(dot + 1));
        if (MessageDigest.isEqual(mac, mac(payload))) {
          position = parse(new String(payload, StandardCharsets.UTF_8));
        }
      } catch (IllegalArgumentException e) {
        position = null;
      }
    }
    if (position == null) {
      throw ServiceError.validation("Invalid ShardIterator: it was not issued by this server, or was altered; "
          + "received \"" + Wire.shorten(iterator) + "\"");
    }
    return position;
  }

  private static @Nullable Position parse(String text) {
    String[] parts = text.split("\\|");
    if (parts.length != 4) {
      return null;
    }
    return new Position(parts[0], parts[1], Long.parseLong(parts[2]), Long.parseLong(parts[3]));
  }

  private byte[] mac(byte[] payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return Arrays.copyOf(mac.doFinal(payload), MAC_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }
}
