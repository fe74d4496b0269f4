package dev.hardway.procache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ExpiredIteratorException;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.Shard;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.TrimmedDataAccessException;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;

/**
 * The home region's aggregator: reads the DynamoDB Streams of one or more tables (NEW_AND_OLD_IMAGES), parents
 * before children, hands each change to the user's {@link Joiner} — which does the multi-table query ahead of time
 * and returns the pre-joined values readers want — and publishes them as {@link PushedUpdate}s to a Kinesis stream,
 * partitioned by key so that each key's updates stay in order. A change the joiner cannot handle is a poison record:
 * counted, handed to the dead-letter handler, and skipped, so the shard keeps moving.
 *
 * <p>Positions are kept in a DynamoDB table when {@link Builder#checkpoints} is set (else in memory: a restart reads
 * the streams from their oldest record again, which versions make harmless, but slow). Work in progress: one instance
 * reads all shards, and a trimmed stream is counted rather than answered with a full resync.
 */
public final class Aggregator implements AutoCloseable {
  /**
   * Turns one change of a home table into the values readers want.
   */
  @FunctionalInterface
  public interface Joiner {
    /**
     * The updates a change causes: none, one, or many (a change in a side table updates every value that uses it).
     *
     * @param change the change
     * @return the updates to publish
     * @throws Exception when the change cannot be handled (a poison record)
     */
    List<PushedUpdate> join(Change change) throws Exception;
  }

  /**
   * One change of a home table.
   *
   * @param table the table's name
   * @param event {@code INSERT}, {@code MODIFY} or {@code REMOVE}
   * @param keys the item's key attributes
   * @param oldImage the item before, or {@code null}
   * @param newImage the item after, or {@code null} (a removal)
   * @param expiredByTtl true when DynamoDB's TTL removed the item
   * @param sequenceNumber the record's sequence number in its shard
   */
  public record Change(String table, String event, Map<String, AttributeValue> keys,
      @Nullable Map<String, AttributeValue> oldImage, @Nullable Map<String, AttributeValue> newImage,
      boolean expiredByTtl, String sequenceNumber) {}

  /**
   * Receives poison records.
   */
  @FunctionalInterface
  public interface DeadLetters {
    /**
     * A change the joiner failed on.
     *
     * @param change the change
     * @param failure what the joiner threw
     */
    void accept(Change change, Exception failure);
  }

  private final DynamoDbStreamsClient streams;
  private final Map<String, String> tables;
  private final Joiner joiner;
  private final KinesisClient kinesis;
  private final String stream;
  private final DeadLetters deadLetters;
  private final Duration pollInterval;
  private final @Nullable DynamoDbClient checkpointDb;
  private final @Nullable String checkpointTable;
  private final Thread thread;
  private volatile boolean closed;

  private final Map<String, Map<String, Shard>> known = new HashMap<>();
  private final Map<String, String> iterators = new LinkedHashMap<>();
  private final Set<String> finished = new HashSet<>();
  /** The last sequence number handled per shard: where to resume when an iterator expires (15 min unused). */
  private final Map<String, String> positions = new HashMap<>();

  private final AtomicLong changes = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong poison = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong ttlDeletes = new AtomicLong();
  private final AtomicLong trimmed = new AtomicLong();

  private Aggregator(Builder b) {
    this.streams = Objects.requireNonNull(b.streams);
    this.tables = Map.copyOf(b.tables);
    this.joiner = Objects.requireNonNull(b.joiner);
    this.kinesis = Objects.requireNonNull(b.kinesis);
    this.stream = Objects.requireNonNull(b.stream);
    this.deadLetters = b.deadLetters;
    this.pollInterval = b.pollInterval;
    this.checkpointDb = b.checkpointDb;
    this.checkpointTable = b.checkpointTable;
    this.thread = b.threads.newThread(this::run);
    thread.setName("hardway-procache-aggregator");
  }

