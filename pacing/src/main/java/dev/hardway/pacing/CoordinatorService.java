package dev.hardway.pacing;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The coordinator at work: leadership from a DynamoDB lock, reports from the Kinesis stream, allocations to S3.
 * Run one in each of several places; one leads, the others stand by.
 *
 * <pre>{@code
 * try (CoordinatorService banker = CoordinatorService.builder()
 *     .coordinator(Coordinator.builder().budgets(specs).regions(Set.of("us-east", "eu-west", "ap-north")))
 *     .kinesis(kinesis).stream("pacing-reports")
 *     .s3(s3).bucket("pacing")
 *     .dynamoDb(dynamoDb).lockTable("pacing-lock")
 *     .owner("banker-us-east-1a")
 *     .build()) {
 *   // leads or stands by in the background until closed
 * }
 * }</pre>
 *
 * <p>Each cycle (every sync interval): a standby tries to take the lock; on taking it, it restores the last snapshot
 * its predecessor committed and resumes the stream where that snapshot says, then publishes at once — the boxes'
 * leases never lapse for lack of a coordinator (Doorman's zero-capacity period). The leader reads new reports,
 * allocates, writes the snapshot to S3 under a new key, and commits that key in the same conditional write that
 * renews its lock; only then does it publish the allocation. A deposed leader's commit fails, so it never publishes
 * again, and its successor's snapshot always covers every grant it published. Every failure (a service
 * unreachable, throttling) skips the cycle and is counted; the boxes ride it out on their leases.
 */
public final class CoordinatorService implements AutoCloseable {
  private final Coordinator.Builder settings;
  private final KinesisClient kinesis;
  private final String stream;
  private final S3Client s3;
  private final String bucket;
  private final String allocationKey;
  private final String snapshotPrefix;
  private final LeaderLock lock;
  private final InstantSource clock;
  private final Duration lockTtl;
  private final @Nullable ScheduledExecutorService scheduler;
  private final Deque<String> oldSnapshots = new ArrayDeque<>();
  private @Nullable Coordinator coordinator;
  private @Nullable ReportReader reader;
  private long term;
  private long lastRenewMillis;
  private long cycles;
  private long published;
  private long failures;
  private long takeovers;
  private @Nullable String lastError;
  private volatile boolean closed;

