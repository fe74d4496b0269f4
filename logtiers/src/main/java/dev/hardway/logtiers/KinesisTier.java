package dev.hardway.logtiers;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * Configuration of the low tier: records aggregated in the KPL format (readable by the KCL and Lambda), only records
 * bound for the same shard in one aggregate, PutRecords calls of at most 500 records and 5 MiB, per-shard rate
 * limits, only failed entries resent, and a time-to-live after which a record is dropped and counted.
 *
 * <pre>{@code
 * KinesisTier low = KinesisTier.builder().kinesis(kinesis).stream("auctions-rt").build();
 * }</pre>
 */
public final class KinesisTier {
  private final KinesisClient kinesis;
  private final String stream;
  private final int ringBytes;
  private final Duration linger;
  private final Duration recordTtl;
  private final int maxRequestsInFlight;
  private final int shardLimitPercent;
  private final Duration shardRefresh;
  private final Duration retryBase;
  private final Duration retryMax;

  private KinesisTier(Builder b) {
    this.kinesis = Objects.requireNonNull(b.kinesis);
    this.stream = Objects.requireNonNull(b.stream);
    this.ringBytes = b.ringBytes;
    this.linger = b.linger;
    this.recordTtl = b.recordTtl;
    this.maxRequestsInFlight = b.maxRequestsInFlight;
    this.shardLimitPercent = b.shardLimitPercent;
    this.shardRefresh = b.shardRefresh;
    this.retryBase = b.retryBase;
    this.retryMax = b.retryMax;
    if (retryBase.compareTo(retryMax) > 0) {
      throw new IllegalStateException("retryBase (" + retryBase + ") must not exceed retryMax (" + retryMax + ")");
    }
    if (linger.compareTo(recordTtl) >= 0) {
      throw new IllegalStateException("linger (" + linger + ") must be shorter than recordTtl (" + recordTtl + ")");
    }
  }

  /**
   * A builder with the defaults: 16 MiB ring, 100 ms linger, 30 s time-to-live, 4 requests in flight, 100 % of the
   * shard limits.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
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
   * The Kinesis client.
   *
   * @return the client (not closed by this library)
   */
  public KinesisClient kinesis() {
    return kinesis;
  }

