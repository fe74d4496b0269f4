package dev.hardway.pacing;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordRequest;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * A box's link to the coordinator: every sync interval it puts the {@link Pacer}'s cumulative reports on the
 * Kinesis stream (one record per box, keyed by the box) and fetches the allocation from S3 with a conditional GET.
 *
 * <pre>{@code
 * try (PacerSync sync = PacerSync.builder().pacer(pacer)
 *     .kinesis(kinesis).stream("pacing-reports")
 *     .s3(s3).bucket("pacing").key("allocation")
 *     .build()) {
 *   // runs in the background until closed
 * }
 * }</pre>
 *
 * <p>Nothing needs buffering: reports are cumulative, so a report that could not be sent is superseded by the next;
 * an allocation that cannot be fetched leaves the pacer on its leases, which age into the budget's degradation
 * policy. Failures are counted in {@link #stats()}, never thrown at the caller. The SDK clients stay the caller's.
 */
public final class PacerSync implements AutoCloseable {
  private final Pacer pacer;
  private final KinesisClient kinesis;
  private final String stream;
  private final S3Client s3;
  private final String bucket;
  private final String key;
  private final InstantSource clock;
  private final @Nullable ScheduledExecutorService scheduler;
  private @Nullable String etag;
  private long reportsSent;
  private long reportFailures;
  private long fetches;
  private long notModified;
  private long applied;
  private long fetchFailures;
  private @Nullable Instant lastFetch;
  private @Nullable String lastError;
  private volatile boolean closed;

  private PacerSync(Builder b) {
    this.pacer = Objects.requireNonNull(b.pacer);
    this.kinesis = Objects.requireNonNull(b.kinesis);
    this.stream = Objects.requireNonNull(b.stream);
    this.s3 = Objects.requireNonNull(b.s3);
    this.bucket = Objects.requireNonNull(b.bucket);
    this.key = b.key;
    this.clock = b.clock;
    if (b.background) {
      ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("hardway-pacer-sync").factory());
      long interval = b.syncInterval.toMillis();
      // A random phase, so that a fleet started together does not sync together.
      long phase = (long) (b.random.nextDouble() * interval);
      s.scheduleAtFixedRate(this::syncQuietly, phase, interval, TimeUnit.MILLISECONDS);
      this.scheduler = s;
    } else {
      this.scheduler = null;
    }
  }

  /**
   * Starts a sync.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Fetches the allocation, then publishes the reports; the background runs this every sync interval. */
  public void syncNow() {
    fetchAllocation();
    publishReports();
  }

  private void syncQuietly() {
    try {
      syncNow();
    } catch (RuntimeException e) {
      record(e);
    }
  }

  /**
   * Puts the pacer's current reports on the stream.
   *
   * @return whether they were put
   */
  public boolean publishReports() {
    List<SpendReport> reports = pacer.reports();
    if (reports.isEmpty()) {
      return true;
    }
    byte[] data = WireFormat.encodeReports(pacer.box(), clock.millis(), reports);
    try {
      kinesis.putRecord(PutRecordRequest.builder().streamName(stream).partitionKey(pacer.box().toString())
          .data(SdkBytes.fromByteArray(data)).build());
      synchronized (this) {
        reportsSent++;
      }
      return true;
    } catch (SdkException e) {
      synchronized (this) {
        reportFailures++;
      }
      record(e);
      return false;
    }
  }

  /**
   * Fetches the allocation if it changed since the last fetch, and hands it to the pacer.
   *
   * @return whether the fetch got an answer (changed or not)
   */
  public boolean fetchAllocation() {
    GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(bucket).key(key);
    String held;
    synchronized (this) {
      held = etag;
    }
    if (held != null) {
      req.ifNoneMatch(held);
    }
    try {
      ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(req.build());
      Allocation a = WireFormat.decodeAllocation(r.asByteArray());
      boolean taken = pacer.apply(a);
      synchronized (this) {
        etag = r.response().eTag();
        fetches++;
        if (taken) {
          applied++;
        }
        lastFetch = clock.instant();
      }
      return true;
    } catch (S3Exception e) {
      if (e.statusCode() == 304) {
        synchronized (this) {
          fetches++;
          notModified++;
          lastFetch = clock.instant();
        }
        return true;
      }
      synchronized (this) {
        fetchFailures++;
      }
      record(e);
      return false;
    } catch (SdkException | PacingException e) {
      synchronized (this) {
        fetchFailures++;
      }
      record(e);
      return false;
    }
  }

  private synchronized void record(Exception e) {
    lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  /**
   * The counters since start.
   *
   * @return a snapshot
   */
  public synchronized SyncStats stats() {
    return new SyncStats(reportsSent, reportFailures, fetches, notModified, applied, fetchFailures, lastFetch,
        lastError);
  }

  /**
   * The box leaves: stops the background sync, makes the pacer {@link Pacer#leave() leave} (nothing more is made
   * spendable), and sends one last, final report, so that the coordinator returns the rest of the box's grants to
   * the pool at once. Idempotent. If that report is lost the coordinator treats the box as silent, which is safe.
   * The clients stay the caller's.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (scheduler != null) {
      scheduler.shutdownNow();
      try {
        scheduler.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    pacer.leave();
    publishReports();
  }

  @Override
  public String toString() {
    return "PacerSync[" + pacer.box() + " -> kinesis:" + stream + ", s3://" + bucket + "/" + key + "]";
  }

  /** Builds a {@link PacerSync}. */
  public static final class Builder {
    private @Nullable Pacer pacer;
    private @Nullable KinesisClient kinesis;
    private @Nullable String stream;
    private @Nullable S3Client s3;
    private @Nullable String bucket;
    private String key = "pacing/allocation";
    private Duration syncInterval = Duration.ofSeconds(10);
    private InstantSource clock = InstantSource.system();
    private RandomGenerator random = RandomGenerator.getDefault();
    private boolean background = true;

    private Builder() {}

    /**
     * The pacer to sync.
     *
     * @param pacer the pacer
     * @return this builder
     */
    public Builder pacer(Pacer pacer) {
      this.pacer = Objects.requireNonNull(pacer, "pacer");
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
      if (!stream.matches("[a-zA-Z0-9_.-]{1,128}")) {
        throw new IllegalArgumentException("stream must be a Kinesis stream name, got " + Values.quote(stream));
      }
      this.stream = stream;
      return this;
    }

    /**
     * The S3 client for the allocation.
     *
     * @param s3 the client
     * @return this builder
     */
    public Builder s3(S3Client s3) {
      this.s3 = Objects.requireNonNull(s3, "s3");
      return this;
    }

    /**
     * The allocation's bucket.
     *
     * @param bucket the bucket
     * @return this builder
     */
    public Builder bucket(String bucket) {
      if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
        throw new IllegalArgumentException("bucket must be an S3 bucket name, got " + Values.quote(bucket));
      }
      this.bucket = bucket;
      return this;
    }

    /**
     * The allocation's key; default {@code pacing/allocation}.
     *
     * @param key the key
     * @return this builder
     */
    public Builder key(String key) {
      if (key.isEmpty() || key.length() > 1024) {
        throw new IllegalArgumentException("key must be 1-1024 characters, got " + Values.quote(key));
      }
      this.key = key;
      return this;
    }

    /**
     * How often to sync; default 10 s.
     *
     * @param interval 100 ms to 10 min
     * @return this builder
     */
    public Builder syncInterval(Duration interval) {
      if (interval.compareTo(Duration.ofMillis(100)) < 0 || interval.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException("syncInterval must be between 100 ms and 10 min, got " + interval);
      }
      this.syncInterval = interval;
      return this;
    }

    /**
     * The clock stamping reports.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Randomness for the sync phase.
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Whether to sync in the background; default true. Off: call {@link PacerSync#syncNow()}.
     *
     * @param enabled whether to sync in the background
     * @return this builder
     */
    public Builder background(boolean enabled) {
      this.background = enabled;
      return this;
    }

    /**
     * Builds the sync and starts it.
     *
     * @return the sync
     * @throws IllegalStateException when pacer, kinesis, stream, s3 or bucket is missing
     */
    public PacerSync build() {
      if (pacer == null || kinesis == null || stream == null || s3 == null || bucket == null) {
        throw new IllegalStateException("a PacerSync needs pacer, kinesis, stream, s3 and bucket");
      }
      return new PacerSync(this);
    }
  }
}
