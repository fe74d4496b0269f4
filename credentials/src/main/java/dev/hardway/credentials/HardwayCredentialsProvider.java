package dev.hardway.credentials;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ContainerCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;
import software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.ResolveIdentityRequest;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * A drop-in {@link AwsCredentialsProvider} whose {@link #resolveCredentials()} is a plain volatile read: no lock, no
 * allocation, no clock. The credentials are resolved in the background from an ordered chain of sources and
 * refreshed well ahead of their expiry, so a request never waits for them after the first.
 *
 * <pre>{@code
 * try (HardwayCredentialsProvider credentials = HardwayCredentialsProvider.create()) {
 *   S3Client s3 = S3Client.builder().credentialsProvider(credentials).build();
 * }
 * }</pre>
 *
 * <p>The default chain is the SDK's own order: system properties, environment, web identity token file, profile,
 * container endpoint ({@code AWS_CONTAINER_CREDENTIALS_FULL_URI}), instance metadata (the Hardway metadata
 * imitator on a workstation, EC2 in production). The first source that answers wins; when none does, the error
 * lists what every source said.
 *
 * <p>Refresh: at a random point between half and three quarters of the credentials' remaining life, retried with
 * backoff and jitter when it fails. Credentials whose expiry is nearer than {@code expiryMargin} are withdrawn by the
 * background thread, so the hot path never returns expired credentials as long as that thread runs on time (it wakes
 * every {@code refreshTick}; the margin must cover a stalled JVM too). After a withdrawal the next call resolves
 * synchronously, once for all callers.
 *
 * <p>Thread-safe. {@link #close()} stops the background thread and closes the sources.
 */
public final class HardwayCredentialsProvider implements AwsCredentialsProvider, SdkAutoCloseable {
  private final Map<String, AwsCredentialsProvider> sources;
  private final InstantSource clock;
  private final RandomGenerator random;
  private final Duration expiryMargin;
  private final Duration staticRefresh;
  private final @Nullable Duration maxRefreshInterval;
  private final Duration retryBase;
  private final Duration retryMax;
  private final @Nullable ScheduledExecutorService refresher;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile @Nullable Snapshot current;
  // Guarded by lock.
  private Instant nextRefresh = Instant.MIN;
  private int consecutiveFailures;
  private @Nullable String lastError;
  private long refreshes;
  private long failures;
  private volatile boolean closed;

  private record Snapshot(AwsCredentials credentials, CompletableFuture<AwsCredentialsIdentity> identity,
      String source, @Nullable Instant expiration, Instant resolvedAt) {}

  private HardwayCredentialsProvider(Builder b) {
    this.sources = b.sources.isEmpty() ? defaultSources() : new LinkedHashMap<>(b.sources);
    this.clock = b.clock;
    this.random = b.random;
    this.expiryMargin = b.expiryMargin;
    this.staticRefresh = b.staticRefresh;
    this.maxRefreshInterval = b.maxRefreshInterval;
    this.retryBase = b.retryBase;
    this.retryMax = b.retryMax;
    if (b.backgroundRefresh) {
      ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("hardway-credentials-refresh").factory());
      long tick = b.refreshTick.toMillis();
      s.scheduleWithFixedDelay(this::refreshDueQuietly, 0, tick, TimeUnit.MILLISECONDS);
      this.refresher = s;
    } else {
      this.refresher = null;
    }
  }

  /**
   * A provider over the default chain, refreshing in the background.
   *
   * @return the provider
   */
  public static HardwayCredentialsProvider create() {
    return builder().build();
  }

  /**
   * Starts a provider.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  private static Map<String, AwsCredentialsProvider> defaultSources() {
    Map<String, AwsCredentialsProvider> m = new LinkedHashMap<>();
    m.put("system properties", SystemPropertyCredentialsProvider.create());
    m.put("environment", EnvironmentVariableCredentialsProvider.create());
    m.put("web identity", WebIdentityTokenFileCredentialsProvider.create());
    m.put("profile", ProfileCredentialsProvider.create());
    m.put("container", ContainerCredentialsProvider.create());
    m.put("instance metadata", InstanceProfileCredentialsProvider.create());
    return m;
  }

  /**
   * The current credentials: one volatile read once they are resolved.
   *
   * @return credentials that are not within {@code expiryMargin} of their expiry
   * @throws SdkClientException when no source works, listing what each said
   */
  @Override
  public AwsCredentials resolveCredentials() {
    Snapshot s = current;
    if (s != null) {
      return s.credentials;
    }
    return resolveSlowly().credentials;
  }

  /**
   * The current credentials as the SDK asks for them; the future is shared while the credentials are, so this
   * allocates nothing either.
   *
   * @param request ignored: the chain has no per-request options
   * @return a completed future
   */
  @Override
  public CompletableFuture<AwsCredentialsIdentity> resolveIdentity(ResolveIdentityRequest request) {
    Snapshot s = current;
    if (s != null) {
      return s.identity;
    }
    try {
      return resolveSlowly().identity;
    } catch (SdkClientException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private Snapshot resolveSlowly() {
    lock.lock();
    try {
      Snapshot s = current;
      if (s != null) {
        return s;
      }
      if (closed) {
        throw SdkClientException.create("this HardwayCredentialsProvider is closed");
      }
      Instant now = clock.instant();
      if (lastError != null && now.isBefore(nextRefresh)) {
        throw SdkClientException.create("Unable to load AWS credentials from any source (next attempt at "
            + nextRefresh + "): " + lastError);
      }
      refresh(now);
      s = current;
      if (s == null) {
        throw SdkClientException.create("Unable to load AWS credentials from any source: " + lastError);
      }
      return s;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs what the background thread runs each tick: a refresh when one is due, and the withdrawal of credentials
   * about to expire. A test with a manual clock calls it after moving the clock.
   */
  public void refreshDue() {
    lock.lock();
    try {
      Instant now = clock.instant();
      Snapshot s = current;
      if (s == null || !now.isBefore(nextRefresh)) {
        if (!closed) {
          refresh(now);
        }
        s = current;
      }
      if (s != null && s.expiration != null && !now.plus(expiryMargin).isBefore(s.expiration)) {
        current = null;
      }
    } finally {
      lock.unlock();
    }
  }

  private void refreshDueQuietly() {
    try {
      refreshDue();
    } catch (RuntimeException e) {
      // The refresher must keep running; the failure is in the stats.
    }
  }

  private void refresh(Instant now) {
    List<String> said = new ArrayList<>(sources.size());
    for (Map.Entry<String, AwsCredentialsProvider> source : sources.entrySet()) {
      AwsCredentials c;
      try {
        c = source.getValue().resolveCredentials();
      } catch (RuntimeException e) {
        said.add(source.getKey() + ": " + e.getMessage());
        continue;
      }
      Instant expiration = c.expirationTime().orElse(null);
      if (expiration != null && !now.plus(expiryMargin).isBefore(expiration)) {
        said.add(source.getKey() + ": returned credentials expiring at " + expiration + ", within "
            + expiryMargin + " of now (" + now + ")");
        continue;
      }
      AwsCredentialsIdentity identity = c;
      current = new Snapshot(c, CompletableFuture.completedFuture(identity), source.getKey(), expiration, now);
      refreshes++;
      consecutiveFailures = 0;
      lastError = null;
      nextRefresh = now.plus(untilRefresh(now, expiration));
      return;
    }
    failures++;
    consecutiveFailures++;
    lastError = String.join("; ", said);
    nextRefresh = now.plusMillis(Timing.backoffMillis(retryBase, retryMax, consecutiveFailures, random));
  }

  private Duration untilRefresh(Instant now, @Nullable Instant expiration) {
    Duration wait;
    if (expiration == null) {
      wait = staticRefresh;
    } else {
      long usable = Duration.between(now, expiration).minus(expiryMargin).toMillis();
      // Never more often than every second.
      wait = Duration.ofMillis(Math.max(1000, Timing.refreshInMillis(usable, random)));
    }
    Duration cap = maxRefreshInterval;
    return cap != null && cap.compareTo(wait) < 0 ? cap : wait;
  }

  /**
   * A snapshot of what the chain holds and how refreshing went.
   *
   * @return the stats
   */
  public ChainStats stats() {
    lock.lock();
    try {
      Snapshot s = current;
      return new ChainStats(s == null ? null : s.source, s == null ? null : s.expiration,
          s == null ? null : Duration.between(s.resolvedAt, clock.instant()), refreshes, failures, lastError,
          nextRefresh);
    } finally {
      lock.unlock();
    }
  }

  /** Stops the background thread and closes every source that can be closed; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (refresher != null) {
      refresher.shutdownNow();
    }
    for (AwsCredentialsProvider p : sources.values()) {
      if (p instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception ignored) {
          // Closing a source is best effort.
        }
      }
    }
  }

  @Override
  public String toString() {
    Snapshot s = current;
    return "HardwayCredentialsProvider[sources=" + sources.keySet() + ", current="
        + (s == null ? "none" : s.source) + "]";
  }

  /** Builds a {@link HardwayCredentialsProvider}. */
  public static final class Builder {
    private final Map<String, AwsCredentialsProvider> sources = new LinkedHashMap<>();
    private InstantSource clock = InstantSource.system();
    private RandomGenerator random = RandomGenerator.getDefault();
    private boolean backgroundRefresh = true;
    private Duration refreshTick = Duration.ofSeconds(1);
    private Duration expiryMargin = Duration.ofSeconds(15);
    private Duration staticRefresh = Duration.ofMinutes(5);
    private @Nullable Duration maxRefreshInterval;
    private Duration retryBase = Duration.ofSeconds(1);
    private Duration retryMax = Duration.ofMinutes(1);

    private Builder() {}

    /**
     * Adds a source to the chain, after those added before. With no source added, the default chain is used.
     *
     * @param name how stats and errors name it
     * @param provider the source
     * @return this builder
     */
    public Builder source(String name, AwsCredentialsProvider provider) {
      if (name.isBlank() || sources.containsKey(name)) {
        throw new IllegalArgumentException("source name must be non-blank and unique, got " + Printable.quote(name));
      }
      sources.put(name, Objects.requireNonNull(provider, "provider"));
      return this;
    }

    /**
     * The clock for refresh and expiry decisions.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Randomness for refresh points and jitter.
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Whether a background thread runs {@link HardwayCredentialsProvider#refreshDue()} every tick; default true.
     *
     * @param enabled whether to refresh in the background
     * @return this builder
     */
    public Builder backgroundRefresh(boolean enabled) {
      this.backgroundRefresh = enabled;
      return this;
    }

    /**
     * How often the background thread wakes; default 1 s.
     *
     * @param tick 10 ms to 1 min, and less than {@code expiryMargin}
     * @return this builder
     */
    public Builder refreshTick(Duration tick) {
      this.refreshTick = Timing.within(tick, Duration.ofMillis(10), Duration.ofMinutes(1), "refreshTick");
      return this;
    }

    /**
     * Credentials this close to their expiry are withdrawn; default 15 s.
     *
     * @param margin 1 s to 10 min
     * @return this builder
     */
    public Builder expiryMargin(Duration margin) {
      this.expiryMargin = Timing.within(margin, Duration.ofSeconds(1), Duration.ofMinutes(10), "expiryMargin");
      return this;
    }

    /**
     * How often credentials without an expiry (long-term keys) are resolved again; default 5 min.
     *
     * @param interval 1 s to 1 day
     * @return this builder
     */
    public Builder staticRefresh(Duration interval) {
      this.staticRefresh = Timing.within(interval, Duration.ofSeconds(1), Duration.ofDays(1), "staticRefresh");
      return this;
    }

    /**
     * Resolves again at least this often, whatever the credentials' expiry (default: no cap). For a workstation
     * whose role is switched with {@code hardway-credentials use}: running clients follow within this interval
     * instead of at half their credentials' life. The source must then answer fresh credentials itself (the SDK's
     * instance-metadata provider caches until its {@code staleTime}).
     *
     * @param interval 1 s to 1 day
     * @return this builder
     */
    public Builder maxRefreshInterval(Duration interval) {
      this.maxRefreshInterval = Timing.within(interval, Duration.ofSeconds(1), Duration.ofDays(1),
          "maxRefreshInterval");
      return this;
    }

    /**
     * The first and the longest wait after a failed resolution; defaults 1 s and 1 min.
     *
     * @param base 1 ms to 1 min
     * @param max at least {@code base}, at most 1 h
     * @return this builder
     */
    public Builder retryBackoff(Duration base, Duration max) {
      this.retryBase = Timing.within(base, Duration.ofMillis(1), Duration.ofMinutes(1), "retryBackoff base");
      this.retryMax = Timing.within(max, base, Duration.ofHours(1), "retryBackoff max");
      return this;
    }


    /**
     * Builds the provider and starts its background refresh (the first resolution runs at once, in the
     * background).
     *
     * @return the provider
     * @throws IllegalStateException when the tick is not shorter than the expiry margin
     */
    public HardwayCredentialsProvider build() {
      if (backgroundRefresh && refreshTick.compareTo(expiryMargin) >= 0) {
        throw new IllegalStateException("refreshTick (" + refreshTick + ") must be shorter than expiryMargin ("
            + expiryMargin + "), or expired credentials could be served between ticks");
      }
      return new HardwayCredentialsProvider(this);
    }
  }
}