  /**
   * A builder.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts reading.
   *
   * @return this aggregator
   */
  public Aggregator start() {
    thread.start();
    return this;
  }

  /**
   * The aggregator's counters.
   *
   * @param changes stream records read
   * @param published updates published to Kinesis
   * @param poison changes the joiner failed on
   * @param failures failed calls (retried)
   * @param ttlDeletes removals done by DynamoDB's TTL
   * @param trimmed shards whose checkpoint pointed at records the stream had already trimmed (read again from the
   *     oldest record kept; what was trimmed needs a resync)
   */
  public record Stats(long changes, long published, long poison, long failures, long ttlDeletes, long trimmed) {}

  /**
   * A snapshot of the counters.
   *
   * @return the stats
   */
  public Stats stats() {
    return new Stats(changes.get(), published.get(), poison.get(), failures.get(), ttlDeletes.get(), trimmed.get());
  }

  private void run() {
    int failuresInARow = 0;
    while (!closed) {
      try {
        discover();
        int read = 0;
        for (String shardKey : List.copyOf(iterators.keySet())) {
          read += readOnce(shardKey);
        }
        failuresInARow = 0;
        if (read == 0) {
          sleep(pollInterval.toMillis());
        }
      } catch (SdkException e) {
        failures.incrementAndGet();
        failuresInARow++;
        sleep(Math.min(5_000, 50L << Math.min(6, failuresInARow)));
      }
    }
  }

