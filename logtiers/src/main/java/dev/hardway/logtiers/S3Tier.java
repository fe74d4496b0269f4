package dev.hardway.logtiers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Configuration of an S3 tier: the mid tier ({@link #midBuilder()}: a journal on local disk, uploaded to the main
 * bucket, nothing lost) or the high tier ({@link #highBuilder()}: a spool on local disk, large batches to the bucket of
 * the region the box runs in, bounded loss). Both write the same objects under the same {@link ObjectKeys keys}.
 *
 * <pre>{@code
 * S3Tier mid = S3Tier.midBuilder()
 *     .s3(mainRegionS3).bucket("logs-main").directory(Path.of("/var/lib/bidder/journal"))
 *     .build();
 * }</pre>
 */
public final class S3Tier {
  private final Tier tier;
  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final Path directory;
  private final int ringBytes;
  private final Duration blockWhenFull;
  private final FsyncPolicy fsync;
  private final long segmentBytes;
  private final Duration segmentAge;
  private final long diskQuotaBytes;
  private final Compression compression;
  private final int compressionLevel;
  private final Duration deliveryTarget;
  private final Duration retryBase;
  private final Duration retryMax;

  private S3Tier(Builder b) {
    this.tier = b.tier;
    this.s3 = Objects.requireNonNull(b.s3, "s3 client is required");
    this.bucket = Objects.requireNonNull(b.bucket, "bucket is required");
    this.prefix = b.prefix;
    this.directory = Objects.requireNonNull(b.directory, "directory is required");
    this.ringBytes = b.ringBytes;
    this.blockWhenFull = b.blockWhenFull;
    this.fsync = b.fsync;
    this.segmentBytes = b.segmentBytes;
    this.segmentAge = b.segmentAge;
    this.diskQuotaBytes = b.diskQuotaBytes;
    this.compression = b.compression;
    this.compressionLevel = b.compressionLevel;
    this.deliveryTarget = b.deliveryTarget;
    this.retryBase = b.retryBase;
    this.retryMax = b.retryMax;
    if (retryBase.compareTo(retryMax) > 0) {
      throw new IllegalStateException("retryBase (" + retryBase + ") must not exceed retryMax (" + retryMax + ")");
    }
    if (diskQuotaBytes < 2 * segmentBytes) {
      throw new IllegalStateException("diskQuotaBytes (" + diskQuotaBytes + ") must hold at least two segments of "
          + "segmentBytes (" + segmentBytes + ")");
    }
    if (tier == Tier.HIGH && !blockWhenFull.isZero()) {
      throw new IllegalStateException("the high tier drops when full and never blocks; blockWhenFull must be zero, got "
          + blockWhenFull);
    }
  }

  /**
   * A builder for the mid tier, with its defaults: fsync every 100 ms, 64 MiB or 5-minute segments, a 16 GiB disk
   * quota (appends are refused beyond it, nothing is deleted), a 20-minute delivery target.
   *
   * @return a builder
   */
  public static Builder midBuilder() {
    return new Builder(Tier.MID);
  }

  /**
   * A builder for the high tier, with its defaults: no fsync, 256 MiB or 15-minute segments, a 4 GiB spool (the oldest
   * segment is discarded beyond it, counted), a 6-hour delivery target.
   *
   * @return a builder
   */
  public static Builder highBuilder() {
    return new Builder(Tier.HIGH);
  }

  /**
   * A builder holding this configuration.
   *
   * @return a builder
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Which tier this configures.
   *
   * @return {@link Tier#MID} or {@link Tier#HIGH}
   */
  public Tier tier() {
    return tier;
  }

  /**
   * The client of the bucket's region.
   *
   * @return the client (not closed by this library)
   */
  public S3Client s3() {
    return s3;
  }

  /**
   * The destination bucket.
   *
   * @return the bucket name
   */
  public String bucket() {
    return bucket;
  }

  /**
   * The key prefix.
   *
   * @return {@code ""} or a prefix ending in {@code /}
   */
  public String prefix() {
    return prefix;
  }

  /**
   * The journal (mid) or spool (high) directory; one tier per directory.
   *
   * @return the directory
   */
  public Path directory() {
    return directory;
  }

  /**
   * The off-heap ring's capacity in bytes.
   *
   * @return a power of two
   */
  public int ringBytes() {
    return ringBytes;
  }

  /**
   * How long an append waits for room in a full ring before it is refused (mid tier only).
   *
   * @return the wait; zero refuses at once
   */
  public Duration blockWhenFull() {
    return blockWhenFull;
  }

  /**
   * When the journal forces its writes to disk.
   *
   * @return the policy
   */
  public FsyncPolicy fsync() {
    return fsync;
  }

  /**
   * The size at which a segment is closed and uploaded.
   *
   * @return bytes, uncompressed
   */
  public long segmentBytes() {
    return segmentBytes;
  }

  /**
   * The age at which a segment is closed and uploaded (and at every UTC hour boundary).
   *
   * @return the age
   */
  public Duration segmentAge() {
    return segmentAge;
  }

  /**
   * The most the directory may hold before the tier stops taking records (mid) or discards its oldest segment (high).
   *
   * @return bytes
   */
  public long diskQuotaBytes() {
    return diskQuotaBytes;
  }

  /**
   * How objects are compressed.
   *
   * @return the compression
   */
  public Compression compression() {
    return compression;
  }

  /**
   * The compression level (zstd 1-19, gzip 1-9).
   *
   * @return the level
   */
  public int compressionLevel() {
    return compressionLevel;
  }

  /**
   * How old undelivered data may get before {@link Alarm.Kind#DELIVERY_LATE} is raised.
   *
   * @return the target
   */
  public Duration deliveryTarget() {
    return deliveryTarget;
  }

  /**
   * The first retry's backoff.
   *
   * @return the base
   */
  public Duration retryBase() {
    return retryBase;
  }

  /**
   * The longest backoff between retries.
   *
   * @return the cap
   */
  public Duration retryMax() {
    return retryMax;
  }

  @Override
  public String toString() {
    return "S3Tier[" + tier + " s3://" + bucket + "/" + prefix + " dir=" + directory.getFileName() + " ring="
        + ringBytes + " fsync=" + fsync + " segment=" + segmentBytes + "B/" + segmentAge + " quota=" + diskQuotaBytes
        + " " + compression + "-" + compressionLevel + "]";
  }

  /** Builds an {@link S3Tier}; every setter checks its value. */
  public static final class Builder {
    private final Tier tier;
    private @Nullable S3Client s3;
    private @Nullable String bucket;
    private String prefix = "";
    private @Nullable Path directory;
    private int ringBytes = 32 << 20;
    private Duration blockWhenFull = Duration.ZERO;
    private FsyncPolicy fsync;
    private long segmentBytes;
    private Duration segmentAge;
    private long diskQuotaBytes;
    private Compression compression = Compression.ZSTD;
    private int compressionLevel = 1;
    private Duration deliveryTarget;
    private Duration retryBase = Duration.ofMillis(200);
    private Duration retryMax = Duration.ofSeconds(60);

    private Builder(Tier tier) {
      this.tier = tier;
      boolean mid = tier == Tier.MID;
      this.fsync = mid ? FsyncPolicy.interval(Duration.ofMillis(100)) : FsyncPolicy.never();
      this.segmentBytes = mid ? 64L << 20 : 256L << 20;
      this.segmentAge = mid ? Duration.ofMinutes(5) : Duration.ofMinutes(15);
      this.diskQuotaBytes = mid ? 16L << 30 : 4L << 30;
      this.deliveryTarget = mid ? Duration.ofMinutes(20) : Duration.ofHours(6);
    }

    private Builder(S3Tier t) {
      this.tier = t.tier;
      this.s3 = t.s3;
      this.bucket = t.bucket;
      this.prefix = t.prefix;
      this.directory = t.directory;
      this.ringBytes = t.ringBytes;
      this.blockWhenFull = t.blockWhenFull;
      this.fsync = t.fsync;
      this.segmentBytes = t.segmentBytes;
      this.segmentAge = t.segmentAge;
      this.diskQuotaBytes = t.diskQuotaBytes;
      this.compression = t.compression;
      this.compressionLevel = t.compressionLevel;
      this.deliveryTarget = t.deliveryTarget;
      this.retryBase = t.retryBase;
      this.retryMax = t.retryMax;
    }

    /**
     * The S3 client of the bucket's region (required).
     *
     * @param s3 the client; the tier never closes it
     * @return this builder
     */
    public Builder s3(S3Client s3) {
      this.s3 = Objects.requireNonNull(s3, "s3");
      return this;
    }

    /**
     * The destination bucket (required).
     *
     * @param bucket a bucket name
     * @return this builder
     */
    public Builder bucket(String bucket) {
      this.bucket = Options.bucket("bucket", bucket);
      return this;
    }

    /**
     * A key prefix (default none).
     *
     * @param prefix {@code ""} or a prefix ending in {@code /}
     * @return this builder
     */
    public Builder prefix(String prefix) {
      this.prefix = ObjectKeys.checkPrefix(Objects.requireNonNull(prefix, "prefix"));
      return this;
    }

    /**
     * The local directory for the journal or spool (required); created if missing. One tier per directory.
     *
     * @param directory a directory on a local disk
     * @return this builder
     */
    public Builder directory(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * The ring's capacity (default 32 MiB): a power of two from 64 KiB to 1 GiB, off-heap.
     *
     * @param ringBytes the capacity
     * @return this builder
     */
    public Builder ringBytes(int ringBytes) {
      this.ringBytes = Options.ringBytes(ringBytes);
      return this;
    }

    /**
     * How long a mid-tier append waits for room in a full ring before it is refused (default zero: refuse at once,
     * never block the caller). The high tier never waits.
     *
     * @param wait zero to 10 s
     * @return this builder
     */
    public Builder blockWhenFull(Duration wait) {
      this.blockWhenFull = Options.within("blockWhenFull", wait, Duration.ZERO, Duration.ofSeconds(10));
      return this;
    }

    /**
     * When the journal forces writes to disk (mid default every 100 ms, high default never).
     *
     * @param fsync the policy
     * @return this builder
     */
    public Builder fsync(FsyncPolicy fsync) {
      this.fsync = Objects.requireNonNull(fsync, "fsync");
      return this;
    }

    /**
     * The size at which a segment is closed and uploaded: 64 KiB to 1 GiB.
     *
     * @param bytes uncompressed bytes
     * @return this builder
     */
    public Builder segmentBytes(long bytes) {
      if (bytes < (64 << 10) || bytes > (1L << 30)) {
        throw new IllegalArgumentException("segmentBytes must be between 64 KiB and 1 GiB, got " + bytes);
      }
      this.segmentBytes = bytes;
      return this;
    }

    /**
     * The age at which a segment is closed and uploaded: 100 ms to 1 hour.
     *
     * @param age the age
     * @return this builder
     */
    public Builder segmentAge(Duration age) {
      this.segmentAge = Options.within("segmentAge", age, Duration.ofMillis(100), Duration.ofHours(1));
      return this;
    }

    /**
     * The disk quota of the directory: at least two segments.
     *
     * @param bytes the quota
     * @return this builder
     */
    public Builder diskQuotaBytes(long bytes) {
      if (bytes < (128 << 10)) {
        throw new IllegalArgumentException("diskQuotaBytes must be at least 128 KiB, got " + bytes);
      }
      this.diskQuotaBytes = bytes;
      return this;
    }

    /**
     * The compression and its level (default zstd level 1).
     *
     * @param compression zstd or gzip
     * @param level zstd 1-19, gzip 1-9
     * @return this builder
     */
    public Builder compression(Compression compression, int level) {
      Objects.requireNonNull(compression, "compression");
      int max = compression == Compression.ZSTD ? 19 : 9;
      if (level < 1 || level > max) {
        throw new IllegalArgumentException(compression + " level must be between 1 and " + max + ", got " + level);
      }
      this.compression = compression;
      this.compressionLevel = level;
      return this;
    }

    /**
     * How old undelivered data may get before an alarm (mid default 20 min, high 6 h): 1 s to 7 days.
     *
     * @param target the delivery target
     * @return this builder
     */
    public Builder deliveryTarget(Duration target) {
      this.deliveryTarget = Options.within("deliveryTarget", target, Duration.ofSeconds(1), Duration.ofDays(7));
      return this;
    }

    /**
     * Retry backoff: doubling from {@code base} to {@code max}, with jitter (default 200 ms to 60 s). Uploads are
     * retried for ever; only the wait grows.
     *
     * @param base 1 ms to 1 min
     * @param max 1 ms to 1 h
     * @return this builder
     */
    public Builder retry(Duration base, Duration max) {
      this.retryBase = Options.within("retry base", base, Duration.ofMillis(1), Duration.ofMinutes(1));
      this.retryMax = Options.within("retry max", max, Duration.ofMillis(1), Duration.ofHours(1));
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @return the configuration
     * @throws IllegalStateException when a required option is missing or options contradict, naming them
     */
    public S3Tier build() {
      if (s3 == null || bucket == null || directory == null) {
        throw new IllegalStateException(tier + " tier needs s3, bucket and directory; missing: "
            + (s3 == null ? "s3 " : "") + (bucket == null ? "bucket " : "") + (directory == null ? "directory" : ""));
      }
      return new S3Tier(this);
    }
  }
}
