package dev.hardway.testkit.dynamodb;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A table's DynamoDB stream: shards of change records in modification order. Writers append while holding their
 * table's write lock, so a stream's order is its table's modification order; readers take only this stream's monitor.
 *
 * <p>Memory is bounded as DynamoDB bounds it: records older than {@link #RETENTION} are trimmed, and so are the
 * oldest records beyond the server's per-stream record limit; every trimmed record is counted.
 */
final class Stream {

  /** How long DynamoDB keeps stream records, and a disabled stream. */
  static final Duration RETENTION = Duration.ofHours(24);
  /** DynamoDB's limit on one GetRecords reply. */
  static final long MAX_READ_BYTES = 1024 * 1024;

  static final DateTimeFormatter LABEL =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS", Locale.ROOT).withZone(ZoneOffset.UTC);

  private final Database db;
  final String arn;
  final String label;
  final String tableName;
  final KeySchema keySchema;
  final String viewType;
  final Instant created;

  private final List<Shard> shards = new ArrayList<>();
  private boolean enabled = true;
  private @Nullable Instant disabledAt;
  private int liveRecords;

  Stream(Database db, String tableName, KeySchema keySchema, String viewType, String label, Instant created) {
    this.db = db;
    this.tableName = tableName;
    this.keySchema = keySchema;
    this.viewType = viewType;
    this.label = label;
    this.created = created;
    this.arn = db.tableArn(tableName) + "/stream/" + label;
    openShard(null, created);
  }

  private Shard openShard(@Nullable String parentId, Instant now) {
    long start = db.nextSequence();
    String id = String.format(Locale.ROOT, "shardId-%020d-%08x", now.toEpochMilli(), (int) Database.mix(start));
    Shard shard = new Shard(id, parentId, start);
    shards.add(shard);
    return shard;
  }

  private Shard openShard() {
    return shards.get(shards.size() - 1);
  }

  synchronized boolean enabled() {
    return enabled;
  }

  /** Whether a disabled stream has outlived its retention and may be forgotten. */
  synchronized boolean expired(Instant now) {
    return !enabled && disabledAt != null && disabledAt.plus(RETENTION).isBefore(now);
  }

  /** Appends one change; the caller holds the table's write lock. */
  synchronized void append(
      String eventName,
      Map<String, Value> keys,
      @Nullable Map<String, Value> oldItem,
      @Nullable Map<String, Value> newItem,
      Instant now,
      boolean byTimeToLive) {
    if (!enabled) {
      return;
    }
    trim(now);
    boolean wantNew = viewType.equals("NEW_IMAGE") || viewType.equals("NEW_AND_OLD_IMAGES");
    boolean wantOld = viewType.equals("OLD_IMAGE") || viewType.equals("NEW_AND_OLD_IMAGES");
    Map<String, Value> newImage = wantNew ? newItem : null;
    Map<String, Value> oldImage = wantOld ? oldItem : null;
    long size = Value.itemSize(keys) + (newImage == null ? 0 : Value.itemSize(newImage))
        + (oldImage == null ? 0 : Value.itemSize(oldImage));
    openShard().append(new StreamRecord(db.nextSequence(), eventName, now, keys, newImage, oldImage, size,
        byTimeToLive));
    liveRecords++;
    db.recordsWritten.increment();
    trim(now);
  }

  /** Closes the open shard and opens its child; returns the child's id. */
  synchronized String rotate(Instant now) {
    if (!enabled) {
      throw new IllegalStateException("the stream " + arn + " is disabled; only an enabled stream has an open shard");
    }
    Shard parent = openShard();
    parent.close(parent.lastSequence(), now);
    return openShard(parent.id, now).id;
  }

  synchronized void disable(Instant now) {
    if (enabled) {
      enabled = false;
      disabledAt = now;
      Shard open = openShard();
      open.close(open.lastSequence(), now);
    }
  }

  private void trim(Instant now) {
    Instant horizon = now.minus(RETENTION);
    for (Shard shard : shards) {
      StreamRecord oldest;
      while ((oldest = shard.oldest()) != null && oldest.created().isBefore(horizon)) {
        trimOne(shard);
      }
    }
    for (int i = 0; liveRecords > db.streamRecordLimit && i < shards.size(); ) {
      Shard shard = shards.get(i);
      if (shard.size() == 0) {
        i++;
      } else {
        trimOne(shard);
      }
    }
    // A closed shard whose records are all gone disappears after the retention period, as in DynamoDB.
    Shard newest = shards.get(shards.size() - 1);
    shards.removeIf(s -> s != newest && s.size() == 0 && s.closedAt() != null && s.closedAt().isBefore(horizon));
  }

  private void trimOne(Shard shard) {
    shard.trimOldest();
    liveRecords--;
    db.recordsTrimmed.increment();
  }

  private Shard shard(String shardId) {
    for (Shard s : shards) {
      if (s.id.equals(shardId)) {
        return s;
      }
    }
    throw ServiceError.notFound("Requested resource not found: Shard: " + shardId + " in Stream: " + arn
        + " not found");
  }

  /**
   * The read position (records after this sequence number) a new iterator starts at.
   *
   * @param sequence the client's sequence number for AT_ and AFTER_SEQUENCE_NUMBER, else null
   */
  synchronized long startPosition(String shardId, String type, @Nullable Long sequence, Instant now) {
    trim(now);
    Shard shard = shard(shardId);
    switch (type) {
      case "TRIM_HORIZON":
        return shard.trimmedThrough();
      case "LATEST":
        return shard.lastSequence();
      default:
        break;
    }
    long n = sequence == null ? -1 : sequence;
    long highest = shard.isOpen() ? shard.lastSequence() : shard.endingSequence();
    if (n < shard.startingSequence || n > highest) {
      throw ServiceError.validation("Invalid SequenceNumber for the shard: " + db.sequenceText(n) + " is outside "
          + shardId + ", whose records run from " + db.sequenceText(shard.startingSequence) + " to "
          + db.sequenceText(highest));
    }
    long after = type.equals("AT_SEQUENCE_NUMBER") ? n - 1 : n;
    if (after < shard.trimmedThrough()) {
      throw ServiceError.trimmedDataAccess("The requested sequence number " + db.sequenceText(n) + " is beyond the "
          + "trim horizon of " + shardId + "; records up to " + db.sequenceText(shard.trimmedThrough())
          + " have been trimmed");
    }
    return after;
  }

  /** One page of GetRecords. */
  record Page(ArrayNode records, long nextAfter, boolean shardEnded) {}

  synchronized Page read(String shardId, long after, int limit, Instant now) {
    trim(now);
    Shard shard = shard(shardId);
    if (after < shard.trimmedThrough()) {
      throw ServiceError.trimmedDataAccess("The iterator points before the trim horizon of " + shardId
          + ": it reads after " + db.sequenceText(after) + ", but records up to "
          + db.sequenceText(shard.trimmedThrough()) + " have been trimmed");
    }
    ArrayNode out = Wire.array();
    int index = shard.firstAfter(after);
    long bytes = 0;
    long last = after;
    while (index < shard.end() && out.size() < limit) {
      StreamRecord record = shard.get(index);
      if (out.size() > 0 && bytes + record.sizeBytes() > MAX_READ_BYTES) {
        break;
      }
      bytes += record.sizeBytes();
      out.add(recordJson(record));
      last = record.sequence();
      index++;
    }
    return new Page(out, last, !shard.isOpen() && index >= shard.end());
  }

  private ObjectNode recordJson(StreamRecord r) {
    ObjectNode node = Wire.object();
    node.put("eventID", db.eventId(r.sequence()));
    node.put("eventName", r.eventName());
    node.put("eventVersion", "1.1");
    node.put("eventSource", "aws:dynamodb");
    node.put("awsRegion", db.region);
    ObjectNode data = node.putObject("dynamodb");
    data.put("ApproximateCreationDateTime", r.created().getEpochSecond());
    data.set("Keys", Wire.itemJson(r.keys()));
    if (r.newImage() != null) {
      data.set("NewImage", Wire.itemJson(r.newImage()));
    }
    if (r.oldImage() != null) {
      data.set("OldImage", Wire.itemJson(r.oldImage()));
    }
    data.put("SequenceNumber", db.sequenceText(r.sequence()));
    data.put("SizeBytes", r.sizeBytes());
    data.put("StreamViewType", viewType);
    if (r.byTimeToLive()) {
      // How DynamoDB marks the deletions its time-to-live process makes.
      node.putObject("userIdentity").put("PrincipalId", "dynamodb.amazonaws.com").put("Type", "Service");
    }
    return node;
  }

  synchronized ObjectNode describe(@Nullable String exclusiveStartShardId, int limit, Instant now) {
    trim(now);
    ObjectNode d = Wire.object();
    d.put("StreamArn", arn);
    d.put("StreamLabel", label);
    d.put("StreamStatus", enabled ? "ENABLED" : "DISABLED");
    d.put("StreamViewType", viewType);
    d.put("CreationRequestDateTime", epochSeconds(created));
    d.put("TableName", tableName);
    d.set("KeySchema", keySchema.keySchemaJson());
    int from = 0;
    if (exclusiveStartShardId != null) {
      from = -1;
      for (int i = 0; i < shards.size(); i++) {
        if (shards.get(i).id.equals(exclusiveStartShardId)) {
          from = i + 1;
        }
      }
      if (from < 0) {
        throw ServiceError.validation("ExclusiveStartShardId " + exclusiveStartShardId + " is not a shard of "
            + arn);
      }
    }
    ArrayNode list = d.putArray("Shards");
    int i = from;
    for (; i < shards.size() && list.size() < limit; i++) {
      Shard s = shards.get(i);
      ObjectNode shard = list.addObject();
      shard.put("ShardId", s.id);
      if (s.parentId != null) {
        shard.put("ParentShardId", s.parentId);
      }
      ObjectNode range = shard.putObject("SequenceNumberRange");
      range.put("StartingSequenceNumber", db.sequenceText(s.startingSequence));
      if (!s.isOpen()) {
        range.put("EndingSequenceNumber", db.sequenceText(s.endingSequence()));
      }
    }
    if (i < shards.size()) {
      d.put("LastEvaluatedShardId", shards.get(i - 1).id);
    }
    return d;
  }

  static BigDecimal epochSeconds(Instant instant) {
    return BigDecimal.valueOf(instant.toEpochMilli(), 3);
  }
}
