package dev.hardway.procache;

import io.lettuce.core.RedisClient;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ExpiredIteratorException;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * The writer of one remote region: consumes the stream of {@link PushedUpdate}s and applies each to the regional
 * Redis with the version compare-and-set (pipelined: a batch of records is in flight at once), so a duplicate or an
 * out-of-order delivery never replaces a newer value. A record that does not decode is a poison record: counted, kept
 * in a Redis list ({@code <prefix>dead-letter}, the newest 10,000) and skipped, so the shard keeps moving. A child
 * shard is read only after its parents were read to their end (resharding keeps per-key order). Staleness — apply
 * time minus the home write time stamped in the update — goes into a histogram.
 *
 * <p>Shards open when the writer starts are read from their newest record ({@code LATEST}; warm-up fills what came
 * before), or from the oldest with {@link Builder#fromOldest()}; shards born later are read from their start.
 * Positions are kept in memory only: a restarted writer starts again as a new one.
 */
public final class RegionWriter implements AutoCloseable {
  /** The name, after the key prefix, of the Redis list that keeps poison records. */
  static final String DEAD_LETTER = "dead-letter";
  private final KinesisClient kinesis;
  private final String stream;
  private final RedisTier<byte[]> redis;
  private final String deadLetterKey;
  private final boolean fromOldest;
  private final Duration pollInterval;
  private final Duration shardRefresh;
  private final InstantSource clock;
  private final Thread thread;
  private volatile boolean closed;

  private final Map<String, Shard> known = new LinkedHashMap<>();
  private final Map<String, String> iterators = new HashMap<>();
  private final Set<String> finished = new HashSet<>();
  private final Set<String> atStart = new HashSet<>();
  /** The last sequence number applied per shard: where to resume when an iterator expires (5 min unused). */
  private final Map<String, String> positions = new HashMap<>();
  private long nextRefresh;

  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong ignored = new AtomicLong();
  private final AtomicLong poison = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong behindMillis = new AtomicLong();
  private final Histogram staleness = new Histogram(TimeUnit.HOURS.toMicros(24), 2);

  private RegionWriter(Builder b) {
    this.kinesis = Objects.requireNonNull(b.kinesis);
    this.stream = Objects.requireNonNull(b.stream);
    this.redis = new RedisTier<>(Objects.requireNonNull(b.redis), b.prefix, ValueCodec.bytes(), b.redisTimeout, Duration.ZERO);
    this.deadLetterKey = b.prefix + DEAD_LETTER;
    this.fromOldest = b.fromOldest;
    this.pollInterval = b.pollInterval;
    this.shardRefresh = b.shardRefresh;
    this.clock = b.clock;
    this.thread = b.threads.newThread(this::run);
    thread.setName("hardway-procache-writer-" + stream);
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
   * Starts consuming.
   *
   * @return this writer
   */
  public RegionWriter start() {
    thread.start();
    return this;
  }

  /**
   * The writer's counters.
   *
   * @param applied updates that replaced an older version in Redis (or filled an empty key)
   * @param ignored updates Redis already had at the same or a newer version (duplicates, reordering)
   * @param poison records that did not decode (dead-lettered)
   * @param failures Kinesis or Redis calls that failed (retried)
   * @param stalenessP50Micros median of apply time minus home write time
   * @param stalenessP99Micros its 99th percentile
   * @param stalenessMaxMicros its maximum
   * @param behindMillis how far the slowest shard's last read was behind the stream's tip
   */
  public record Stats(long applied, long ignored, long poison, long failures, long stalenessP50Micros,
      long stalenessP99Micros, long stalenessMaxMicros, long behindMillis) {}

  /**
   * A snapshot of the counters.
   *
   * @return the stats
   */
  public Stats stats() {
    synchronized (staleness) {
      return new Stats(applied.get(), ignored.get(), poison.get(), failures.get(),
          staleness.getValueAtPercentile(50), staleness.getValueAtPercentile(99), staleness.getMaxValue(),
          behindMillis.get());
    }
  }

  /** Starts the staleness histogram afresh (after a warm-up or a backlog, say): the figures then cover what follows. */
  public void resetStaleness() {
    synchronized (staleness) {
      staleness.reset();
    }
  }

  private void run() {
    int failuresInARow = 0;
    while (!closed) {
      try {
        long now = System.nanoTime();
        if (now - nextRefresh >= 0) {
          refreshShards();
          nextRefresh = now + shardRefresh.toNanos();
        }
        int records = 0;
        long behind = 0;
        for (String shardId : List.copyOf(iterators.keySet())) {
          records += readOnce(shardId);
          behind = Math.max(behind, lastBehind);
        }
        behindMillis.set(behind);
        failuresInARow = 0;
        if (records == 0) {
          sleep(pollInterval.toMillis());
        }
      } catch (RuntimeException e) {
        failures.incrementAndGet();
        failuresInARow++;
        Backoff.sleep(failuresInARow, 50, 5_000);
      }
    }
  }

  private long lastBehind;

  private void refreshShards() {
    boolean first = known.isEmpty() && finished.isEmpty();
    List<Shard> shards = new ArrayList<>();
    String token = null;
    do {
      String t = token;
      var page = kinesis.listShards(b -> {
        if (t == null) {
          b.streamName(stream);
        } else {
          b.nextToken(t);
        }
      });
      shards.addAll(page.shards());
      token = page.nextToken();
    } while (token != null);
    for (Shard s : shards) {
      if (known.putIfAbsent(s.shardId(), s) == null && first) {
        atStart.add(s.shardId());
      }
    }
    for (Shard s : shards) {
      String id = s.shardId();
      if (iterators.containsKey(id) || finished.contains(id) || !parentsDone(s)) {
        continue;
      }
      // Open at the writer's start: from the tip (or the oldest, when asked); born later: from its start. A parent
      // that was open at the start and closed since is read from the tip too — what it held before is warm-up's.
      ShardIteratorType from = atStart.contains(id) && !fromOldest && s.sequenceNumberRange().endingSequenceNumber()
          == null ? ShardIteratorType.LATEST : ShardIteratorType.TRIM_HORIZON;
      if (atStart.contains(id) && !fromOldest && s.sequenceNumberRange().endingSequenceNumber() != null
          && !positions.containsKey(id)) {
        finished.add(id);
        continue;
      }
      String after = positions.get(id);
      String it = after != null
          ? kinesis.getShardIterator(b -> b.streamName(stream).shardId(id)
              .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(after)).shardIterator()
          : kinesis.getShardIterator(b -> b.streamName(stream).shardId(id).shardIteratorType(from)).shardIterator();
      iterators.put(id, it);
    }
  }

  private boolean parentsDone(Shard s) {
    for (String parent : new String[] {s.parentShardId(), s.adjacentParentShardId()}) {
      if (parent != null && known.containsKey(parent) && !finished.contains(parent)) {
        return false;
      }
    }
    return true;
  }

  private int readOnce(String shardId) {
    String it = iterators.get(shardId);
    if (it == null) {
      return 0;
    }
    GetRecordsResponse r;
    try {
      r = kinesis.getRecords(b -> b.shardIterator(it).limit(1_000));
    } catch (ExpiredIteratorException e) {
      iterators.remove(shardId);
      nextRefresh = System.nanoTime();
      throw e;
    }
    lastBehind = r.millisBehindLatest() == null ? 0 : r.millisBehindLatest();
    apply(r.records());
    if (!r.records().isEmpty()) {
      positions.put(shardId, r.records().get(r.records().size() - 1).sequenceNumber());
    }
    if (r.nextShardIterator() == null) {
      iterators.remove(shardId);
      finished.add(shardId);
      nextRefresh = System.nanoTime();
    } else {
      iterators.put(shardId, r.nextShardIterator());
    }
    return r.records().size();
  }

  /** Applies a batch, all in flight at once; returns when Redis answered every one. */
  private void apply(List<Record> records) {
    if (records.isEmpty()) {
      return;
    }
    List<CompletableFuture<Boolean>> inFlight = new ArrayList<>(records.size());
    List<PushedUpdate> updates = new ArrayList<>(records.size());
    for (Record rec : records) {
      byte[] data = rec.data().asByteArray();
      PushedUpdate u;
      try {
        u = PushedUpdate.decode(data);
      } catch (IllegalArgumentException e) {
        poison.incrementAndGet();
        redis.deadLetter(deadLetterKey, data);
        continue;
      }
      updates.add(u);
      inFlight.add(redis.putIfNewer(u.key(), new Versioned<>(u.value(), u.version(), u.writtenAtMicros())));
    }
    for (int i = 0; i < inFlight.size(); i++) {
      boolean took;
      try {
        took = inFlight.get(i).join();
      } catch (RuntimeException e) {
        // Redis refused or timed out: this batch is read again from the same position.
        throw new IllegalStateException("Redis did not take update " + updates.get(i) + ": " + e, e);
      }
      if (took) {
        applied.incrementAndGet();
        Instant now = clock.instant();
        long micros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        synchronized (staleness) {
          staleness.recordValue(Math.max(0, Math.min(staleness.getHighestTrackableValue(),
              micros - updates.get(i).writtenAtMicros())));
        }
      } else {
        ignored.incrementAndGet();
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(Math.max(1, millis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops consuming and closes the writer's Redis connection (not the clients). */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    redis.close();
  }

  /** Builds a {@link RegionWriter}. */
  public static final class Builder {
    private @Nullable KinesisClient kinesis;
    private @Nullable String stream;
    private @Nullable RedisClient redis;
    private String prefix = "";
    private boolean fromOldest;
    private Duration pollInterval = Duration.ofMillis(100);
    private Duration shardRefresh = Duration.ofSeconds(10);
    private Duration redisTimeout = Duration.ofSeconds(1);
    private InstantSource clock = InstantSource.system();
    private ThreadFactory threads = r -> {
      Thread t = new Thread(r);
      t.setDaemon(true);
      return t;
    };

    private Builder() {}

    /**
     * The stream of updates (required).
     *
     * @param kinesis the client
     * @param stream the stream name
     * @return this builder
     */
    public Builder stream(KinesisClient kinesis, String stream) {
      this.kinesis = Objects.requireNonNull(kinesis, "kinesis");
      this.stream = Objects.requireNonNull(stream, "stream");
      return this;
    }

    /**
     * The regional Redis and the readers' key prefix (required).
     *
     * @param redis the client (not closed by the writer)
     * @param keyPrefix the same prefix the region's {@link ProCache} uses
     * @return this builder
     */
    public Builder redis(RedisClient redis, String keyPrefix) {
      this.redis = Objects.requireNonNull(redis, "redis");
      this.prefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
      return this;
    }

    /**
     * Read the shards open at start from their oldest record instead of their newest.
     *
     * @return this builder
     */
    public Builder fromOldest() {
      this.fromOldest = true;
      return this;
    }

    /**
     * The pause after a round that found nothing (default 100 ms): 1 ms to 10 s.
     *
     * @param interval the pause
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
     * How often the shard list is read again (default 10 s; also at once when a shard ends): 100 ms to 10 min.
     *
     * @param interval the interval
     * @return this builder
     */
    public Builder shardRefresh(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.compareTo(Duration.ofMillis(100)) < 0 || interval.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException("shardRefresh must be between 100 ms and 10 min, got " + interval);
      }
      this.shardRefresh = interval;
      return this;
    }

    /**
     * The clock of the staleness figures.
     *
     * @param clock the wall clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the writer (not started).
     *
     * @return the writer
     * @throws IllegalStateException when the stream or Redis is missing
     */
    public RegionWriter build() {
      if (kinesis == null || stream == null || redis == null) {
        throw new IllegalStateException("a region writer needs stream(...) and redis(...)");
      }
      return new RegionWriter(this);
    }
  }
}