  /**
   * The stream name.
   *
   * @return the name
   */
  public String stream() {
    return stream;
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
   * How long a record may wait for its aggregate to fill before it is sent anyway (the KPL's buffer time).
   *
   * @return the linger
   */
  public Duration linger() {
    return linger;
  }

  /**
   * How long a record may stay undelivered before it is dropped and counted as {@link DropReason#EXPIRED}.
   *
   * @return the time-to-live
   */
  public Duration recordTtl() {
    return recordTtl;
  }

  /**
   * The most PutRecords calls in flight at once.
   *
   * @return the count
   */
  public int maxRequestsInFlight() {
    return maxRequestsInFlight;
  }

  /**
   * The rate limit per shard, in percent of the shard's write limit (1 MiB/s and 1,000 records/s).
   *
   * @return the percentage
   */
  public int shardLimitPercent() {
    return shardLimitPercent;
  }

  /**
   * How often the shard map is read again (it is also read again when a write lands on an unexpected shard).
   *
   * @return the interval
   */
  public Duration shardRefresh() {
    return shardRefresh;
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
    return "KinesisTier[" + stream + " ring=" + ringBytes + " linger=" + linger + " ttl=" + recordTtl + " inFlight="
        + maxRequestsInFlight + " limit=" + shardLimitPercent + "%]";
  }

  /** Builds a {@link KinesisTier}; every setter checks its value. */
  public static final class Builder {
    private @Nullable KinesisClient kinesis;
    private @Nullable String stream;
    private int ringBytes = 16 << 20;
    private Duration linger = Duration.ofMillis(100);
    private Duration recordTtl = Duration.ofSeconds(30);
    private int maxRequestsInFlight = 4;
    private int shardLimitPercent = 100;
    private Duration shardRefresh = Duration.ofSeconds(60);
    private Duration retryBase = Duration.ofMillis(100);
    private Duration retryMax = Duration.ofSeconds(5);

    private Builder() {}

    private Builder(KinesisTier t) {
      this.kinesis = t.kinesis;
      this.stream = t.stream;
      this.ringBytes = t.ringBytes;
      this.linger = t.linger;
      this.recordTtl = t.recordTtl;
      this.maxRequestsInFlight = t.maxRequestsInFlight;
      this.shardLimitPercent = t.shardLimitPercent;
      this.shardRefresh = t.shardRefresh;
      this.retryBase = t.retryBase;
      this.retryMax = t.retryMax;
    }

    /**
     * The Kinesis client (required).
     *
     * @param kinesis the client; the tier never closes it
     * @return this builder
     */
    public Builder kinesis(KinesisClient kinesis) {
      this.kinesis = Objects.requireNonNull(kinesis, "kinesis");
      return this;
    }

    /**
     * The stream name (required).
     *
     * @param stream 1-128 characters of {@code [a-zA-Z0-9_.-]}
     * @return this builder
     */
    public Builder stream(String stream) {
      Objects.requireNonNull(stream, "stream");
      if (!stream.matches("[a-zA-Z0-9_.-]{1,128}")) {
        throw new IllegalArgumentException("stream must be 1-128 characters of [a-zA-Z0-9_.-], got '" + stream + "'");
      }
      this.stream = stream;
      return this;
    }

    /**
     * The ring's capacity (default 16 MiB): a power of two from 64 KiB to 1 GiB, off-heap.
     *
     * @param ringBytes the capacity
     * @return this builder
     */
    public Builder ringBytes(int ringBytes) {
      this.ringBytes = Options.ringBytes(ringBytes);
      return this;
    }

    /**
     * How long a record may wait for its aggregate to fill (default 100 ms): 0 to 10 s.
     *
     * @param linger the linger
     * @return this builder
     */
    public Builder linger(Duration linger) {
      this.linger = Options.within("linger", linger, Duration.ZERO, Duration.ofSeconds(10));
      return this;
    }

    /**
     * How long a record may stay undelivered (default 30 s): 100 ms to 1 h.
     *
     * @param ttl the time-to-live
     * @return this builder
     */
    public Builder recordTtl(Duration ttl) {
      this.recordTtl = Options.within("recordTtl", ttl, Duration.ofMillis(100), Duration.ofHours(1));
      return this;
    }

    /**
     * The most PutRecords calls in flight (default 4): 1 to 64.
     *
     * @param requests the count
     * @return this builder
     */
    public Builder maxRequestsInFlight(int requests) {
      if (requests < 1 || requests > 64) {
        throw new IllegalArgumentException("maxRequestsInFlight must be between 1 and 64, got " + requests);
      }
      this.maxRequestsInFlight = requests;
      return this;
    }

    /**
     * The per-shard rate limit in percent of the shard's write limit (default 100; the KPL uses 150): 1 to 1000.
     *
     * @param percent the percentage
     * @return this builder
     */
    public Builder shardLimitPercent(int percent) {
      if (percent < 1 || percent > 1000) {
        throw new IllegalArgumentException("shardLimitPercent must be between 1 and 1000, got " + percent);
      }
      this.shardLimitPercent = percent;
      return this;
    }

    /**
     * How often the shard map is read again (default 60 s): 1 s to 1 h.
     *
     * @param interval the interval
     * @return this builder
     */
    public Builder shardRefresh(Duration interval) {
      this.shardRefresh = Options.within("shardRefresh", interval, Duration.ofSeconds(1), Duration.ofHours(1));
      return this;
    }

    /**
     * Retry backoff: doubling from {@code base} to {@code max}, with jitter (default 100 ms to 5 s).
     *
     * @param base 1 ms to 1 min
     * @param max 1 ms to 1 min
     * @return this builder
     */
    public Builder retry(Duration base, Duration max) {
      this.retryBase = Options.within("retry base", base, Duration.ofMillis(1), Duration.ofMinutes(1));
      this.retryMax = Options.within("retry max", max, Duration.ofMillis(1), Duration.ofMinutes(1));
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @return the configuration
     * @throws IllegalStateException when the client or stream is missing, or options contradict
     */
    public KinesisTier build() {
      if (kinesis == null || stream == null) {
        throw new IllegalStateException("low tier needs kinesis and stream; missing: "
            + (kinesis == null ? "kinesis " : "") + (stream == null ? "stream" : ""));
      }
      return new KinesisTier(this);
    }
  }
}
