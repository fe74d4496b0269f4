package dev.hardway.testkit.dynamodb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stream's bookkeeping when trimming has compacted a shard's record list, below the wire. */
class DynamoDbShardTrimTest {

  private final ManualClock clock = new ManualClock(Instant.parse("2026-11-28T00:00:00Z"));
  private Database db;
  private Stream stream;

  private void open(int recordLimit) {
    db = new Database("us-east-1", "000000000000", clock, recordLimit, new byte[32]);
    stream = new Stream(db, "trimmed", new KeySchema("pk", "S", null, null), "NEW_IMAGE", "label", clock.instant());
  }

  private void append(int i) {
    Map<String, Value> item = Map.of("pk", new Value.S("k" + i), "n", new Value.N(BigDecimal.valueOf(i)));
    stream.append("INSERT", Map.of("pk", item.get("pk")), null, item, clock.instant(), false);
  }

  private String shardId() {
    return stream.describe(null, 100, clock.instant()).get("Shards").get(0).get("ShardId").asText();
  }

  @Test
  void latestIterator_afterCompactionEmptiedTheShard_readsOnlyNewRecords() {
    open(100_000);
    // Trimming 1025 records compacts the list on the last one, leaving it empty.
    for (int i = 0; i < 1025; i++) {
      append(i);
    }
    // Age out everything, so trimming compacts the list down to nothing.
    clock.advance(Duration.ofHours(25));
    String shard = shardId();
    long latest = stream.startPosition(shard, "LATEST", null, clock.instant());
    append(1025);
    Stream.Page page = stream.read(shard, latest, 1000, clock.instant());
    assertEquals(1, page.records().size());
    assertEquals("k1025", page.records().get(0).get("dynamodb").get("Keys").get("pk").get("S").asText());
    assertEquals(1025, db.recordsTrimmed.sum());
  }

  @Test
  void trimHorizon_afterTheRecordLimit_startsAtTheOldestKeptRecord() {
    open(10);
    for (int i = 0; i < 2500; i++) {
      append(i);
    }
    String shard = shardId();
    long horizon = stream.startPosition(shard, "TRIM_HORIZON", null, clock.instant());
    Stream.Page page = stream.read(shard, horizon, 1000, clock.instant());
    assertEquals(10, page.records().size());
    assertEquals("k2490", page.records().get(0).get("dynamodb").get("Keys").get("pk").get("S").asText());
    assertFalse(page.shardEnded());
    assertEquals(2490, db.recordsTrimmed.sum());
  }

  @Test
  void atSequenceNumber_ofTheShardsStart_readsFromTheFirstRecord() {
    open(10);
    append(1);
    String shard = shardId();
    String start = stream.describe(null, 100, clock.instant()).get("Shards").get(0).get("SequenceNumberRange")
        .get("StartingSequenceNumber").asText();
    long after = stream.startPosition(shard, "AT_SEQUENCE_NUMBER", db.parseSequence(start, "SequenceNumber"),
        clock.instant());
    assertEquals(1, stream.read(shard, after, 1000, clock.instant()).records().size());
  }
}
