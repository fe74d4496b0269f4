package dev.hardway.pacing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ExpiredIteratorException;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * The coordinator's side of the report stream: every shard polled in turn from where the last poll (or the snapshot
 * it restarted from) left off. Replaying is harmless — reports are cumulative and merge by maximum — so a position
 * lost is only a slower start. Records that do not decode are skipped and counted, and the shard keeps moving.
 */
final class ReportReader {
  private final KinesisClient kinesis;
  private final String stream;
  private final Map<String, String> positions;
  private final Map<String, @Nullable String> iterators = new HashMap<>();
  private final Map<String, Boolean> closed = new HashMap<>();
  private long malformed;

  ReportReader(KinesisClient kinesis, String stream, Map<String, String> positions) {
    this.kinesis = kinesis;
    this.stream = stream;
    this.positions = new HashMap<>(positions);
  }

  /** One pass over every open shard; new shards (after resharding) are found on every pass. */
  List<SpendReport> poll() {
    List<SpendReport> out = new ArrayList<>();
    for (Shard shard : kinesis.listShards(b -> b.streamName(stream)).shards()) {
      String id = shard.shardId();
      if (closed.getOrDefault(id, false)) {
        continue;
      }
      String it = iterators.get(id);
      if (it == null) {
        it = iterator(id);
      }
      GetRecordsResponse r;
      try {
        String current = it;
        r = kinesis.getRecords(b -> b.shardIterator(current).limit(1000));
      } catch (ExpiredIteratorException | ResourceNotFoundException e) {
        iterators.put(id, null);
        continue;
      }
      for (Record rec : r.records()) {
        positions.put(id, rec.sequenceNumber());
        try {
          out.addAll(WireFormat.decodeReports(rec.data().asByteArray()));
        } catch (PacingException poison) {
          malformed++;
        }
      }
      if (r.nextShardIterator() == null) {
        closed.put(id, true);
      }
      iterators.put(id, r.nextShardIterator());
    }
    return out;
  }

  private String iterator(String shardId) {
    String after = positions.get(shardId);
    GetShardIteratorRequest.Builder b = GetShardIteratorRequest.builder().streamName(stream).shardId(shardId);
    if (after != null) {
      b.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(after);
    } else {
      b.shardIteratorType(ShardIteratorType.TRIM_HORIZON);
    }
    return kinesis.getShardIterator(b.build()).shardIterator();
  }

  /** Where each shard was read up to: for the snapshot. */
  Map<String, String> positions() {
    return Map.copyOf(positions);
  }

  long malformed() {
    return malformed;
  }

}
