package dev.hardway.logtiers;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortIncompleteMultipartUpload;
import software.amazon.awssdk.services.s3.model.BucketLifecycleConfiguration;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleExpiration;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.LifecycleRuleFilter;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * Makes sure every object the high tier wrote to a source-region bucket reaches the main bucket within its SLA. S3
 * replication (Replication Time Control: 99.99 % within 15 minutes) normally does it; the watchdog lists each source
 * bucket's recent hour partitions ({@link ObjectKeys#hourPrefix}), compares them with the same partitions of the main
 * bucket (one listing each, not a HEAD per object), and copies any object older than the SLA that is missing or
 * different there (server-side {@code CopyObject}, issued to the main bucket's client: for a cross-region copy that is
 * the destination region's client). It can also enforce the lifecycle rules itself: delete an origin copy older than
 * {@code originExpiry} only once the main bucket holds the same object, and abort multipart uploads left incomplete.
 *
 * <pre>{@code
 * ReplicationWatchdog watchdog = ReplicationWatchdog.builder()
 *     .main(mainS3, "logs-main")
 *     .source(usWestS3, "logs-us-west-2").source(euWestS3, "logs-eu-west-1")
 *     .build();
 * watchdog.start();                         // a pass a minute; or call runOnce() from your scheduler
 * }</pre>
 *
 * <p>Thread-safe; {@link #runOnce()} passes never overlap. Failures are counted, told to the listener (alarms with
 * {@link Tier#HIGH}), and retried at the next pass, after a backoff with jitter when a pass failed.
 */
public final class ReplicationWatchdog implements SdkAutoCloseable {
  private final S3Client mainS3;
  private final String mainBucket;
  private final List<Source> sources;
  private final String prefix;
  private final Set<String> types;
  private final Duration sla;
  private final Duration lookback;
  private final Duration interval;
  private final @Nullable Duration originExpiry;
  private final @Nullable Duration abortIncompleteAfter;
  private final InstantSource clock;
  private final ThreadFactory threads;
  private final LogTiersListener listener;
  private final RandomGenerator random;
  private final Duration retryBase;
  private final Duration retryMax;

  private final Object passLock = new Object();
  private final AtomicLong checked = new AtomicLong();
  private final AtomicLong replicated = new AtomicLong();
  private final AtomicLong copied = new AtomicLong();
  private final AtomicLong late = new AtomicLong();
  private final AtomicLong deletedOrigins = new AtomicLong();
  private final AtomicLong abortedUploads = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong passes = new AtomicLong();
  private final Histogram latency = new Histogram(TimeUnit.DAYS.toMicros(30), 2);
  private final Set<Alarm.Kind> raised = java.util.EnumSet.noneOf(Alarm.Kind.class);
  private @Nullable Thread thread;
  private volatile boolean closed;

  /** A source-region bucket and the client of its region. */
  private record Source(S3Client s3, String bucket) {}

  private ReplicationWatchdog(Builder b) {
    this.mainS3 = Objects.requireNonNull(b.mainS3);
    this.mainBucket = Objects.requireNonNull(b.mainBucket);
    this.sources = List.copyOf(b.sources);
    this.prefix = b.prefix;
    this.types = Set.copyOf(b.types);
    this.sla = b.sla;
    this.lookback = b.lookback;
    this.interval = b.interval;
    this.originExpiry = b.originExpiry;
    this.abortIncompleteAfter = b.abortIncompleteAfter;
    this.clock = b.clock;
    this.threads = b.threads;
    this.listener = b.listener;
    this.random = b.random;
    this.retryBase = b.retryBase;
    this.retryMax = b.retryMax;
  }

  /**
   * A builder; {@link Builder#main} and at least one {@link Builder#source} are required.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * What one pass did.
   *
   * @param checked source objects looked at
   * @param replicated of those, already in the main bucket with the same size and ETag
   * @param copied copied by the watchdog (late: older than the SLA and missing or different in the main bucket)
   * @param pending missing from the main bucket but younger than the SLA: left to replication
   * @param deletedOrigins origin copies deleted (older than the origin expiry, and confirmed in the main bucket)
   * @param abortedUploads incomplete multipart uploads aborted
   * @param failures requests that failed (retried at the next pass)
   */
  public record Pass(long checked, long replicated, long copied, long pending, long deletedOrigins,
      long abortedUploads, long failures) {}

  /**
   * Totals over every pass so far.
   *
   * @param passes passes run
   * @param checked source objects looked at
   * @param replicated found already replicated
   * @param copied copied by the watchdog
   * @param late found older than the SLA and not in the main bucket (each was copied, or will be at the next pass)
   * @param deletedOrigins origin copies deleted
   * @param abortedUploads multipart uploads aborted
   * @param failures failed requests
   * @param replicationLatency from an object's last-modified time in the source bucket to that in the main bucket,
   *     for objects found replicated
   * @param alarms alarms currently raised
   */
  public record Stats(long passes, long checked, long replicated, long copied, long late, long deletedOrigins,
      long abortedUploads, long failures, TierStats.Latency replicationLatency, Set<Alarm.Kind> alarms) {
    /**
     * Copies the set.
     *
     * @param passes passes
     * @param checked checked
     * @param replicated replicated
     * @param copied copied
     * @param late late
     * @param deletedOrigins deleted origins
     * @param abortedUploads aborted uploads
     * @param failures failures
     * @param replicationLatency latency
     * @param alarms alarms
     */
    public Stats {
      alarms = Set.copyOf(alarms);
    }
  }

  /**
   * Runs one pass now, on the calling thread (waiting for a pass in progress on another thread first).
   *
   * @return what it did
   */
  public Pass runOnce() {
    synchronized (passLock) {
      long[] n = new long[7];
      Instant now = clock.instant();
      boolean refused = false;
      for (Source source : sources) {
        try {
          for (String type : typesOf(source)) {
            for (Instant hour = now.minus(lookback).truncatedTo(ChronoUnit.HOURS); !hour.isAfter(now);
                hour = hour.plus(1, ChronoUnit.HOURS)) {
              partition(source, ObjectKeys.hourPrefix(prefix, type, hour), now, n);
            }
          }
          if (abortIncompleteAfter != null) {
            abortStale(source, now, n);
          }
        } catch (S3Exception e) {
          n[6]++;
          failed(e);
          if (e.statusCode() == 403 || e.statusCode() == 404) {
            refused = true;
            alarm(Alarm.Kind.DESTINATION_REFUSED, "replication watchdog: " + e.statusCode() + " "
                + (e.awsErrorDetails() != null ? e.awsErrorDetails().errorCode() : "") + " between s3://"
                + source.bucket() + " and s3://" + mainBucket + "; no origin copy is deleted", true);
          }
        } catch (SdkException e) {
          n[6]++;
          failed(e);
        }
      }
      if (!refused && n[6] == 0) {
        alarm(Alarm.Kind.DESTINATION_REFUSED, "replication watchdog reaches every bucket again", false);
      }
      passes.incrementAndGet();
      checked.addAndGet(n[0]);
      replicated.addAndGet(n[1]);
      copied.addAndGet(n[2]);
      deletedOrigins.addAndGet(n[4]);
      abortedUploads.addAndGet(n[5]);
      failures.addAndGet(n[6]);
      return new Pass(n[0], n[1], n[2], n[3], n[4], n[5], n[6]);
    }
  }

  private Set<String> typesOf(Source source) {
    if (!types.isEmpty()) {
      return types;
    }
    Set<String> found = new LinkedHashSet<>();
    for (CommonPrefix p : source.s3().listObjectsV2Paginator(b -> b.bucket(source.bucket()).prefix(prefix)
        .delimiter("/")).commonPrefixes()) {
      String name = p.prefix().substring(prefix.length());
      found.add(name.endsWith("/") ? name.substring(0, name.length() - 1) : name);
    }
    return found;
  }

  private void partition(Source source, String partition, Instant now, long[] n) {
    Map<String, S3Object> inMain = new HashMap<>();
    for (S3Object o : mainS3.listObjectsV2Paginator(b -> b.bucket(mainBucket).prefix(partition)).contents()) {
      inMain.put(o.key(), o);
    }
    for (S3Object o : source.s3().listObjectsV2Paginator(b -> b.bucket(source.bucket()).prefix(partition))
        .contents()) {
      n[0]++;
      S3Object there = inMain.get(o.key());
      boolean same = there != null && Objects.equals(there.size(), o.size())
          && Objects.equals(there.eTag(), o.eTag());
      if (same) {
        n[1]++;
        synchronized (latency) {
          latency.recordValue(Math.max(0, Math.min(latency.getHighestTrackableValue(),
              Duration.between(o.lastModified(), there.lastModified()).toNanos() / 1_000)));
        }
        if (originExpiry != null && Duration.between(o.lastModified(), now).compareTo(originExpiry) > 0) {
          source.s3().deleteObject(b -> b.bucket(source.bucket()).key(o.key()));
          n[4]++;
        }
        continue;
      }
      if (Duration.between(o.lastModified(), now).compareTo(sla) <= 0) {
        n[3]++;
        continue;
      }
      late.incrementAndGet();
      alarm(Alarm.Kind.DELIVERY_LATE, "s3://" + source.bucket() + "/" + o.key() + " was not in s3://" + mainBucket
          + " " + sla + " after it was written; the watchdog copies it", true);
      mainS3.copyObject(b -> b.sourceBucket(source.bucket()).sourceKey(o.key()).destinationBucket(mainBucket)
          .destinationKey(o.key()));
      n[2]++;
    }
  }

  private void abortStale(Source source, Instant now, long[] n) {
    Duration after = Objects.requireNonNull(abortIncompleteAfter);
    for (MultipartUpload u : source.s3().listMultipartUploadsPaginator(b -> b.bucket(source.bucket())).uploads()) {
      if (u.initiated() != null && Duration.between(u.initiated(), now).compareTo(after) > 0) {
        source.s3().abortMultipartUpload(b -> b.bucket(source.bucket()).key(u.key()).uploadId(u.uploadId()));
        n[5]++;
      }
    }
  }

  /**
   * Puts lifecycle rules on every source bucket: origin copies expire after {@code expireAfter}, incomplete
   * multipart uploads are aborted after {@code abortIncompleteAfter}. Unlike the watchdog's own origin deletion, S3's
   * expiry does not check that the main bucket has the object: give it a margin well beyond the SLA.
   *
   * @param expireAfter whole days, at least 1
   * @param abortIncompleteAfter whole days, at least 1
   * @return per source bucket, {@code "applied"} or the error S3 answered (a stand-in may not implement lifecycle)
   */
  public Map<String, String> applyLifecycleRules(Duration expireAfter, Duration abortIncompleteAfter) {
    int expireDays = (int) expireAfter.toDays();
    int abortDays = (int) abortIncompleteAfter.toDays();
    if (expireDays < 1 || abortDays < 1) {
      throw new IllegalArgumentException("lifecycle rules count whole days, at least 1; got expireAfter="
          + expireAfter + ", abortIncompleteAfter=" + abortIncompleteAfter);
    }
    LifecycleRule rule = LifecycleRule.builder().id("hardway-logtiers-origin")
        .filter(LifecycleRuleFilter.builder().prefix(prefix).build()).status(ExpirationStatus.ENABLED)
        .expiration(LifecycleExpiration.builder().days(expireDays).build())
        .abortIncompleteMultipartUpload(AbortIncompleteMultipartUpload.builder().daysAfterInitiation(abortDays).build())
        .build();
    Map<String, String> outcome = new java.util.LinkedHashMap<>();
    for (Source source : sources) {
      try {
        source.s3().putBucketLifecycleConfiguration(b -> b.bucket(source.bucket())
            .lifecycleConfiguration(BucketLifecycleConfiguration.builder().rules(rule).build()));
        outcome.put(source.bucket(), "applied");
      } catch (SdkException e) {
        outcome.put(source.bucket(), e.getMessage());
      }
    }
    return outcome;
  }

  /** Starts the background loop (a pass now, then one per interval). Idempotent. */
  public synchronized void start() {
    if (thread != null || closed) {
      return;
    }
    Thread t = threads.newThread(this::loop);
    t.setName("hardway-logtiers-replication-watchdog");
    thread = t;
    t.start();
  }

  private void loop() {
    int failedPasses = 0;
    while (!closed) {
      long wait;
      try {
        Pass pass = runOnce();
        failedPasses = pass.failures() > 0 ? failedPasses + 1 : 0;
      } catch (RuntimeException e) {
        failedPasses++;
        failed(e);
      }
      if (failedPasses == 0) {
        wait = interval.toMillis();
      } else {
        long doubled = retryBase.toMillis() << Math.min(20, failedPasses - 1);
        long cap = Math.max(1, Math.min(retryMax.toMillis(), doubled));
        wait = cap / 2 + (long) (random.nextDouble() * (cap - cap / 2));
      }
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * Totals so far.
   *
   * @return a snapshot
   */
  public Stats stats() {
    TierStats.Latency l;
    synchronized (latency) {
      l = new TierStats.Latency(latency.getTotalCount(), latency.getValueAtPercentile(50),
          latency.getValueAtPercentile(99), latency.getValueAtPercentile(99.9), latency.getMaxValue());
    }
    Set<Alarm.Kind> alarms;
    synchronized (raised) {
      alarms = Set.copyOf(raised);
    }
    return new Stats(passes.get(), checked.get(), replicated.get(), copied.get(), late.get(), deletedOrigins.get(),
        abortedUploads.get(), failures.get(), l, alarms);
  }

  private void alarm(Alarm.Kind kind, String message, boolean raise) {
    boolean changed;
    synchronized (raised) {
      changed = raise ? raised.add(kind) : raised.remove(kind);
    }
    if (changed) {
      try {
        listener.onAlarm(new Alarm(Tier.HIGH, kind, message, raise, clock.instant()));
      } catch (RuntimeException ignored) {
        // A listener's failure must not stop the watchdog.
      }
    }
  }

  private void failed(Throwable e) {
    try {
      listener.onFailure(Tier.HIGH, e);
    } catch (RuntimeException ignored) {
      // A listener's failure must not stop the watchdog.
    }
  }

  /** Stops the background loop (a pass in progress finishes its current request). Idempotent. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    List<String> names = new ArrayList<>();
    sources.forEach(s -> names.add(s.bucket()));
    return "ReplicationWatchdog[" + names + " -> " + mainBucket + " sla=" + sla + " lookback=" + lookback + "]";
  }

  /** Builds a {@link ReplicationWatchdog}; every setter checks its value. */
  public static final class Builder {
    private @Nullable S3Client mainS3;
    private @Nullable String mainBucket;
    private final List<Source> sources = new ArrayList<>();
    private String prefix = "";
    private final Set<String> types = new LinkedHashSet<>();
    private Duration sla = Duration.ofMinutes(15);
    private Duration lookback = Duration.ofHours(24);
    private Duration interval = Duration.ofMinutes(1);
    private @Nullable Duration originExpiry;
    private @Nullable Duration abortIncompleteAfter;
    private InstantSource clock = InstantSource.system();
    private ThreadFactory threads = r -> {
      Thread t = new Thread(r);
      t.setDaemon(true);
      return t;
    };
    private LogTiersListener listener = LogTiersListener.NONE;
    private RandomGenerator random = new java.util.SplittableRandom();
    private Duration retryBase = Duration.ofSeconds(1);
    private Duration retryMax = Duration.ofMinutes(5);

    private Builder() {}

    /**
     * The main bucket and its region's client (required); copies are issued through it.
     *
     * @param s3 the main region's client
     * @param bucket the main bucket
     * @return this builder
     */
    public Builder main(S3Client s3, String bucket) {
      this.mainS3 = Objects.requireNonNull(s3, "s3");
      this.mainBucket = checkBucket(bucket);
      return this;
    }

    /**
     * A source-region bucket the high tier writes to, with its region's client (one or more required).
     *
     * @param s3 the source region's client
     * @param bucket the source bucket
     * @return this builder
     */
    public Builder source(S3Client s3, String bucket) {
      sources.add(new Source(Objects.requireNonNull(s3, "s3"), checkBucket(bucket)));
      return this;
    }

    /**
     * The high tier's key prefix (default none).
     *
     * @param prefix {@code ""} or a prefix ending in {@code /}
     * @return this builder
     */
    public Builder prefix(String prefix) {
      this.prefix = ObjectKeys.checkPrefix(Objects.requireNonNull(prefix, "prefix"));
      return this;
    }

    /**
     * The log types to watch (default: every top-level prefix found in each source bucket).
     *
     * @param types log type names
     * @return this builder
     */
    public Builder types(String... types) {
      for (String t : types) {
        this.types.add(ObjectKeys.checkType(Objects.requireNonNull(t, "type")));
      }
      return this;
    }

    /**
     * How old an object may get before the watchdog copies it itself (default 15 minutes, replication's own
     * target): 0 to 7 days.
     *
     * @param sla the replication SLA
     * @return this builder
     */
    public Builder sla(Duration sla) {
      this.sla = range("sla", sla, Duration.ZERO, Duration.ofDays(7));
      return this;
    }

    /**
     * How many past hours of partitions each pass scans (default 24 h): 1 h to 30 days.
     *
     * @param lookback the window
     * @return this builder
     */
    public Builder lookback(Duration lookback) {
      this.lookback = range("lookback", lookback, Duration.ofHours(1), Duration.ofDays(30));
      return this;
    }

    /**
     * The time between passes of the background loop (default 1 minute): 1 s to 1 day.
     *
     * @param interval the interval
     * @return this builder
     */
    public Builder interval(Duration interval) {
      this.interval = range("interval", interval, Duration.ofSeconds(1), Duration.ofDays(1));
      return this;
    }

    /**
     * Delete origin copies older than this once the main bucket holds the same object (default: never delete).
     *
     * @param expiry 0 to 365 days
     * @return this builder
     */
    public Builder originExpiry(Duration expiry) {
      this.originExpiry = range("originExpiry", expiry, Duration.ZERO, Duration.ofDays(365));
      return this;
    }

    /**
     * Abort multipart uploads in the source buckets started longer ago than this (default: leave them).
     *
     * @param after 1 minute to 365 days
     * @return this builder
     */
    public Builder abortIncompleteUploadsAfter(Duration after) {
      this.abortIncompleteAfter = range("abortIncompleteUploadsAfter", after, Duration.ofMinutes(1),
          Duration.ofDays(365));
      return this;
    }

    /**
     * The clock that ages objects against their S3 last-modified times (default the system clock).
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Makes the background thread (default a daemon thread).
     *
     * @param threads the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory threads) {
      this.threads = Objects.requireNonNull(threads, "threads");
      return this;
    }

    /**
     * Hears alarms ({@code DELIVERY_LATE}, {@code DESTINATION_REFUSED}) and failures.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(LogTiersListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Randomness for the backoff jitter.
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Backoff after a failing pass: doubling from {@code base} to {@code max}, with jitter (default 1 s to 5 min).
     *
     * @param base 1 ms to 1 h
     * @param max 1 ms to 1 h, at least base
     * @return this builder
     */
    public Builder retry(Duration base, Duration max) {
      this.retryBase = range("retry base", base, Duration.ofMillis(1), Duration.ofHours(1));
      this.retryMax = range("retry max", max, Duration.ofMillis(1), Duration.ofHours(1));
      if (retryBase.compareTo(retryMax) > 0) {
        throw new IllegalArgumentException("retry base (" + base + ") must not exceed retry max (" + max + ")");
      }
      return this;
    }

    /**
     * Builds the watchdog (not started).
     *
     * @return the watchdog
     * @throws IllegalStateException when the main bucket or every source is missing, or a source is the main bucket
     */
    public ReplicationWatchdog build() {
      if (mainS3 == null || mainBucket == null) {
        throw new IllegalStateException("the main bucket is required: main(s3, bucket)");
      }
      if (sources.isEmpty()) {
        throw new IllegalStateException("at least one source bucket is required: source(s3, bucket)");
      }
      for (Source s : sources) {
        if (s.bucket().equals(mainBucket)) {
          throw new IllegalStateException("source bucket " + s.bucket() + " is the main bucket");
        }
      }
      return new ReplicationWatchdog(this);
    }

    private static String checkBucket(String bucket) {
      Objects.requireNonNull(bucket, "bucket");
      if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
        throw new IllegalArgumentException("bucket must be a valid S3 bucket name, got '" + bucket + "'");
      }
      return bucket;
    }

    private static Duration range(String option, Duration value, Duration min, Duration max) {
      Objects.requireNonNull(value, option);
      if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
        throw new IllegalArgumentException(option + " must be between " + min + " and " + max + ", got " + value);
      }
      return value;
    }
  }
}
