package dev.hardway.logtiers;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortIncompleteMultipartUpload;
import software.amazon.awssdk.services.s3.model.BucketLifecycleConfiguration;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.LifecycleExpiration;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.LifecycleRuleFilter;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoncurrentVersionExpiration;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * The high tier's replication helper: makes sure every object the high tier wrote to a source-region bucket reaches
 * the main bucket within its SLA, whether or not S3 replication did its job, and (when switched on) cleans the source
 * buckets up behind it.
 *
 * <pre>{@code
 * ReplicationWatchdog watchdog = ReplicationWatchdog.builder()
 *     .source("logs-eu-west-1", euWestS3)          // one client per source region
 *     .source("logs-ap-south-1", apSouthS3)
 *     .main("logs-main", mainS3)                    // the main region's client
 *     .replicationSla(Duration.ofMinutes(15))
 *     .originExpiry(Duration.ofDays(3))             // delete origins once confirmed in main (off by default)
 *     .abortIncompleteUploadsAfter(Duration.ofDays(1))
 *     .listener(alarms)
 *     .build()
 *     .start();
 * ...
 * watchdog.close();
 * }</pre>
 *
 * <p><b>A pass</b> ({@link #runOnce()}, or one turn of the background loop started by {@link #start()}) walks, for
 * every source bucket and log type, the hour partitions ({@link ObjectKeys#hourPrefix}) of the last {@link #lookback}
 * hours. It lists each partition of the source that holds objects, and the same partition of the main bucket once
 * (one LIST per partition, shared by all sources — cheaper than a HEAD per object). An object present in main with
 * the same size and ETag is confirmed. An object missing from main, or there with another size or ETag (a half or
 * wrongly replicated copy), is left alone while younger than {@link #replicationSla} and copied by the watchdog
 * after that (counted as late, {@link Alarm.Kind#DELIVERY_LATE} raised). Copying is idempotent: it copies exactly
 * the version that was compared ({@code x-amz-copy-source-if-match}) to the same key.
 *
 * <p><b>Copies</b> are server-side {@code CopyObject} calls sent through the <em>main</em> bucket's client: AWS
 * requires a cross-region copy to be sent to the destination's region, so that client must belong to the main
 * region and its credentials must be allowed to read the source buckets. One {@code CopyObject} copies at most
 * 5 GiB; larger objects are counted as failures and left to replication (high-tier segments are far smaller). A
 * source object uploaded in parts has an ETag ({@code "…-N"}) that a copy does not reproduce, so the watchdog stores
 * the source ETag in the copy's {@code x-amz-meta-hardway-source-etag} and compares that (one HEAD) instead.
 *
 * <p><b>Clean-up.</b> {@link #applyLifecycleRules} puts S3 lifecycle rules on the source buckets (expire origins,
 * abort incomplete multipart uploads). Lifecycle expiry deletes origins whether or not they were replicated; the
 * watchdog's own clean-up, switched on by {@link Builder#originExpiry} and {@link Builder#abortIncompleteUploadsAfter},
 * deletes an origin copy only once a listing of the main bucket showed it present and equal, and never while the main
 * bucket refuses or fails. On a versioned source bucket (replication needs versioning) a delete leaves a delete marker
 * and a noncurrent version: the replication rule must not replicate delete markers (otherwise the object disappears
 * from main too), and a {@code NoncurrentVersionExpiration} rule (which {@link #applyLifecycleRules} adds) frees the
 * space.
 *
 * <p><b>Failures</b> never throw out of a pass: each failed S3 call is counted, told to the listener
 * ({@link LogTiersListener#onFailure} with {@link Tier#HIGH}) and retried by a later pass. A failure of the main
 * bucket ends the pass (everything else would fail too); a failure of one source bucket skips that bucket. 403 and
 * NoSuchBucket raise {@link Alarm.Kind#DESTINATION_REFUSED} until a pass completes without them. The background loop
 * waits {@link #interval} after a complete pass and an exponential backoff with jitter after an incomplete one, and
 * survives every exception.
 *
 * <p><b>Memory:</b> the keys confirmed within the look-back window (so that each object is counted and its latency
 * recorded once): about 150 bytes per object.
 *
 * <p><b>Thread safety:</b> thread-safe. Passes never overlap: {@link #runOnce()} waits for a running pass. The
 * watchdog never closes the S3 clients it was given.
 */
public final class ReplicationWatchdog implements SdkAutoCloseable {
  /** The user metadata in which a copy of a multipart object keeps its source's ETag. */
  static final String SOURCE_ETAG_METADATA = "hardway-source-etag";
  /** The id of the lifecycle rule {@link #applyLifecycleRules} writes (and replaces on a later call). */
  public static final String LIFECYCLE_RULE_ID = "hardway-logtiers-origin";
  private static final long MAX_COPY_BYTES = 5L << 30;
  private static final long HIGHEST_LATENCY_MICROS = Duration.ofDays(400).toNanos() / 1_000;

  private final List<Source> sources;
  private final String mainBucket;
  private final S3Client mainS3;
  private final String prefix;
  private final List<String> types;
  private final Duration replicationSla;
  private final Duration lookback;
  private final Duration interval;
  private final @Nullable Duration originExpiry;
  private final @Nullable Duration abortIncompleteUploadsAfter;
  private final InstantSource clock;
  private final @Nullable ThreadFactory threads;
  private final LogTiersListener listener;
  private final RandomGenerator random;
  private final Duration retryBase;
  private final Duration retryMax;
  private final Duration closeTimeout;

  private final ReentrantLock passLock = new ReentrantLock();
  /** Source bucket + key of the objects confirmed in main, with their partition hour; guarded by passLock. */
  private final Map<String, Instant> confirmed = new HashMap<>();
  private final Totals totals = new Totals();
  private final EnumSet<Alarm.Kind> alarms = EnumSet.noneOf(Alarm.Kind.class);
  private final Object stateLock = new Object();
  private final CountDownLatch stop = new CountDownLatch(1);
  private @Nullable Thread thread;
  private volatile boolean closed;

  private ReplicationWatchdog(Builder b) {
    this.sources = List.copyOf(b.sources.values());
    this.mainBucket = Objects.requireNonNull(b.mainBucket);
    this.mainS3 = Objects.requireNonNull(b.mainS3);
    this.prefix = b.prefix;
    this.types = List.copyOf(b.types);
    this.replicationSla = b.replicationSla;
    this.lookback = b.lookback;
    this.interval = b.interval;
    this.originExpiry = b.originExpiry;
    this.abortIncompleteUploadsAfter = b.abortIncompleteUploadsAfter;
    this.clock = b.clock;
    this.threads = b.threads;
    this.listener = b.listener;
    this.random = b.random;
    this.retryBase = b.retryBase;
    this.retryMax = b.retryMax;
    this.closeTimeout = b.closeTimeout;
  }

  /**
   * A builder; {@link Builder#source} (at least once) and {@link Builder#main} are required.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding this watchdog's configuration, to build a changed copy.
   *
   * @return a builder
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * One source-region bucket and the client of its region.
   *
   * @param bucket the bucket the high tier writes to
   * @param s3 a client of that bucket's region
   */
  public record Source(String bucket, S3Client s3) {
    /**
     * Checks the parts.
     *
     * @param bucket the bucket
     * @param s3 its client
     */
    public Source {
      Objects.requireNonNull(bucket, "bucket");
      Objects.requireNonNull(s3, "s3");
    }
  }

  /**
   * What one pass found and did.
   *
   * @param startedAt the watchdog clock's time when the pass started (the "now" that ages were measured against)
   * @param complete true when every source and the main bucket answered every call (no failure)
   * @param checked source objects examined
   * @param replicatedBySource objects confirmed in main for the first time that the watchdog did not copy
   * @param copied objects the watchdog copied to main
   * @param mismatched objects found in main with another size or ETag than their source
   * @param pending objects missing (or different) in main but younger than the SLA: left to replication for now
   * @param lateObjects objects missing (or different) in main and older than the SLA: each one copied or tried
   * @param deletedOrigins origin copies deleted after being confirmed in main
   * @param abortedUploads stale multipart uploads aborted in source buckets
   * @param failures S3 calls that failed (to be retried by a later pass)
   * @param replicationLatency main LastModified minus source LastModified of the objects confirmed or copied in this
   *     pass (S3 times have one-second resolution)
   */
  public record PassResult(Instant startedAt, boolean complete, long checked, long replicatedBySource, long copied,
      long mismatched, long pending, long lateObjects, long deletedOrigins, long abortedUploads, long failures,
      TierStats.Latency replicationLatency) {}

  /**
   * The watchdog's counters since it was built: the sums of every pass.
   *
   * @param passes passes run
   * @param incompletePasses passes that had at least one failure
   * @param checked source objects examined, summed over passes (an object is examined once per pass)
   * @param replicatedBySource objects found in main that the watchdog did not copy (each counted once)
   * @param copied objects the watchdog copied
   * @param mismatched times an object was found in main with another size or ETag
   * @param lateObjects objects found missing or different in main after their SLA, summed over passes
   * @param deletedOrigins origin copies deleted
   * @param abortedUploads multipart uploads aborted
   * @param failures failed S3 calls, plus failed passes of the background loop
   * @param replicationLatency latency of every object confirmed or copied
   * @param alarms alarms currently raised
   */
  public record Stats(long passes, long incompletePasses, long checked, long replicatedBySource, long copied,
      long mismatched, long lateObjects, long deletedOrigins, long abortedUploads, long failures,
      TierStats.Latency replicationLatency, Set<Alarm.Kind> alarms) {
    /**
     * Copies the set.
     *
     * @param passes passes
     * @param incompletePasses incomplete passes
     * @param checked checked
     * @param replicatedBySource replicated by the source
     * @param copied copied
     * @param mismatched mismatched
     * @param lateObjects late objects
     * @param deletedOrigins deleted origins
     * @param abortedUploads aborted uploads
     * @param failures failures
     * @param replicationLatency latency
     * @param alarms raised alarms
     */
    public Stats {
      alarms = Set.copyOf(alarms);
    }
  }

  /**
   * What {@link #applyLifecycleRules} did to one source bucket.
   *
   * @param bucket the source bucket
   * @param applied true when S3 accepted the configuration
   * @param statusCode the HTTP status of the refusal (for example 501 where lifecycle is not implemented), 200 when
   *     applied, 0 when no answer came
   * @param detail what happened, in words
   */
  public record LifecycleOutcome(String bucket, boolean applied, int statusCode, String detail) {}

  /**
   * Runs one pass now, on the calling thread (waiting for a pass already running to finish).
   *
   * @return what the pass found and did
   * @throws IllegalStateException when the watchdog is closed
   */
  public PassResult runOnce() {
    if (closed) {
      throw new IllegalStateException("the replication watchdog is closed");
    }
    passLock.lock();
    try {
      return pass();
    } finally {
      passLock.unlock();
    }
  }

  /**
   * Starts the background loop on a thread from the thread factory: a pass every {@link #interval}, or after a
   * backoff when a pass had failures.
   *
   * @return this watchdog
   * @throws IllegalStateException when already started or closed
   */
  public ReplicationWatchdog start() {
    synchronized (stateLock) {
      if (closed) {
        throw new IllegalStateException("the replication watchdog is closed");
      }
      if (thread != null) {
        throw new IllegalStateException("the replication watchdog is already started");
      }
      ThreadFactory factory = threads != null ? threads : r -> {
        Thread t = new Thread(r, "hardway-logtiers-replication-watchdog");
        t.setDaemon(true);
        return t;
      };
      Thread t = factory.newThread(this::loop);
      if (t == null) {
        throw new IllegalStateException("the thread factory returned no thread");
      }
      thread = t;
      t.start();
    }
    return this;
  }

  /**
   * Puts a lifecycle rule ({@link #LIFECYCLE_RULE_ID}, filtered on the prefix) on every source bucket: expire
   * current versions after {@code expireOriginsAfterDays}, noncurrent versions a day after that, and abort multipart
   * uploads left incomplete for {@code abortIncompleteAfterDays}. Other rules of the bucket are kept (S3 replaces a
   * bucket's whole configuration, so this reads it first). Lifecycle expiry does not check replication: choose a
   * number of days well above the replication SLA, or use {@link Builder#originExpiry} instead. A refusal is
   * returned, not thrown; where S3 does not implement lifecycle, switch the watchdog's own clean-up on.
   *
   * @param expireOriginsAfterDays 1 to 3650 days
   * @param abortIncompleteAfterDays 1 to 3650 days
   * @return one outcome per source bucket, in the order they were configured
   * @throws IllegalArgumentException when a number of days is out of range, naming it
   */
  public List<LifecycleOutcome> applyLifecycleRules(int expireOriginsAfterDays, int abortIncompleteAfterDays) {
    checkDays("expireOriginsAfterDays", expireOriginsAfterDays);
    checkDays("abortIncompleteAfterDays", abortIncompleteAfterDays);
    LifecycleRule ours = LifecycleRule.builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus.ENABLED)
        .filter(LifecycleRuleFilter.builder().prefix(prefix).build())
        .expiration(LifecycleExpiration.builder().days(expireOriginsAfterDays).build())
        .noncurrentVersionExpiration(NoncurrentVersionExpiration.builder().noncurrentDays(1).build())
        .abortIncompleteMultipartUpload(AbortIncompleteMultipartUpload.builder()
            .daysAfterInitiation(abortIncompleteAfterDays).build())
        .build();
    List<LifecycleOutcome> outcomes = new ArrayList<>();
    for (Source s : sources) {
      try {
        List<LifecycleRule> rules = new ArrayList<>();
        for (LifecycleRule r : existingRules(s)) {
          if (!LIFECYCLE_RULE_ID.equals(r.id())) {
            rules.add(r);
          }
        }
        rules.add(ours);
        s.s3().putBucketLifecycleConfiguration(r -> r.bucket(s.bucket())
            .lifecycleConfiguration(BucketLifecycleConfiguration.builder().rules(rules).build()));
        outcomes.add(new LifecycleOutcome(s.bucket(), true, 200, "rule " + LIFECYCLE_RULE_ID + " applied to s3://"
            + s.bucket() + "/" + prefix));
      } catch (SdkException e) {
        int status = e instanceof AwsServiceException a ? a.statusCode() : 0;
        String why = status == 501
            ? "S3 here does not implement lifecycle configuration; switch on originExpiry and "
                + "abortIncompleteUploadsAfter to have the watchdog clean up instead"
            : "refused: " + e.getMessage();
        outcomes.add(new LifecycleOutcome(s.bucket(), false, status, "s3://" + s.bucket() + ": " + why));
        failure(e);
      }
    }
    return List.copyOf(outcomes);
  }

  private List<LifecycleRule> existingRules(Source s) {
    try {
      return s.s3().getBucketLifecycleConfiguration(r -> r.bucket(s.bucket())).rules();
    } catch (AwsServiceException e) {
      if (e.statusCode() == 404 && "NoSuchLifecycleConfiguration".equals(errorCode(e))) {
        return List.of();
      }
      throw e;
    }
  }

  /**
   * The counters since the watchdog was built.
   *
   * @return a snapshot
   */
  public Stats stats() {
    Set<Alarm.Kind> raised;
    synchronized (alarms) {
      raised = Set.copyOf(alarms);
    }
    return totals.snapshot(raised);
  }

  /**
   * The source buckets and their clients.
   *
   * @return the sources, in the order configured
   */
  public List<Source> sources() {
    return sources;
  }

  /**
   * The main bucket.
   *
   * @return its name
   */
  public String mainBucket() {
    return mainBucket;
  }

  /**
   * The key prefix of the high tier.
   *
   * @return {@code ""} or a prefix ending in {@code /}
   */
  public String prefix() {
    return prefix;
  }

  /**
   * The log types watched.
   *
   * @return the types; empty when they are discovered from the source buckets on every pass
   */
  public List<String> types() {
    return types;
  }

  /**
   * How old an object may get before the watchdog copies it if replication has not.
   *
   * @return the SLA
   */
  public Duration replicationSla() {
    return replicationSla;
  }

  /**
   * How far back each pass looks: the hour partitions from {@code now - lookback} to now.
   *
   * @return the look-back
   */
  public Duration lookback() {
    return lookback;
  }

  /**
   * The wait between two complete passes of the background loop.
   *
   * @return the interval
   */
  public Duration interval() {
    return interval;
  }

  /**
   * The age (by source LastModified) at which an origin copy confirmed in main is deleted.
   *
   * @return the age, or empty when the watchdog deletes nothing
   */
  public Optional<Duration> originExpiry() {
    return Optional.ofNullable(originExpiry);
  }

  /**
   * The age at which an incomplete multipart upload in a source bucket is aborted.
   *
   * @return the age, or empty when the watchdog aborts nothing
   */
  public Optional<Duration> abortIncompleteUploadsAfter() {
    return Optional.ofNullable(abortIncompleteUploadsAfter);
  }

  /**
   * Stops the background loop: a running pass stops at the next partition, and the thread is waited for up to the
   * close timeout (then interrupted). Idempotent; never throws. The S3 clients stay open.
   */
  @Override
  public void close() {
    Thread t;
    synchronized (stateLock) {
      if (closed) {
        return;
      }
      closed = true;
      t = thread;
    }
    stop.countDown();
    if (t == null || t == Thread.currentThread()) {
      return;
    }
    try {
      t.join(Math.max(1, closeTimeout.toMillis()));
      if (t.isAlive()) {
        t.interrupt();
        t.join(1_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    List<String> names = sources.stream().map(Source::bucket).toList();
    return "ReplicationWatchdog[" + names + " -> " + mainBucket + " prefix='" + prefix + "' types="
        + (types.isEmpty() ? "discovered" : types) + " sla=" + replicationSla + " lookback=" + lookback
        + " interval=" + interval + " originExpiry=" + originExpiry + " abortUploadsAfter="
        + abortIncompleteUploadsAfter + "]";
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The background loop

  private void loop() {
    int incompleteInRow = 0;
    while (!closed) {
      long waitMillis;
      try {
        PassResult r = runOnce();
        incompleteInRow = r.complete() ? 0 : incompleteInRow + 1;
      } catch (RuntimeException e) {
        // A bug or a closed watchdog; either way the loop must not die while it is open.
        if (closed) {
          break;
        }
        totals.failures.incrementAndGet();
        failure(e);
        incompleteInRow++;
      }
      waitMillis = incompleteInRow == 0 ? interval.toMillis() : backoffMillis(incompleteInRow);
      try {
        if (stop.await(waitMillis, TimeUnit.MILLISECONDS)) {
          break;
        }
      } catch (InterruptedException e) {
        break;
      }
    }
  }

  /** Equal jitter: half the doubled wait for sure, the other half at random, so retries neither stampede nor lag. */
  private long backoffMillis(int failures) {
    long doubled = retryBase.toMillis() << Math.min(30, failures - 1);
    long cap = Math.max(1, Math.min(retryMax.toMillis(), doubled));
    return cap / 2 + (long) (random.nextDouble() * (cap - cap / 2));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // One pass

  /** The counts of one pass; used by the pass's thread only. */
  private static final class PassCounts {
    long checked;
    long replicatedBySource;
    long copied;
    long mismatched;
    long pending;
    long late;
    long deletedOrigins;
    long abortedUploads;
    long failures;
    boolean refused;
    boolean mainFailed;
    final Histogram latency = new Histogram(HIGHEST_LATENCY_MICROS, 2);
    @Nullable String firstLateKey;
  }

  private PassResult pass() {
    Instant now = clock.instant();
    Instant firstHour = now.minus(lookback).truncatedTo(ChronoUnit.HOURS);
    Instant lastHour = now.truncatedTo(ChronoUnit.HOURS);
    PassCounts p = new PassCounts();
    Map<String, Map<String, S3Object>> mainPartitions = new HashMap<>();
    sources:
    for (Source source : sources) {
      List<String> watched;
      try {
        watched = types.isEmpty() ? discoverTypes(source) : types;
      } catch (SdkException e) {
        sourceFailure(p, source, "listing log types", e);
        continue;
      }
      for (String type : watched) {
        for (Instant hour = firstHour; !hour.isAfter(lastHour); hour = hour.plus(1, ChronoUnit.HOURS)) {
          if (closed) {
            break sources;
          }
          String partition = ObjectKeys.hourPrefix(prefix, type, hour);
          List<S3Object> objects;
          try {
            objects = list(source.s3(), source.bucket(), partition);
          } catch (SdkException e) {
            sourceFailure(p, source, "listing " + partition, e);
            continue sources;
          }
          if (objects.isEmpty()) {
            continue;
          }
          Map<String, S3Object> inMain = mainPartitions.get(partition);
          if (inMain == null) {
            try {
              inMain = new HashMap<>();
              for (S3Object o : list(mainS3, mainBucket, partition)) {
                inMain.put(o.key(), o);
              }
              mainPartitions.put(partition, inMain);
            } catch (SdkException e) {
              mainFailure(p, "listing " + partition, e);
              break sources;
            }
          }
          for (S3Object o : objects) {
            check(source, hour, o, inMain, now, p);
            if (p.mainFailed) {
              break sources;
            }
          }
        }
      }
      if (abortIncompleteUploadsAfter != null && !closed) {
        abortStaleUploads(source, now.minus(abortIncompleteUploadsAfter), p);
      }
    }
    confirmed.values().removeIf(hour -> hour.isBefore(firstHour));
    boolean complete = p.failures == 0 && !closed;
    if (complete && !p.refused) {
      alarm(Alarm.Kind.DESTINATION_REFUSED, false, "every bucket answered again");
    }
    if (p.late > 0) {
      alarm(Alarm.Kind.DELIVERY_LATE, true, p.late + " object(s) were still missing from s3://" + mainBucket
          + " (or different there) after the replication SLA of " + replicationSla + ", e.g. " + p.firstLateKey
          + "; the watchdog copied " + p.copied);
    } else if (complete) {
      alarm(Alarm.Kind.DELIVERY_LATE, false, "no object older than the replication SLA is missing from s3://"
          + mainBucket);
    }
    TierStats.Latency latency = latency(p.latency);
    totals.add(p, complete);
    return new PassResult(now, complete, p.checked, p.replicatedBySource, p.copied, p.mismatched, p.pending, p.late,
        p.deletedOrigins, p.abortedUploads, p.failures, latency);
  }

  private void check(Source source, Instant hour, S3Object src, Map<String, S3Object> inMain, Instant now,
      PassCounts p) {
    p.checked++;
    String id = source.bucket() + '/' + src.key();
    Duration age = Duration.between(src.lastModified(), now);
    S3Object dst = inMain.get(src.key());
    if (dst != null) {
      Boolean same = sameContent(src, dst, p);
      if (same == null) {
        return;
      }
      if (same) {
        if (confirmed.putIfAbsent(id, hour) == null) {
          p.replicatedBySource++;
          p.latency.recordValue(latencyMicros(src.lastModified(), dst.lastModified()));
        }
        if (originExpiry != null && age.compareTo(originExpiry) >= 0) {
          deleteOrigin(source, src, id, p);
        }
        return;
      }
      p.mismatched++;
    }
    confirmed.remove(id);
    if (age.compareTo(replicationSla) < 0) {
      p.pending++;
      return;
    }
    p.late++;
    if (p.firstLateKey == null) {
      p.firstLateKey = "s3://" + source.bucket() + "/" + src.key();
    }
    copy(source, hour, src, id, p);
  }

  /** True when equal, false when different, null when it could not be told (a failure, already counted). */
  private @Nullable Boolean sameContent(S3Object src, S3Object dst, PassCounts p) {
    if (!Objects.equals(src.size(), dst.size())) {
      return false;
    }
    if (Objects.equals(src.eTag(), dst.eTag())) {
      return true;
    }
    if (!isMultipartETag(src.eTag())) {
      return false;
    }
    // A copy of a multipart object gets a whole-object ETag; the watchdog's copies say what their source's was.
    try {
      HeadObjectResponse head = mainS3.headObject(r -> r.bucket(mainBucket).key(dst.key()));
      return unquote(src.eTag()).equals(head.metadata().get(SOURCE_ETAG_METADATA));
    } catch (SdkException e) {
      mainFailure(p, "reading " + dst.key(), e);
      return null;
    }
  }

  private void copy(Source source, Instant hour, S3Object src, String id, PassCounts p) {
    if (src.size() != null && src.size() > MAX_COPY_BYTES) {
      p.failures++;
      failure(new LogTiersException("s3://" + source.bucket() + "/" + src.key() + " is " + src.size()
          + " bytes; one CopyObject copies at most 5 GiB, so the watchdog leaves it to replication", false, null));
      return;
    }
    CopyObjectRequest.Builder request = CopyObjectRequest.builder()
        .sourceBucket(source.bucket()).sourceKey(src.key())
        .destinationBucket(mainBucket).destinationKey(src.key())
        // Copy exactly the version that was compared; a changed source is seen by the next pass.
        .copySourceIfMatch(src.eTag());
    if (isMultipartETag(src.eTag())) {
      HeadObjectResponse head;
      try {
        head = source.s3().headObject(r -> r.bucket(source.bucket()).key(src.key()));
      } catch (SdkException e) {
        sourceFailure(p, source, "reading " + src.key(), e);
        return;
      }
      Map<String, String> metadata = new HashMap<>(head.metadata());
      metadata.put(SOURCE_ETAG_METADATA, unquote(src.eTag()));
      request.metadataDirective(MetadataDirective.REPLACE).metadata(metadata)
          .contentType(head.contentType()).contentEncoding(head.contentEncoding())
          .contentDisposition(head.contentDisposition()).cacheControl(head.cacheControl());
    }
    CopyObjectResponse copied;
    try {
      copied = mainS3.copyObject(request.build());
    } catch (AwsServiceException e) {
      String code = errorCode(e);
      if ("NoSuchKey".equals(code) || e.statusCode() == 412) {
        // Deleted or overwritten in the source since the listing: nothing to copy in this pass.
        p.failures++;
        failure(e);
        return;
      }
      mainFailure(p, "copying s3://" + source.bucket() + "/" + src.key(), e);
      return;
    } catch (SdkException e) {
      mainFailure(p, "copying s3://" + source.bucket() + "/" + src.key(), e);
      return;
    }
    p.copied++;
    confirmed.put(id, hour);
    Instant at = copied.copyObjectResult() != null && copied.copyObjectResult().lastModified() != null
        ? copied.copyObjectResult().lastModified() : clock.instant();
    p.latency.recordValue(latencyMicros(src.lastModified(), at));
  }

  private void deleteOrigin(Source source, S3Object src, String id, PassCounts p) {
    try {
      source.s3().deleteObject(r -> r.bucket(source.bucket()).key(src.key()));
      p.deletedOrigins++;
      confirmed.remove(id);
    } catch (SdkException e) {
      sourceFailure(p, source, "deleting the origin " + src.key(), e);
    }
  }

  private void abortStaleUploads(Source source, Instant initiatedBefore, PassCounts p) {
    String keyMarker = null;
    String uploadIdMarker = null;
    try {
      while (!closed) {
        String km = keyMarker;
        String um = uploadIdMarker;
        ListMultipartUploadsResponse page = source.s3().listMultipartUploads(r -> r.bucket(source.bucket())
            .prefix(prefix.isEmpty() ? null : prefix).keyMarker(km).uploadIdMarker(um));
        for (MultipartUpload u : page.uploads()) {
          if (u.initiated() != null && u.initiated().isBefore(initiatedBefore)) {
            try {
              source.s3().abortMultipartUpload(r -> r.bucket(source.bucket()).key(u.key()).uploadId(u.uploadId()));
              p.abortedUploads++;
            } catch (AwsServiceException e) {
              if (!"NoSuchUpload".equals(errorCode(e))) {
                sourceFailure(p, source, "aborting the upload of " + u.key(), e);
              }
            }
          }
        }
        if (!Boolean.TRUE.equals(page.isTruncated())) {
          return;
        }
        keyMarker = page.nextKeyMarker();
        uploadIdMarker = page.nextUploadIdMarker();
      }
    } catch (SdkException e) {
      sourceFailure(p, source, "listing multipart uploads", e);
    }
  }

  private List<String> discoverTypes(Source source) {
    List<String> found = new ArrayList<>();
    String token = null;
    do {
      String t = token;
      ListObjectsV2Response page = source.s3().listObjectsV2(r -> r.bucket(source.bucket())
          .prefix(prefix.isEmpty() ? null : prefix).delimiter("/").continuationToken(t));
      for (CommonPrefix cp : page.commonPrefixes()) {
        String name = cp.prefix().substring(prefix.length(), cp.prefix().length() - 1);
        if (name.matches("[A-Za-z0-9._-]{1,255}")) {
          found.add(name);
        }
      }
      token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
    } while (token != null);
    return found;
  }

  private static List<S3Object> list(S3Client s3, String bucket, String partition) {
    List<S3Object> all = new ArrayList<>();
    ListObjectsV2Request.Builder request = ListObjectsV2Request.builder().bucket(bucket).prefix(partition);
    while (true) {
      ListObjectsV2Response page = s3.listObjectsV2(request.build());
      all.addAll(page.contents());
      if (!Boolean.TRUE.equals(page.isTruncated()) || page.nextContinuationToken() == null) {
        return all;
      }
      request.continuationToken(page.nextContinuationToken());
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Failures and alarms

  private void sourceFailure(PassCounts p, Source source, String what, SdkException e) {
    p.failures++;
    if (refused(e)) {
      p.refused = true;
      alarm(Alarm.Kind.DESTINATION_REFUSED, true, "source bucket s3://" + source.bucket() + " refuses " + what
          + ": " + e.getMessage() + "; nothing is deleted while it does");
    }
    failure(e);
  }

  private void mainFailure(PassCounts p, String what, SdkException e) {
    p.failures++;
    p.mainFailed = true;
    if (refused(e)) {
      p.refused = true;
      alarm(Alarm.Kind.DESTINATION_REFUSED, true, "main bucket s3://" + mainBucket + " refuses " + what + ": "
          + e.getMessage() + "; origin copies are kept");
    }
    failure(e);
  }

  private void failure(Throwable e) {
    try {
      listener.onFailure(Tier.HIGH, e);
    } catch (RuntimeException ignored) {
      // A listener's failure must not stop the watchdog.
    }
  }

  private void alarm(Alarm.Kind kind, boolean raised, String message) {
    boolean changed;
    synchronized (alarms) {
      changed = raised ? alarms.add(kind) : alarms.remove(kind);
    }
    if (changed) {
      try {
        listener.onAlarm(new Alarm(Tier.HIGH, kind, message, raised, clock.instant()));
      } catch (RuntimeException ignored) {
        // A listener's failure must not stop the watchdog.
      }
    }
  }

  private static boolean refused(SdkException e) {
    if (e instanceof AwsServiceException a) {
      String code = errorCode(a);
      return a.statusCode() == 403 || "NoSuchBucket".equals(code) || "AccessDenied".equals(code);
    }
    return false;
  }

  private static @Nullable String errorCode(AwsServiceException e) {
    AwsErrorDetails d = e.awsErrorDetails();
    return d == null ? null : d.errorCode();
  }

  private static boolean isMultipartETag(@Nullable String eTag) {
    return eTag != null && eTag.indexOf('-') >= 0;
  }

  private static String unquote(@Nullable String eTag) {
    if (eTag == null) {
      return "";
    }
    return eTag.length() >= 2 && eTag.startsWith("\"") && eTag.endsWith("\"") ? eTag.substring(1, eTag.length() - 1)
        : eTag;
  }

  private static long latencyMicros(Instant from, Instant to) {
    long micros = ChronoUnit.MICROS.between(from, to);
    return Math.min(Math.max(0, micros), HIGHEST_LATENCY_MICROS);
  }

  private static TierStats.Latency latency(Histogram h) {
    return new TierStats.Latency(h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(99),
        h.getValueAtPercentile(99.9), h.getMaxValue());
  }

  private static void checkDays(String option, int days) {
    if (days < 1 || days > 3650) {
      throw new IllegalArgumentException(option + " must be between 1 and 3650 days, got " + days);
    }
  }

  /** The sums over passes. */
  private static final class Totals {
    final AtomicLong passes = new AtomicLong();
    final AtomicLong incompletePasses = new AtomicLong();
    final AtomicLong checked = new AtomicLong();
    final AtomicLong replicatedBySource = new AtomicLong();
    final AtomicLong copied = new AtomicLong();
    final AtomicLong mismatched = new AtomicLong();
    final AtomicLong late = new AtomicLong();
    final AtomicLong deletedOrigins = new AtomicLong();
    final AtomicLong abortedUploads = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final Histogram latency = new Histogram(HIGHEST_LATENCY_MICROS, 2);

    void add(PassCounts p, boolean complete) {
      checked.addAndGet(p.checked);
      replicatedBySource.addAndGet(p.replicatedBySource);
      copied.addAndGet(p.copied);
      mismatched.addAndGet(p.mismatched);
      late.addAndGet(p.late);
      deletedOrigins.addAndGet(p.deletedOrigins);
      abortedUploads.addAndGet(p.abortedUploads);
      failures.addAndGet(p.failures);
      synchronized (latency) {
        latency.add(p.latency);
      }
      if (!complete) {
        incompletePasses.incrementAndGet();
      }
      passes.incrementAndGet();
    }

    Stats snapshot(Set<Alarm.Kind> alarms) {
      TierStats.Latency l;
      synchronized (latency) {
        l = ReplicationWatchdog.latency(latency);
      }
      return new Stats(passes.get(), incompletePasses.get(), checked.get(), replicatedBySource.get(), copied.get(),
          mismatched.get(), late.get(), deletedOrigins.get(), abortedUploads.get(), failures.get(), l, alarms);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Builds a {@link ReplicationWatchdog}; every setter checks its value, {@link #build()} checks combinations. */
  public static final class Builder {
    private final Map<String, Source> sources = new LinkedHashMap<>();
    private @Nullable String mainBucket;
    private @Nullable S3Client mainS3;
    private String prefix = "";
    private List<String> types = List.of();
    private Duration replicationSla = Duration.ofMinutes(15);
    private Duration lookback = Duration.ofHours(24);
    private Duration interval = Duration.ofMinutes(1);
    private @Nullable Duration originExpiry;
    private @Nullable Duration abortIncompleteUploadsAfter;
    private InstantSource clock = InstantSource.system();
    private @Nullable ThreadFactory threads;
    private LogTiersListener listener = LogTiersListener.NONE;
    private RandomGenerator random = new java.security.SecureRandom();
    private Duration retryBase = Duration.ofSeconds(1);
    private Duration retryMax = Duration.ofMinutes(5);
    private Duration closeTimeout = Duration.ofSeconds(10);

    private Builder() {}

    private Builder(ReplicationWatchdog w) {
      for (Source s : w.sources) {
        sources.put(s.bucket(), s);
      }
      this.mainBucket = w.mainBucket;
      this.mainS3 = w.mainS3;
      this.prefix = w.prefix;
      this.types = w.types;
      this.replicationSla = w.replicationSla;
      this.lookback = w.lookback;
      this.interval = w.interval;
      this.originExpiry = w.originExpiry;
      this.abortIncompleteUploadsAfter = w.abortIncompleteUploadsAfter;
      this.clock = w.clock;
      this.threads = w.threads;
      this.listener = w.listener;
      this.random = w.random;
      this.retryBase = w.retryBase;
      this.retryMax = w.retryMax;
      this.closeTimeout = w.closeTimeout;
    }

    /**
     * Adds a source-region bucket (at least one is required).
     *
     * @param bucket the bucket the high tier of that region writes to
     * @param s3 a client of that bucket's region; the watchdog lists, reads and deletes through it
     * @return this builder
     * @throws IllegalArgumentException when the name is not a bucket name or the bucket was added already
     */
    public Builder source(String bucket, S3Client s3) {
      Options.bucket("source bucket", bucket);
      Objects.requireNonNull(s3, "s3");
      if (sources.containsKey(bucket)) {
        throw new IllegalArgumentException("source bucket '" + bucket + "' is configured twice");
      }
      sources.put(bucket, new Source(bucket, s3));
      return this;
    }

    /**
     * The main bucket that every object must reach (required).
     *
     * @param bucket the bucket
     * @param s3 a client of the main bucket's region: copies go through it, so it also needs read access to the
     *     source buckets
     * @return this builder
     * @throws IllegalArgumentException when the name is not a bucket name
     */
    public Builder main(String bucket, S3Client s3) {
      Options.bucket("main bucket", bucket);
      this.mainBucket = bucket;
      this.mainS3 = Objects.requireNonNull(s3, "s3");
      return this;
    }

    /**
     * The high tier's key prefix (default none), as given to {@link S3Tier.Builder#prefix}.
     *
     * @param prefix {@code ""} or a prefix ending in {@code /}
     * @return this builder
     */
    public Builder prefix(String prefix) {
      this.prefix = ObjectKeys.checkPrefix(Objects.requireNonNull(prefix, "prefix"));
      return this;
    }

    /**
     * The log types to watch. None (the default) discovers them on every pass, by listing the top-level prefixes
     * (delimiter {@code /}) under the prefix of each source bucket.
     *
     * @param types log type names, 1-255 characters of {@code [A-Za-z0-9._-]} each
     * @return this builder
     */
    public Builder types(String... types) {
      List<String> list = new ArrayList<>();
      for (String t : types) {
        ObjectKeys.checkType(Objects.requireNonNull(t, "type"));
        if (!list.contains(t)) {
          list.add(t);
        }
      }
      this.types = List.copyOf(list);
      return this;
    }

    /**
     * How old (by source LastModified) an object may get before the watchdog copies it, if replication has not
     * (default 15 minutes, S3 Replication Time Control's target).
     *
     * @param sla 1 s to 7 days
     * @return this builder
     */
    public Builder replicationSla(Duration sla) {
      this.replicationSla = Options.within("replicationSla", sla, Duration.ofSeconds(1), Duration.ofDays(7));
      return this;
    }

    /**
     * How far back each pass looks (default 24 hours): the hour partitions from {@code now - lookback} to now.
     * Objects in older partitions are no longer watched.
     *
     * @param lookback 1 hour to 90 days
     * @return this builder
     */
    public Builder lookback(Duration lookback) {
      this.lookback = Options.within("lookback", lookback, Duration.ofHours(1), Duration.ofDays(90));
      return this;
    }

    /**
     * The wait between complete passes of the background loop (default 1 minute).
     *
     * @param interval 10 ms to 1 day
     * @return this builder
     */
    public Builder interval(Duration interval) {
      this.interval = Options.within("interval", interval, Duration.ofMillis(10), Duration.ofDays(1));
      return this;
    }

    /**
     * Switches on the deletion of origin copies: an object at least this old (by source LastModified) is deleted
     * from its source bucket once a listing of the main bucket showed it present with the same size and ETag. Off
     * by default. Must be shorter than the look-back, or no object would ever be seen old enough.
     *
     * @param age 1 minute to 90 days
     * @return this builder
     */
    public Builder originExpiry(Duration age) {
      this.originExpiry = Options.within("originExpiry", age, Duration.ofMinutes(1), Duration.ofDays(90));
      return this;
    }

    /**
     * Switches on aborting multipart uploads (under the prefix) of the source buckets initiated at least this long
     * ago: what a high-tier writer killed mid-upload leaves behind, and pays storage for. Off by default.
     *
     * @param age 1 minute to 90 days
     * @return this builder
     */
    public Builder abortIncompleteUploadsAfter(Duration age) {
      this.abortIncompleteUploadsAfter = Options.within("abortIncompleteUploadsAfter", age, Duration.ofMinutes(1),
          Duration.ofDays(90));
      return this;
    }

    /**
     * The wall clock that ages are measured with against S3's LastModified (default the system clock).
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Makes the background loop's thread (default: a daemon platform thread named
     * {@code hardway-logtiers-replication-watchdog}).
     *
     * @param threads the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory threads) {
      this.threads = Objects.requireNonNull(threads, "threads");
      return this;
    }

    /**
     * Hears alarms ({@link Tier#HIGH}: {@link Alarm.Kind#DELIVERY_LATE}, {@link Alarm.Kind#DESTINATION_REFUSED}) and
     * failures (default: nobody; they are in {@link #stats()} either way).
     *
     * @param listener the listener, called on the pass's thread
     * @return this builder
     */
    public Builder listener(LogTiersListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Randomness for the backoff jitter (default a {@link java.security.SecureRandom}).
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * The background loop's backoff after a pass with failures: doubling from {@code base} to {@code max}, with
     * jitter (default 1 s to 5 min).
     *
     * @param base 1 ms to 1 min
     * @param max 1 ms to 1 h
     * @return this builder
     */
    public Builder retry(Duration base, Duration max) {
      Duration b = Options.within("retry base", base, Duration.ofMillis(1), Duration.ofMinutes(1));
      Duration m = Options.within("retry max", max, Duration.ofMillis(1), Duration.ofHours(1));
      this.retryBase = b;
      this.retryMax = m;
      return this;
    }

    /**
     * How long {@link ReplicationWatchdog#close()} waits for a running pass to stop (default 10 s) before it
     * interrupts the thread.
     *
     * @param timeout 0 to 10 min
     * @return this builder
     */
    public Builder closeTimeout(Duration timeout) {
      this.closeTimeout = Options.within("closeTimeout", timeout, Duration.ZERO, Duration.ofMinutes(10));
      return this;
    }

    /**
     * Builds the watchdog (not started: call {@link ReplicationWatchdog#start()} or
     * {@link ReplicationWatchdog#runOnce()}).
     *
     * @return the watchdog
     * @throws IllegalStateException when no source or no main bucket is configured, the main bucket is also a
     *     source, the retry base exceeds its max, or the SLA or origin expiry is not shorter than the look-back
     */
    public ReplicationWatchdog build() {
      if (sources.isEmpty()) {
        throw new IllegalStateException("configure at least one source(bucket, s3Client)");
      }
      if (mainBucket == null || mainS3 == null) {
        throw new IllegalStateException("main(bucket, s3Client) is required");
      }
      if (sources.containsKey(mainBucket)) {
        throw new IllegalStateException("main bucket '" + mainBucket + "' is also a source bucket: the watchdog "
            + "would compare objects with themselves (and could delete the only copy)");
      }
      if (retryBase.compareTo(retryMax) > 0) {
        throw new IllegalStateException("retry base (" + retryBase + ") must not exceed retry max (" + retryMax
            + ")");
      }
      if (replicationSla.compareTo(lookback) >= 0) {
        throw new IllegalStateException("replicationSla (" + replicationSla + ") must be shorter than lookback ("
            + lookback + "), or no object would be watched long enough to be found late");
      }
      if (originExpiry != null && originExpiry.compareTo(lookback) >= 0) {
        throw new IllegalStateException("originExpiry (" + originExpiry + ") must be shorter than lookback ("
            + lookback + "): the watchdog only lists partitions within the look-back, so it would never see an "
            + "origin old enough to delete");
      }
      return new ReplicationWatchdog(this);
    }
  }
}
