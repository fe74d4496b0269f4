package dev.hardway.testkit.dynamodb;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** One shard of a stream: an append-only run of records, trimmed from the front. Guarded by its stream's lock. */
final class Shard {

  final String id;
  final @Nullable String parentId;
  /** Reserved from the server's sequence when the shard opened; every record in it has a larger number. */
  final long startingSequence;
  private final List<StreamRecord> records = new ArrayList<>();
  /** Records before this index have been trimmed; they stay in the list until compaction. */
  private int head;
  private long endingSequence = -1;
  /** Kept apart from the list, which compaction may empty. */
  private long lastSequence;
  private @Nullable Instant closedAt;
  /** The highest sequence number trimmed from this shard, or one below the starting number when none was. */
  private long trimmedThrough;

  Shard(String id, @Nullable String parentId, long startingSequence) {
    this.id = id;
    this.parentId = parentId;
    this.startingSequence = startingSequence;
    this.trimmedThrough = startingSequence - 1;
    this.lastSequence = startingSequence;
  }

  void append(StreamRecord record) {
    records.add(record);
    lastSequence = record.sequence();
  }

  boolean isOpen() {
    return endingSequence < 0;
  }

  void close(long endingSequence, Instant now) {
    this.endingSequence = endingSequence;
    this.closedAt = now;
  }

  long endingSequence() {
    return endingSequence;
  }

  @Nullable Instant closedAt() {
    return closedAt;
  }

  long trimmedThrough() {
    return trimmedThrough;
  }

  int size() {
    return records.size() - head;
  }

  @Nullable StreamRecord oldest() {
    return head < records.size() ? records.get(head) : null;
  }

  /** The sequence number of the newest record, or the starting number when the shard has held none. */
  long lastSequence() {
    return lastSequence;
  }

  void trimOldest() {
    trimmedThrough = records.get(head).sequence();
    head++;
    // Compact lazily so trimming stays amortized constant time.
    if (head > 1024 && head > records.size() / 2) {
      records.subList(0, head).clear();
      head = 0;
    }
  }

  /** The index of the first live record whose sequence number is above {@code after}. */
  int firstAfter(long after) {
    int lo = head;
    int hi = records.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (records.get(mid).sequence() <= after) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  int end() {
    return records.size();
  }

  StreamRecord get(int index) {
    return records.get(index);
  }
}
