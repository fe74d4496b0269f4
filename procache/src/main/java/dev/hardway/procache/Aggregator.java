package dev.hardway.procache;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ExpiredIteratorException;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
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
 * the streams from their oldest record again, which versions make harmless, but slow). With that table, several
 * instances share the shards through leases (a fair share each; a stopped instance's shards are taken over when its
 * leases expire, or at once when it closes cleanly). Publishing is at least once: an update may reach Kinesis twice
 * (after a crash or a lease handed over), which the regions' version compare-and-set makes harmless. When the stream
 * has trimmed records the aggregator had not read, the table is resynced with a full scan through the joiner
 * ({@link Builder#resyncWith}); removals inside the trimmed gap cannot be seen by a scan.
 *
 * <p>The joiner is called from the aggregator's thread, and during a resync also from the scan's threads: it must be
 * thread-safe.
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
  private final @Nullable DynamoDbClient resyncDb;
  private final int scanSegments;
  private final String workerId;
  private final long leaseMillis;
  private final InstantSource clock;
  private final boolean startAtLatest;
  /** Shards open at the first discovery, read from their newest record with {@link Builder#startAtLatest()}. */
  private final Set<String> atStart = new HashSet<>();
  private boolean discoveredOnce;
  private final Thread thread;
  private volatile boolean closed;

  private final Map<String, Map<String, Shard>> known = new HashMap<>();
  private final Map<String, String> iterators = new LinkedHashMap<>();
  private final Set<String> finished = new HashSet<>();
  /** Shards whose lease this instance holds (only with a checkpoint table). */
  private final Set<String> held = new LinkedHashSet<>();
  /** The last sequence number handled per shard: where to resume when an iterator expires (15 min unused). */
  private final Map<String, String> positions = new HashMap<>();
  private boolean rediscover;
  /** Tables whose resync is running, and those that need another one once it ends (trimmed again meanwhile). */
  private final Set<String> resyncing = ConcurrentHashMap.newKeySet();
  private final Set<String> resyncAgain = ConcurrentHashMap.newKeySet();

  private final AtomicLong changes = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong poison = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong ttlDeletes = new AtomicLong();
  private final AtomicLong trimmed = new AtomicLong();
  private final AtomicLong resyncs = new AtomicLong();
  private final AtomicLong resyncedItems = new AtomicLong();
  private final DoubleAdder resyncReadUnits = new DoubleAdder();
  private final AtomicLong leasesLost = new AtomicLong();
  private volatile int shardsHeld;

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
    this.resyncDb = b.resyncDb;
    this.scanSegments = b.scanSegments;
    this.workerId = b.workerId;
    this.leaseMillis = b.lease.toMillis();
    this.clock = b.clock;
    this.startAtLatest = b.startAtLatest;
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
   * @param published updates published to Kinesis (from the streams and from resyncs)
   * @param poison changes the joiner failed on
   * @param failures failed calls (retried)
   * @param ttlDeletes removals done by DynamoDB's TTL
   * @param trimmed times a shard's position pointed at records the stream had already trimmed (the shard is then
   *     read from its oldest record kept, and the table resynced when {@link Builder#resyncWith} is set)
   * @param resyncs full resyncs finished
   * @param resyncedItems items read by resync scans
   * @param resyncReadUnits read capacity units the resync scans cost at home
   * @param shardsHeld shards this instance reads now
   * @param leasesLost shard leases taken over by another instance while this one held them
   */
  public record Stats(long changes, long published, long poison, long failures, long ttlDeletes, long trimmed,
      long resyncs, long resyncedItems, double resyncReadUnits, int shardsHeld, long leasesLost) {}

  /**
   * A snapshot of the counters.
   *
   * @return the stats
   */
  public Stats stats() {
    return new Stats(changes.get(), published.get(), poison.get(), failures.get(), ttlDeletes.get(), trimmed.get(),
        resyncs.get(), resyncedItems.get(), resyncReadUnits.sum(), shardsHeld, leasesLost.get());
  }

  private boolean leasing() {
    return checkpointDb != null;
  }

  private void run() {
    int failuresInARow = 0;
    long nextDiscovery = 0;
    long discoveryEvery = leasing() ? Math.max(20, leaseMillis / 4) : 1_000;
    while (!closed) {
      try {
        long now = clock.millis();
        if (now >= nextDiscovery || rediscover) {
          rediscover = false;
          if (leasing()) {
            heartbeat(now);
            renewLeases(now);
          }
          discover(now);
          shardsHeld = leasing() ? held.size() : iterators.size();
          nextDiscovery = now + discoveryEvery;
        }
        int read = 0;
        for (String shardKey : List.copyOf(iterators.keySet())) {
          read += readOnce(shardKey);
        }
        failuresInARow = 0;
        if (read == 0) {
          sleep(pollInterval.toMillis());
        }
      } catch (RuntimeException e) {
        if (closed) {
          break;
        }
        failures.incrementAndGet();
        failuresInARow++;
        Backoff.sleep(failuresInARow, 50, 5_000);
      }
    }
    if (leasing()) {
      // A clean stop hands its shards over at once instead of after a lease.
      releaseAll();
    }
  }

  private void discover(long now) {
    List<String> eligible = new ArrayList<>();
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
        if (!discoveredOnce && startAtLatest && s.sequenceNumberRange().endingSequenceNumber() == null) {
          atStart.add(key);
        }
        if (finished.contains(key)) {
          continue;
        }
        String parent = s.parentShardId();
        if (parent != null && shards.containsKey(parent) && !finished.contains(arn + "|" + parent)) {
          // Another instance may have finished the parent: its checkpoint says so.
          if (leasing() && readCheckpoint(arn + "|" + parent).done()) {
            finished.add(arn + "|" + parent);
          } else {
            continue;
          }
        }
        eligible.add(key);
      }
    }
    discoveredOnce = true;
    if (!leasing()) {
      for (String key : eligible) {
        if (!iterators.containsKey(key)) {
          open(key, checkpoint(key));
        }
      }
      return;
    }
    // Fair share: every live instance reads about as many open shards; a new instance gets its share as the
    // others hand over their extra shards.
    int workers = Math.max(1, liveWorkers(now));
    int target = (eligible.size() + workers - 1) / workers;
    for (String key : List.copyOf(held)) {
      if (!iterators.containsKey(key) && !finished.contains(key)) {
        open(key, checkpoint(key));
      }
    }
    for (String key : eligible) {
      if (held.size() >= target) {
        break;
      }
      if (!held.contains(key)) {
        Checkpoint cp = take(key, now);
        if (cp != null) {
          if (cp.done()) {
            finished.add(key);
            release(key);
          } else {
            held.add(key);
            open(key, cp);
          }
        }
      }
    }
    while (held.size() > target) {
      String extra = held.iterator().next();
      release(extra);
    }
  }

  private void open(String key, Checkpoint cp) {
    String arn = key.substring(0, key.indexOf('|'));
    String shardId = key.substring(key.indexOf('|') + 1);
    if (cp.done()) {
      finished.add(key);
      return;
    }
    String it;
    if (cp.sequence() != null) {
      try {
        it = streams.getShardIterator(b -> b.streamArn(arn).shardId(shardId)
            .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).sequenceNumber(cp.sequence()))
            .shardIterator();
      } catch (TrimmedDataAccessException e) {
        trimmedAt(arn);
        it = streams.getShardIterator(b -> b.streamArn(arn).shardId(shardId)
            .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
      }
    } else {
      // A shard without a position: from its start, or — open when a startAtLatest aggregator first looked — from
      // its newest record.
      ShardIteratorType from = atStart.remove(key) ? ShardIteratorType.LATEST : ShardIteratorType.TRIM_HORIZON;
      it = streams.getShardIterator(b -> b.streamArn(arn).shardId(shardId).shardIteratorType(from)).shardIterator();
    }
    iterators.put(key, it);
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
      reopen(shardKey);
      return 0;
    } catch (TrimmedDataAccessException e) {
      // The reader fell behind the stream's retention: what was trimmed is lost to it, so resync the table.
      trimmedAt(arn);
      iterators.remove(shardKey);
      positions.remove(shardKey);
      String shardId = shardKey.substring(shardKey.indexOf('|') + 1);
      iterators.put(shardKey, streams.getShardIterator(b -> b.streamArn(arn).shardId(shardId)
          .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator());
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
      join(change, out);
    }
    publish(out);
    if (!r.records().isEmpty()) {
      // Only after every update of the batch is in Kinesis: a crash before this line publishes them again, which
      // versions make harmless.
      String last = r.records().get(r.records().size() - 1).dynamodb().sequenceNumber();
      positions.put(shardKey, last);
      if (!saveCheckpoint(shardKey, last, false)) {
        return r.records().size();
      }
    }
    if (r.nextShardIterator() == null) {
      iterators.remove(shardKey);
      finished.add(shardKey);
      if (saveCheckpoint(shardKey, null, true) && leasing()) {
        release(shardKey);
      }
      rediscover = true;
    } else {
      iterators.put(shardKey, r.nextShardIterator());
    }
    return r.records().size();
  }

  /** After an expired iterator: resume after the last record handled, at the next discovery (or now). */
  private void reopen(String shardKey) {
    if (leasing() && held.contains(shardKey)) {
      String seq = positions.get(shardKey);
      open(shardKey, seq != null ? new Checkpoint(seq, false) : readCheckpoint(shardKey));
    }
  }

  private void join(Change change, List<PutRecordsRequestEntry> out) {
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
        Backoff.sleep(++attempt, 50, 2_000);
      }
    }
    if (!pending.isEmpty()) {
      // Closed with updates not yet in Kinesis: no checkpoint may be saved past them.
      throw new IllegalStateException("closed with " + pending.size() + " updates not published");
    }
  }

  // ---- full resync ------------------------------------------------------------------------------------------------

  private void trimmedAt(String arn) {
    trimmed.incrementAndGet();
    DynamoDbClient db = resyncDb;
    if (db == null) {
      return;
    }
    String label = tableOf(arn);
    if (!resyncing.add(label)) {
      resyncAgain.add(label);
      return;
    }
    Thread.ofVirtual().name("hardway-procache-resync-" + label).start(() -> {
      try {
        do {
          resyncAgain.remove(label);
          resync(db, arn, label);
        } while (resyncAgain.contains(label) && !closed);
      } finally {
        resyncing.remove(label);
      }
    });
  }

  /**
   * Scans the whole table through the joiner and publishes every value: versions make the values already in the
   * regions harmless and bring back the ones whose changes were trimmed. Removals inside the trimmed gap cannot be
   * seen by a scan (see the README).
   */
  private void resync(DynamoDbClient db, String arn, String label) {
    for (int attempt = 1; !closed; attempt++) {
      try {
        HomeScan.Result r = HomeScan.scan(db, tableNameOf(arn), label, scanSegments, page -> {
          List<PutRecordsRequestEntry> out = new ArrayList<>();
          for (Change c : page) {
            join(c, out);
          }
          publish(out);
        }, () -> closed);
        resyncedItems.addAndGet(r.items());
        resyncReadUnits.add(r.readUnits());
        resyncs.incrementAndGet();
        return;
      } catch (RuntimeException e) {
        failures.incrementAndGet();
        Backoff.sleep(attempt, 200, 30_000);
      }
    }
  }

  /** The table's name in a stream ARN ({@code arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>}). */
  static String tableNameOf(String streamArn) {
    int at = streamArn.indexOf(":table/");
    int end = streamArn.indexOf("/stream/", at + 7);
    if (at < 0 || end < 0) {
      throw new IllegalArgumentException("not a DynamoDB stream ARN (arn:aws:dynamodb:...:table/<name>/stream/...): "
          + streamArn);
    }
    return streamArn.substring(at + 7, end);
  }

  // ---- checkpoints and leases ---------------------------------------------------------------------------------------

  private record Checkpoint(@Nullable String sequence, boolean done) {}

  private static final Map<String, String> NAMES = Map.of("#k", "shard", "#o", "owner", "#l", "leaseUntil",
      "#s", "seq", "#d", "done");

  private static Map<String, String> names(String... keys) {
    Map<String, String> m = new HashMap<>();
    for (String k : keys) {
      m.put(k, NAMES.get(k));
    }
    return m;
  }

  private Checkpoint checkpoint(String shardKey) {
    String inMemory = positions.get(shardKey);
    if (inMemory != null) {
      return new Checkpoint(inMemory, false);
    }
    return checkpointDb == null ? new Checkpoint(null, false) : readCheckpoint(shardKey);
  }

  private Checkpoint readCheckpoint(String shardKey) {
    DynamoDbClient db = Objects.requireNonNull(checkpointDb);
    return fromItem(db.getItem(b -> b.tableName(checkpointTable).consistentRead(true)
        .key(Map.of("shard", AttributeValue.fromS(shardKey)))).item());
  }

  private static Checkpoint fromItem(@Nullable Map<String, AttributeValue> item) {
    if (item == null || item.isEmpty()) {
      return new Checkpoint(null, false);
    }
    AttributeValue seq = item.get("seq");
    AttributeValue done = item.get("done");
    return new Checkpoint(seq == null ? null : seq.s(), done != null && Boolean.TRUE.equals(done.bool()));
  }

  /** Takes a shard's lease when it is free, expired or ours; its checkpoint, or null when another instance has it. */
  private @Nullable Checkpoint take(String shardKey, long now) {
    DynamoDbClient db = Objects.requireNonNull(checkpointDb);
    try {
      var r = db.updateItem(b -> b.tableName(checkpointTable).key(Map.of("shard", AttributeValue.fromS(shardKey)))
          .updateExpression("SET #o = :me, #l = :until")
          .conditionExpression("attribute_not_exists(#o) OR #o = :me OR #l < :now")
          .expressionAttributeNames(names("#o", "#l"))
          .expressionAttributeValues(Map.of(":me", AttributeValue.fromS(workerId),
              ":until", AttributeValue.fromN(Long.toString(now + leaseMillis)),
              ":now", AttributeValue.fromN(Long.toString(now))))
          .returnValues(ReturnValue.ALL_NEW));
      return fromItem(r.attributes());
    } catch (ConditionalCheckFailedException e) {
      return null;
    }
  }

  private void renewLeases(long now) {
    for (String shardKey : List.copyOf(held)) {
      try {
        Objects.requireNonNull(checkpointDb).updateItem(b -> b.tableName(checkpointTable)
            .key(Map.of("shard", AttributeValue.fromS(shardKey)))
            .updateExpression("SET #l = :until").conditionExpression("#o = :me")
            .expressionAttributeNames(names("#o", "#l"))
            .expressionAttributeValues(Map.of(":me", AttributeValue.fromS(workerId),
                ":until", AttributeValue.fromN(Long.toString(now + leaseMillis)))));
      } catch (ConditionalCheckFailedException e) {
        lost(shardKey);
      }
    }
  }

  private void lost(String shardKey) {
    leasesLost.incrementAndGet();
    held.remove(shardKey);
    iterators.remove(shardKey);
    positions.remove(shardKey);
  }

  private void release(String shardKey) {
    held.remove(shardKey);
    iterators.remove(shardKey);
    positions.remove(shardKey);
    try {
      Objects.requireNonNull(checkpointDb).updateItem(b -> b.tableName(checkpointTable)
          .key(Map.of("shard", AttributeValue.fromS(shardKey)))
          .updateExpression("REMOVE #o SET #l = :zero").conditionExpression("#o = :me")
          .expressionAttributeNames(names("#o", "#l"))
          .expressionAttributeValues(Map.of(":me", AttributeValue.fromS(workerId),
              ":zero", AttributeValue.fromN("0"))));
    } catch (ConditionalCheckFailedException e) {
      // Already someone else's.
    }
  }

  private void releaseAll() {
    try {
      for (String shardKey : List.copyOf(held)) {
        release(shardKey);
      }
      Objects.requireNonNull(checkpointDb).deleteItem(b -> b.tableName(checkpointTable)
          .key(Map.of("shard", AttributeValue.fromS(WORKER + workerId))));
    } catch (SdkException e) {
      // The leases expire on their own.
    }
  }

  private static final String WORKER = "worker|";

  private void heartbeat(long now) {
    Objects.requireNonNull(checkpointDb).putItem(b -> b.tableName(checkpointTable).item(Map.of(
        "shard", AttributeValue.fromS(WORKER + workerId),
        "leaseUntil", AttributeValue.fromN(Long.toString(now + leaseMillis)))));
  }

  /** Instances whose heartbeat is younger than a lease (the checkpoint table is small: one item per shard). */
  private int liveWorkers(long now) {
    int n = 0;
    Map<String, AttributeValue> start = null;
    do {
      Map<String, AttributeValue> from = start;
      var page = Objects.requireNonNull(checkpointDb).scan(b -> b.tableName(checkpointTable).exclusiveStartKey(from)
          .filterExpression("begins_with(#k, :w) AND #l > :now")
          .expressionAttributeNames(names("#k", "#l"))
          .expressionAttributeValues(Map.of(":w", AttributeValue.fromS(WORKER),
              ":now", AttributeValue.fromN(Long.toString(now)))));
      n += page.count();
      start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
    } while (start != null);
    return n;
  }

  /** Saves a position; false when the lease was lost meanwhile (the shard is then dropped here). */
  private boolean saveCheckpoint(String shardKey, @Nullable String sequence, boolean done) {
    DynamoDbClient db = checkpointDb;
    if (db == null) {
      return true;
    }
    try {
      if (done) {
        db.updateItem(b -> b.tableName(checkpointTable).key(Map.of("shard", AttributeValue.fromS(shardKey)))
            .updateExpression("SET #d = :d").conditionExpression("#o = :me")
            .expressionAttributeNames(names("#d", "#o"))
            .expressionAttributeValues(Map.of(":d", AttributeValue.fromBool(true),
                ":me", AttributeValue.fromS(workerId))));
      } else {
        db.updateItem(b -> b.tableName(checkpointTable).key(Map.of("shard", AttributeValue.fromS(shardKey)))
            .updateExpression("SET #s = :s").conditionExpression("#o = :me")
            .expressionAttributeNames(names("#s", "#o"))
            .expressionAttributeValues(Map.of(":s", AttributeValue.fromS(Objects.requireNonNull(sequence)),
                ":me", AttributeValue.fromS(workerId))));
      }
      return true;
    } catch (ConditionalCheckFailedException e) {
      lost(shardKey);
      return false;
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

  /** A pause that {@link #close()} cuts short without interrupting a call in flight. */
  private static void sleep(long millis) {
    LockSupport.parkNanos(Math.max(1, millis) * 1_000_000L);
  }

  /**
   * Stops reading (not the clients) and hands this instance's shard leases over. A batch being published is finished
   * and checkpointed first (within 10 s).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    LockSupport.unpark(thread);
    try {
      thread.join(10_000);
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
    private @Nullable DynamoDbClient resyncDb;
    private int scanSegments = 4;
    private String workerId = UUID.randomUUID().toString();
    private Duration lease = Duration.ofSeconds(10);
    private InstantSource clock = InstantSource.system();
    private boolean startAtLatest;
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
     * Keep each shard's position and lease in a DynamoDB table, so that a restarted aggregator resumes where it
     * stopped and several instances share the shards (default: in memory, one instance, and a restart reads from the
     * oldest record kept). The table has a string hash key {@code shard}; the aggregator writes {@code seq},
     * {@code done}, {@code owner} and {@code leaseUntil} per shard, and one {@code worker|<id>} heartbeat item per
     * instance.
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
     * On a trimmed stream (a reader that fell behind the 24-hour retention, or a checkpoint older than it), scan the
     * table with this client and publish every item through the joiner (a full resync). Without it, a trim is only
     * counted in {@link Stats#trimmed()}.
     *
     * @param dynamoDb a client of the home region
     * @return this builder
     */
    public Builder resyncWith(DynamoDbClient dynamoDb) {
      this.resyncDb = Objects.requireNonNull(dynamoDb, "dynamoDb");
      return this;
    }

    /**
     * Parallel segments of a resync scan (default 4).
     *
     * @param segments 1 to 1,000
     * @return this builder
     */
    public Builder scanSegments(int segments) {
      if (segments < 1 || segments > 1_000) {
        throw new IllegalArgumentException("scanSegments must be 1 to 1000, got " + segments);
      }
      this.scanSegments = segments;
      return this;
    }

    /**
     * This instance's name in the lease table (default: a random UUID). Two running instances must not share one.
     *
     * @param id the name, 1 to 200 characters
     * @return this builder
     */
    public Builder workerId(String id) {
      Objects.requireNonNull(id, "id");
      if (id.isEmpty() || id.length() > 200) {
        throw new IllegalArgumentException("workerId must be 1 to 200 characters, got \"" + id + "\"");
      }
      this.workerId = id;
      return this;
    }

    /**
     * How long a shard's lease lasts without renewal (default 10 s): a stopped instance's shards are taken over
     * after it. Renewed every quarter of it. It must be well above the clock difference between instances.
     *
     * @param lease 100 ms to 10 min
     * @return this builder
     */
    public Builder lease(Duration lease) {
      Objects.requireNonNull(lease, "lease");
      if (lease.compareTo(Duration.ofMillis(100)) < 0 || lease.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException("lease must be between 100 ms and 10 min, got " + lease);
      }
      this.lease = lease;
      return this;
    }

    /**
     * Reads the shards open at start-up that have no checkpoint from their newest record instead of their oldest
     * (shards born later are always read from their start). For a new deployment that fills the regions with a
     * {@link Warmup} scan started after the aggregator: the stream carries every change from then on, the scan what
     * came before.
     *
     * @return this builder
     */
    public Builder startAtLatest() {
      this.startAtLatest = true;
      return this;
    }

    /**
     * The clock of leases (default: the system clock).
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
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