  private void discover() {
    for (Map.Entry<String, String> t : tables.entrySet()) {
      String arn = t.getValue();
      Map<String, Shard> shards = known.computeIfAbsent(arn, a -> new LinkedHashMap<>());
      String last = null;
      do {
        String from = last;
        var d = streams.describeStream(b -> b.streamArn(arn).exclusiveStartShardId(from)).streamDescription();
        d.shards().forEach(s -> shards.putIfAbsent(s.shardId(), s));
        last = d.lastEvaluatedShardId();
      } while (last != null);
      for (Shard s : shards.values()) {
        String key = arn + "|" + s.shardId();
        if (iterators.containsKey(key) || finished.contains(key)) {
          continue;
        }
        String parent = s.parentShardId();
        if (parent != null && shards.containsKey(parent) && !finished.contains(arn + "|" + parent)) {
          continue;
        }
        Checkpoint cp = checkpoint(key);
        if (cp.done()) {
          finished.add(key);
          continue;
        }
        String it;
        if (cp.sequence() != null) {
          try {
            it = streams.getShardIterator(b -> b.streamArn(arn).shardId(s.shardId())
                .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).sequenceNumber(cp.sequence()))
                .shardIterator();
          } catch (TrimmedDataAccessException e) {
            trimmed.incrementAndGet();
            it = streams.getShardIterator(b -> b.streamArn(arn).shardId(s.shardId())
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
          }
        } else {
          it = streams.getShardIterator(b -> b.streamArn(arn).shardId(s.shardId())
              .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        }
        iterators.put(key, it);
      }
    }
  }

  private int readOnce(String shardKey) {
    String it = iterators.get(shardKey);
    if (it == null) {
      return 0;
    }
    String arn = shardKey.substring(0, shardKey.indexOf('|'));
    String table = tableOf(arn);
    GetRecordsResponse r;
    try {
      r = streams.getRecords(b -> b.shardIterator(it).limit(1_000));
    } catch (ExpiredIteratorException e) {
      // A pause longer than an iterator lives: the next discovery starts again after the last record handled.
      iterators.remove(shardKey);
      failures.incrementAndGet();
      return 0;
    }
    List<PutRecordsRequestEntry> out = new ArrayList<>();
    for (Record rec : r.records()) {
      changes.incrementAndGet();
      var d = rec.dynamodb();
      boolean ttl = rec.userIdentity() != null && "Service".equals(rec.userIdentity().type())
          && "dynamodb.amazonaws.com".equals(rec.userIdentity().principalId());
      if (ttl) {
        ttlDeletes.incrementAndGet();
      }
      Change change = new Change(table, rec.eventNameAsString(), d.keys(), d.hasOldImage() ? d.oldImage() : null,
          d.hasNewImage() ? d.newImage() : null, ttl, d.sequenceNumber());
      try {
        for (PushedUpdate u : joiner.join(change)) {
          out.add(PutRecordsRequestEntry.builder().partitionKey(u.key()).data(SdkBytes.fromByteArray(u.encode()))
              .build());
        }
      } catch (Exception e) {
        poison.incrementAndGet();
        try {
          deadLetters.accept(change, e);
        } catch (RuntimeException ignored) {
          // The dead-letter handler's own failure must not stop the shard.
        }
      }
    }
    publish(out);
    if (!r.records().isEmpty()) {
      // Only after every update of the batch is in Kinesis: a crash before this line publishes them again, which
      // versions make harmless.
      String last = r.records().get(r.records().size() - 1).dynamodb().sequenceNumber();
      positions.put(shardKey, last);
      saveCheckpoint(shardKey, last, false);
    }
    if (r.nextShardIterator() == null) {
      iterators.remove(shardKey);
      finished.add(shardKey);
      saveCheckpoint(shardKey, null, true);
    } else {
      iterators.put(shardKey, r.nextShardIterator());
    }
    return r.records().size();
  }

  /** Publishes in PutRecords calls of at most 500, resending only the failed entries until every one is in. */
  private void publish(List<PutRecordsRequestEntry> entries) {
    List<PutRecordsRequestEntry> pending = entries;
    int attempt = 0;
    while (!pending.isEmpty() && !closed) {
      List<PutRecordsRequestEntry> failed = new ArrayList<>();
      for (int from = 0; from < pending.size(); from += 500) {
        List<PutRecordsRequestEntry> batch = pending.subList(from, Math.min(pending.size(), from + 500));
        PutRecordsResponse resp = kinesis.putRecords(b -> b.streamName(stream).records(batch));
        for (int i = 0; i < batch.size(); i++) {
          if (resp.records().get(i).errorCode() != null) {
            failed.add(batch.get(i));
          } else {
            published.incrementAndGet();
          }
        }
      }
      pending = failed;
      if (!failed.isEmpty()) {
        failures.incrementAndGet();
        sleep(Math.min(2_000, 50L << Math.min(5, attempt++)));
      }
    }
  }

  private record Checkpoint(@Nullable String sequence, boolean done) {}

  private Checkpoint checkpoint(String shardKey) {
    String inMemory = positions.get(shardKey);
    if (inMemory != null) {
      return new Checkpoint(inMemory, false);
    }
    DynamoDbClient db = checkpointDb;
    if (db == null) {
      return new Checkpoint(null, false);
    }
    Map<String, AttributeValue> item = db.getItem(b -> b.tableName(checkpointTable).consistentRead(true)
        .key(Map.of("shard", AttributeValue.fromS(shardKey)))).item();
    if (item == null || item.isEmpty()) {
      return new Checkpoint(null, false);
    }
    AttributeValue seq = item.get("seq");
    AttributeValue done = item.get("done");
    return new Checkpoint(seq == null ? null : seq.s(), done != null && Boolean.TRUE.equals(done.bool()));
  }

  private void saveCheckpoint(String shardKey, @Nullable String sequence, boolean done) {
    DynamoDbClient db = checkpointDb;
    if (db == null) {
      return;
    }
    Map<String, AttributeValue> item = new HashMap<>();
    item.put("shard", AttributeValue.fromS(shardKey));
    item.put("done", AttributeValue.fromBool(done));
    if (sequence != null) {
      item.put("seq", AttributeValue.fromS(sequence));
    }
    if (done) {
      db.updateItem(b -> b.tableName(checkpointTable).key(Map.of("shard", AttributeValue.fromS(shardKey)))
          .updateExpression("SET done = :d").expressionAttributeValues(Map.of(":d", AttributeValue.fromBool(true))));
    } else {
      db.putItem(b -> b.tableName(checkpointTable).item(item));
    }
  }

  private String tableOf(String arn) {
    for (Map.Entry<String, String> t : tables.entrySet()) {
      if (t.getValue().equals(arn)) {
        return t.getKey();
      }
    }
    return arn;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(Math.max(1, millis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops reading (not the clients). */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Builds an {@link Aggregator}. */
  public static final class Builder {
    private @Nullable DynamoDbStreamsClient streams;
    private final Map<String, String> tables = new LinkedHashMap<>();
    private @Nullable Joiner joiner;
    private @Nullable KinesisClient kinesis;
    private @Nullable String stream;
    private DeadLetters deadLetters = (change, failure) -> { };
    private Duration pollInterval = Duration.ofMillis(100);
    private @Nullable DynamoDbClient checkpointDb;
    private @Nullable String checkpointTable;
    private ThreadFactory threads = r -> {
      Thread t = new Thread(r);
      t.setDaemon(true);
      return t;
    };

    private Builder() {}

    /**
     * The DynamoDB Streams client of the home region (required).
     *
     * @param streams the client
     * @return this builder
     */
    public Builder streams(DynamoDbStreamsClient streams) {
      this.streams = Objects.requireNonNull(streams, "streams");
      return this;
    }

    /**
     * A table to follow (one or more).
     *
     * @param name the table's name, as the joiner sees it
     * @param streamArn its stream (NEW_AND_OLD_IMAGES)
     * @return this builder
     */
    public Builder table(String name, String streamArn) {
      tables.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(streamArn, "streamArn"));
      return this;
    }

    /**
     * The user's function from changes to pre-joined values (required).
     *
     * @param joiner the function
     * @return this builder
     */
    public Builder joiner(Joiner joiner) {
      this.joiner = Objects.requireNonNull(joiner, "joiner");
      return this;
    }

    /**
     * Where updates are published (required).
     *
     * @param kinesis the client
     * @param stream the stream every region's writer reads
     * @return this builder
     */
    public Builder publishTo(KinesisClient kinesis, String stream) {
      this.kinesis = Objects.requireNonNull(kinesis, "kinesis");
      this.stream = Objects.requireNonNull(stream, "stream");
      return this;
    }

    /**
     * Receives poison records (default: counted only).
     *
     * @param deadLetters the handler
     * @return this builder
     */
    public Builder deadLetters(DeadLetters deadLetters) {
      this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
      return this;
    }

    /**
     * Keep each shard's position in a DynamoDB table, so that a restarted aggregator resumes where it stopped
     * (default: in memory, a restart reads from the oldest record kept). The table has a string hash key
     * {@code shard}; the aggregator writes {@code seq} and {@code done}.
     *
     * @param dynamoDb a client of the table's region
     * @param table the checkpoint table
     * @return this builder
     */
    public Builder checkpoints(DynamoDbClient dynamoDb, String table) {
      this.checkpointDb = Objects.requireNonNull(dynamoDb, "dynamoDb");
      this.checkpointTable = Objects.requireNonNull(table, "table");
      return this;
    }

    /**
     * The pause after a round that found nothing (default 100 ms).
     *
     * @param interval 1 ms to 10 s
     * @return this builder
     */
    public Builder pollInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.compareTo(Duration.ofMillis(1)) < 0 || interval.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("pollInterval must be between 1 ms and 10 s, got " + interval);
      }
      this.pollInterval = interval;
      return this;
    }

    /**
     * Builds the aggregator (not started).
     *
     * @return the aggregator
     * @throws IllegalStateException when the streams client, a table, the joiner or the destination is missing
     */
    public Aggregator build() {
      if (streams == null || tables.isEmpty() || joiner == null || kinesis == null || stream == null) {
        throw new IllegalStateException("an aggregator needs streams(...), table(...), joiner(...) and publishTo(...)");
      }
      return new Aggregator(this);
    }
  }
}