  private CoordinatorService(Builder b) {
    this.settings = Objects.requireNonNull(b.settings);
    this.kinesis = Objects.requireNonNull(b.kinesis);
    this.stream = Objects.requireNonNull(b.stream);
    this.s3 = Objects.requireNonNull(b.s3);
    this.bucket = Objects.requireNonNull(b.bucket);
    this.allocationKey = b.allocationKey;
    this.snapshotPrefix = b.snapshotPrefix;
    this.clock = b.clock;
    this.lockTtl = b.lockTtl;
    this.lock = new LeaderLock(Objects.requireNonNull(b.dynamoDb), Objects.requireNonNull(b.lockTable), b.lockId,
        Objects.requireNonNull(b.owner), b.lockTtl, b.clock);
    if (b.background) {
      ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("hardway-coordinator").factory());
      long ms = b.syncInterval.toMillis();
      s.scheduleWithFixedDelay(this::cycleQuietly, 0, ms, TimeUnit.MILLISECONDS);
      this.scheduler = s;
    } else {
      this.scheduler = null;
    }
  }

  /**
   * Starts a service.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  private void cycleQuietly() {
    try {
      cycle();
    } catch (RuntimeException e) {
      synchronized (this) {
        failures++;
        lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
      }
    }
  }

  /**
   * Runs one cycle now: take the lock if free, then read, allocate, commit and publish if leading.
   *
   * @return whether an allocation was published
   */
  public synchronized boolean cycle() {
    if (closed) {
      return false;
    }
    cycles++;
    try {
      if (coordinator == null && !takeOver()) {
        return false;
      }
      Coordinator c = Objects.requireNonNull(coordinator);
      ReportReader r = Objects.requireNonNull(reader);
      for (SpendReport report : r.poll()) {
        c.offer(report);
      }
      Allocation a = c.allocate();
      String key = snapshotPrefix + term + "-" + a.version();
      s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(SnapshotFormat.encode(c.snapshot(),
          r.positions())));
      boolean renewed;
      try {
        renewed = lock.renew(term, key);
      } catch (SdkException e) {
        // Cannot tell whether the lock is still ours: publish nothing, and step down once it may have expired.
        if (clock.millis() - lastRenewMillis >= lockTtl.toMillis()) {
          stepDown();
        }
        throw e;
      }
      if (!renewed) {
        stepDown();
        return false;
      }
      lastRenewMillis = clock.millis();
      s3.putObject(b -> b.bucket(bucket).key(allocationKey), RequestBody.fromBytes(WireFormat.encodeAllocation(a)));
      published++;
      oldSnapshots.addLast(key);
      while (oldSnapshots.size() > 3) {
        String old = oldSnapshots.removeFirst();
        s3.deleteObject(b -> b.bucket(bucket).key(old));
      }
      return true;
    } catch (SdkException e) {
      failures++;
      lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
      return false;
    }
  }

  private boolean takeOver() {
    Optional<LeaderLock.Held> held = lock.tryAcquire();
    if (held.isEmpty()) {
      return false;
    }
    term = held.get().term();
    lastRenewMillis = clock.millis();
    String key = held.get().snapshotKey();
    // The settings builder may be shared by several services in one JVM: build under its lock.
    if (key == null) {
      synchronized (settings) {
        coordinator = settings.term(term).build();
      }
      reader = new ReportReader(kinesis, stream, Map.of());
    } else {
      SnapshotFormat.Stored stored = SnapshotFormat.decode(
          s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray());
      synchronized (settings) {
        coordinator = Coordinator.restore(stored.coordinator(), settings.term(term));
      }
      reader = new ReportReader(kinesis, stream, stored.positions());
      oldSnapshots.addLast(key);
    }
    takeovers++;
    return true;
  }

  private void stepDown() {
    coordinator = null;
    reader = null;
  }

  /**
   * Whether this instance leads now.
   *
   * @return true while it holds the lock
   */
  public synchronized boolean leading() {
    return coordinator != null;
  }

  /**
   * The term held, 0 before the first.
   *
   * @return the term
   */
  public synchronized long term() {
    return term;
  }

  /**
   * Changes or adds a budget; the leader applies it at its next allocation. A standby applies it when it takes over
   * only if its own settings have it too: keep every instance's budgets in one configuration.
   *
   * @param spec the budget
   */
  public synchronized void putBudget(BudgetSpec spec) {
    Coordinator c = coordinator;
    if (c != null) {
      c.putBudget(spec);
    }
  }

  /**
   * The coordinator's own stats while leading.
   *
   * @return the stats, or empty while standing by
   */
  public synchronized Optional<CoordinatorStats> coordinatorStats() {
    Coordinator c = coordinator;
    return c == null ? Optional.empty() : Optional.of(c.stats());
  }

  /**
   * Counters since start.
   *
   * @return cycles, allocations published, failures, takeovers and the last error
   */
  public synchronized ServiceStats stats() {
    return new ServiceStats(cycles, published, failures, takeovers, term, coordinator != null,
        reader == null ? 0 : reader.malformed(), lastError);
  }

  /**
   * Counters of a {@link CoordinatorService}.
   *
   * @param cycles cycles run
   * @param published allocations published
   * @param failures cycles that failed (a service unreachable or throttling)
   * @param takeovers times this instance took the lock
   * @param term the term held or last held
   * @param leading whether it leads now
   * @param malformedReports report records skipped as malformed
   * @param lastError what the last failure said, or null
   */
  public record ServiceStats(long cycles, long published, long failures, long takeovers, long term, boolean leading,
      long malformedReports, @Nullable String lastError) {}

  /** Stops the cycles and gives up the lock so a standby takes over at once; idempotent. */
  @Override
  public void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
      try {
        scheduler.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (coordinator != null) {
        try {
          lock.release(term);
        } catch (SdkException e) {
          // It expires on its own.
        }
        stepDown();
      }
    }
  }

  @Override
  public synchronized String toString() {
    return "CoordinatorService[" + (coordinator != null ? "leading, term " + term : "standing by") + "]";
  }

  /** Builds a {@link CoordinatorService}. */
  public static final class Builder {
    private Coordinator.@Nullable Builder settings;
    private @Nullable KinesisClient kinesis;
    private @Nullable String stream;
    private @Nullable S3Client s3;
    private @Nullable String bucket;
    private String allocationKey = "pacing/allocation";
    private String snapshotPrefix = "pacing/snapshots/";
    private @Nullable DynamoDbClient dynamoDb;
    private @Nullable String lockTable;
    private String lockId = "pacing";
    private @Nullable String owner;
    private Duration syncInterval = Duration.ofSeconds(10);
    private Duration lockTtl = Duration.ofSeconds(30);
    private InstantSource clock = InstantSource.system();
    private boolean background = true;

    private Builder() {}

    /**
     * The coordinator's settings (budgets, regions, quorum, leases); the term is set on each takeover.
     *
     * @param settings a coordinator builder
     * @return this builder
     */
    public Builder coordinator(Coordinator.Builder settings) {
      this.settings = Objects.requireNonNull(settings, "coordinator");
      return this;
    }

    /**
     * The Kinesis client for reports.
     *
     * @param kinesis the client
     * @return this builder
     */
    public Builder kinesis(KinesisClient kinesis) {
      this.kinesis = Objects.requireNonNull(kinesis, "kinesis");
      return this;
    }

    /**
     * The report stream.
     *
     * @param stream the stream name
     * @return this builder
     */
    public Builder stream(String stream) {
      this.stream = Objects.requireNonNull(stream, "stream");
      return this;
    }

    /**
     * The S3 client for allocations and snapshots.
     *
     * @param s3 the client
     * @return this builder
     */
    public Builder s3(S3Client s3) {
      this.s3 = Objects.requireNonNull(s3, "s3");
      return this;
    }

    /**
     * The bucket for allocations and snapshots.
     *
     * @param bucket the bucket
     * @return this builder
     */
    public Builder bucket(String bucket) {
      this.bucket = Objects.requireNonNull(bucket, "bucket");
      return this;
    }

    /**
     * The allocation's key; default {@code pacing/allocation} (what {@link PacerSync} fetches by default).
     *
     * @param key the key
     * @return this builder
     */
    public Builder allocationKey(String key) {
      this.allocationKey = Objects.requireNonNull(key, "allocationKey");
      return this;
    }

    /**
     * Where snapshots go; default {@code pacing/snapshots/}. The last three are kept.
     *
     * @param prefix the key prefix
     * @return this builder
     */
    public Builder snapshotPrefix(String prefix) {
      this.snapshotPrefix = Objects.requireNonNull(prefix, "snapshotPrefix");
      return this;
    }

    /**
     * The DynamoDB client for the lock.
     *
     * @param dynamoDb the client
     * @return this builder
     */
    public Builder dynamoDb(DynamoDbClient dynamoDb) {
      this.dynamoDb = Objects.requireNonNull(dynamoDb, "dynamoDb");
      return this;
    }

    /**
     * The lock table: a string partition key named {@code lockId}.
     *
     * @param table the table
     * @return this builder
     */
    public Builder lockTable(String table) {
      this.lockTable = Objects.requireNonNull(table, "lockTable");
      return this;
    }

    /**
     * The lock item's id; default {@code pacing}. Coordinators of separate budget sets use separate ids.
     *
     * @param id the id
     * @return this builder
     */
    public Builder lockId(String id) {
      this.lockId = Objects.requireNonNull(id, "lockId");
      return this;
    }

    /**
     * This instance's name in the lock.
     *
     * @param owner a name unique among the instances
     * @return this builder
     */
    public Builder owner(String owner) {
      this.owner = Objects.requireNonNull(owner, "owner");
      return this;
    }

    /**
     * How often to cycle; default 10 s.
     *
     * @param interval 10 ms to 10 min
     * @return this builder
     */
    public Builder syncInterval(Duration interval) {
      if (interval.compareTo(Duration.ofMillis(10)) < 0 || interval.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException("syncInterval must be between 10 ms and 10 min, got " + interval);
      }
      this.syncInterval = interval;
      return this;
    }

    /**
     * How long the lock lasts without renewal; default 30 s (three cycles).
     *
     * @param ttl at least two sync intervals
     * @return this builder
     */
    public Builder lockTtl(Duration ttl) {
      this.lockTtl = Objects.requireNonNull(ttl, "lockTtl");
      return this;
    }

    /**
     * The clock for the lock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Whether to cycle in the background; default true. Off: call {@link CoordinatorService#cycle()}.
     *
     * @param enabled whether to cycle in the background
     * @return this builder
     */
    public Builder background(boolean enabled) {
      this.background = enabled;
      return this;
    }

    /**
     * Builds the service and starts its cycles.
     *
     * @return the service
     * @throws IllegalStateException when a required part is missing or the lock would expire between cycles
     */
    public CoordinatorService build() {
      if (settings == null || kinesis == null || stream == null || s3 == null || bucket == null || dynamoDb == null
          || lockTable == null || owner == null) {
        throw new IllegalStateException("a CoordinatorService needs coordinator, kinesis, stream, s3, bucket, "
            + "dynamoDb, lockTable and owner");
      }
      if (lockTtl.compareTo(syncInterval.multipliedBy(2)) < 0) {
        throw new IllegalStateException("lockTtl (" + lockTtl + ") must be at least two sync intervals ("
            + syncInterval + " each), or the lock lapses between renewals");
      }
      return new CoordinatorService(this);
    }
  }
}
