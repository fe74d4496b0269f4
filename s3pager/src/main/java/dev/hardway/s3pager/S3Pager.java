package dev.hardway.s3pager;

import dev.hardway.s3pager.internal.LocalBackend;
import dev.hardway.s3pager.internal.Mapping;
import dev.hardway.s3pager.internal.PagerConfig;
import dev.hardway.s3pager.internal.RemoteBackend;
import dev.hardway.s3pager.internal.Uffd;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * Maps S3 objects into read-only off-heap memory whose pages are fetched on first touch.
 *
 * <pre>{@code
 * try (S3Pager pager = S3Pager.builder().region("us-east-1").build();
 *      PagedObject events = pager.open("my-bucket", "events/2026-11-28.tdb")) {
 *   MemorySegment bytes = events.segment();        // work starts at once; pages arrive as they are touched
 *   long sum = 0;
 *   for (long i = 0; i < bytes.byteSize(); i++) {
 *     sum += bytes.get(ValueLayout.JAVA_BYTE, i);
 *   }
 * }
 * }</pre>
 *
 * <p>Each opened object gets a handler process (a small JVM started from this one's {@code java} and class path) that
 * serves its page faults; see the module README for why the handler cannot be a thread of this JVM, the JVM flag this
 * module needs ({@code --enable-native-access=dev.hardway.s3pager}), and what happens where userfaultfd is not
 * permitted ({@link PagingMode#EXPLICIT_ONLY}).
 *
 * <p>Thread-safe. {@link #close()} closes the pager's own S3 client, not the objects it opened.
 */
public final class S3Pager implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(S3Pager.class.getName());
  private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

  private final Builder config;
  private final AwsCredentialsProvider credentials;
  private final S3Client s3;

  private S3Pager(Builder config) {
    this.config = config;
    AwsCredentialsProvider provider = config.credentialsProvider;
    this.credentials = provider != null ? provider : DefaultCredentialsProvider.builder().build();
    S3ClientBuilder b = S3Client.builder().region(Region.of(config.region)).credentialsProvider(credentials)
        .forcePathStyle(config.pathStyle).httpClientBuilder(Apache5HttpClient.builder());
    if (config.endpoint != null) {
      b.endpointOverride(config.endpoint);
    }
    this.s3 = b.build();
  }

  /**
   * A builder.
   *
   * @return a new builder with the defaults in its table
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder with this pager's settings.
   *
   * @return a copy of the configuration
   */
  public Builder toBuilder() {
    return config.copy();
  }

  /**
   * Opens the current version of an object.
   *
   * @param bucket the bucket
   * @param key the key
   * @return the paged object; close it
   * @throws S3PagerException when the object cannot be found or read, or the handler cannot start
   */
  public PagedObject open(String bucket, String key) {
    return open(bucket, key, null, null);
  }

  /**
   * Opens an object pinned to a version or an ETag: every GET carries it, and a change of the object makes the
   * missing chunks fail (412) instead of mixing versions.
   *
   * @param bucket the bucket
   * @param key the key
   * @param versionId the version id, or null
   * @param eTag the expected ETag, or null to take the current one
   * @return the paged object; close it
   * @throws S3PagerException when the object cannot be found or read (a 412 names the ETag), or the handler cannot
   *     start
   */
  public PagedObject open(String bucket, String key, @Nullable String versionId, @Nullable String eTag) {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(key, "key");
    HeadObjectResponse head;
    try {
      HeadObjectRequest.Builder request = HeadObjectRequest.builder().bucket(bucket).key(key);
      if (versionId != null) {
        request.versionId(versionId);
      }
      if (eTag != null) {
        request.ifMatch(eTag);
      }
      head = s3.headObject(request.build());
    } catch (AwsServiceException e) {
      int status = e.statusCode();
      throw new S3PagerException("cannot open s3://" + bucket + "/" + key + ": HEAD answered " + status
          + (status == 412 ? " (its ETag is not " + eTag + ")" : ""), status >= 500 || status == 429, e);
    } catch (SdkException e) {
      throw new S3PagerException("cannot open s3://" + bucket + "/" + key + ": " + e.getMessage(), true, e);
    }
    long size = head.contentLength();
    String pinnedETag = eTag != null ? eTag : head.eTag();
    AwsCredentials c = credentials.resolveCredentials();
    String token = c instanceof AwsSessionCredentials s ? s.sessionToken() : null;
    long piece = Math.min(config.pieceSize, config.chunkSize);
    PagerConfig pc = new PagerConfig(size, config.chunkSize, piece, config.readaheadInitial, config.readaheadMax,
        config.memoryBudget, config.fetchThreads, config.maxAttempts, config.backoffBase.toMillis(),
        config.backoffMax.toMillis(), config.markers, config.endpoint == null ? null : config.endpoint.toString(),
        config.region, config.pathStyle, c.accessKeyId(), c.secretAccessKey(), token, bucket, key, versionId,
        pinnedETag);
    if (size == 0) {
      return new PagedObject(this, bucket, key, pinnedETag, 0, config.chunkSize, null, null, PagingMode.USERFAULTFD);
    }
    if (config.userfaultfd) {
      Uffd.Created created = Uffd.create(config.allowUserModeOnly);
      if (created.fd() >= 0) {
        Mapping mapping;
        try {
          mapping = Mapping.create(size, config.chunkSize, new Uffd(created.fd()));
        } catch (IllegalStateException e) {
          new Uffd(created.fd()).close();
          throw new S3PagerException("cannot map s3://" + bucket + "/" + key + " (" + size + " bytes): "
              + e.getMessage(), false, e);
        }
        try {
          RemoteBackend backend = RemoteBackend.start(pc, mapping, config.handlerJvmOptions,
              config.handlerStartTimeout, config.guardian);
          return new PagedObject(this, bucket, key, pinnedETag, size, config.chunkSize, mapping, backend,
              PagingMode.USERFAULTFD);
        } catch (RemoteBackend.HandoverRefused e) {
          mapping.close();
          logFallback(e.getMessage());
        } catch (RuntimeException e) {
          mapping.close();
          throw e;
        }
      } else {
        logFallback(created.error());
      }
    }
    Mapping mapping = Mapping.create(size, config.chunkSize, null);
    PagerConfig local = new PagerConfig(pc.objectSize(), pc.chunkSize(), pc.pieceSize(), pc.readaheadInitial(),
        pc.readaheadMax(), pc.budgetBytes(), pc.fetchThreads(), pc.maxAttempts(), pc.backoffBaseMillis(),
        pc.backoffMaxMillis(), false, pc.endpoint(), pc.region(), pc.pathStyle(), pc.accessKeyId(),
        pc.secretAccessKey(), pc.sessionToken(), bucket, key, versionId, pinnedETag);
    return new PagedObject(this, bucket, key, pinnedETag, size, config.chunkSize, mapping,
        new LocalBackend(local, mapping), PagingMode.EXPLICIT_ONLY);
  }

  private void logFallback(String why) {
    if (!config.userfaultfd) {
      return;
    }
    if (FALLBACK_LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.WARNING, "s3pager: userfaultfd is not permitted here (" + why + "); paged objects"
          + " work through the explicit path only (read, prefetch, awaitResident) and segment() throws. In a"
          + " container, pass --device /dev/userfaultfd or allow the userfaultfd syscall in the seccomp profile;"
          + " see the s3pager README.");
    }
  }

  /**
   * Resolves the credentials provider again, for {@link PagedObject#refreshCredentials()}.
   *
   * @return fresh credentials
   */
  AwsCredentials resolveCredentials() {
    return credentials.resolveCredentials();
  }

  /** Closes the pager's S3 client; objects already opened stay usable until closed themselves. */
  @Override
  public void close() {
    s3.close();
  }

  /**
   * Settings of an {@link S3Pager}. Setters validate at once and throw {@link IllegalArgumentException} naming the
   * option and the value received.
   *
   * <table>
   *   <caption>Options</caption>
   *   <tr><th>Option</th><th>Default</th><th>Meaning</th></tr>
   *   <tr><td>{@link #region region}</td><td>required</td><td>the bucket's region</td></tr>
   *   <tr><td>{@link #endpoint endpoint}</td><td>the region's</td><td>an S3-compatible endpoint</td></tr>
   *   <tr><td>{@link #pathStyle pathStyle}</td><td>false</td><td>address buckets by path</td></tr>
   *   <tr><td>{@link #credentialsProvider credentialsProvider}</td><td>the SDK's default chain</td><td>resolved at
   *       open; the handler gets a snapshot</td></tr>
   *   <tr><td>{@link #chunkSize chunkSize}</td><td>8 MiB</td><td>bytes per ranged GET, the unit of residency and
   *       eviction</td></tr>
   *   <tr><td>{@link #pieceSize pieceSize}</td><td>1 MiB</td><td>bytes installed at once while a GET's body
   *       arrives</td></tr>
   *   <tr><td>{@link #readahead readahead}</td><td>2, then up to 8 chunks</td><td>chunks fetched ahead</td></tr>
   *   <tr><td>{@link #memoryBudget memoryBudget}</td><td>unlimited</td><td>resident bytes above which chunks are
   *       evicted</td></tr>
   *   <tr><td>{@link #fetchThreads fetchThreads}</td><td>8</td><td>concurrent GETs per object</td></tr>
   *   <tr><td>{@link #retries retries}</td><td>6 attempts, 50 ms to 2 s</td><td>per chunk, with jitter</td></tr>
   *   <tr><td>{@link #markers markers}</td><td>true</td><td>marker readahead</td></tr>
   *   <tr><td>{@link #userfaultfd userfaultfd}</td><td>true</td><td>false forces explicit-only mode</td></tr>
   *   <tr><td>{@link #guardian guardian}</td><td>true</td><td>a guardian process per handler</td></tr>
   *   <tr><td>{@link #handlerJvmOptions handlerJvmOptions}</td><td>small serial-GC heap</td><td>for the handler
   *       JVM</td></tr>
   *   <tr><td>{@link #handlerStartTimeout handlerStartTimeout}</td><td>30 s</td><td>for the handler to be
   *       ready</td></tr>
   * </table>
   */
  public static final class Builder {
    private @Nullable String regionOrNull;
    private String region = "";
    private @Nullable URI endpoint;
    private boolean pathStyle;
    private @Nullable AwsCredentialsProvider credentialsProvider;
    private long chunkSize = 8L << 20;
    private long pieceSize = 1L << 20;
    private int readaheadInitial = 2;
    private int readaheadMax = 8;
    private long memoryBudget = Long.MAX_VALUE;
    private int fetchThreads = 8;
    private int maxAttempts = 6;
    private Duration backoffBase = Duration.ofMillis(50);
    private Duration backoffMax = Duration.ofSeconds(2);
    private boolean markers = true;
    private boolean userfaultfd = true;
    private boolean allowUserModeOnly = true;
    private boolean guardian = true;
    private List<String> handlerJvmOptions =
        List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-XX:-UsePerfData");
    private Duration handlerStartTimeout = Duration.ofSeconds(30);

    private Builder() { }

    private Builder copy() {
      Builder b = new Builder();
      b.regionOrNull = regionOrNull;
      b.region = region;
      b.endpoint = endpoint;
      b.pathStyle = pathStyle;
      b.credentialsProvider = credentialsProvider;
      b.chunkSize = chunkSize;
      b.pieceSize = pieceSize;
      b.readaheadInitial = readaheadInitial;
      b.readaheadMax = readaheadMax;
      b.memoryBudget = memoryBudget;
      b.fetchThreads = fetchThreads;
      b.maxAttempts = maxAttempts;
      b.backoffBase = backoffBase;
      b.backoffMax = backoffMax;
      b.markers = markers;
      b.userfaultfd = userfaultfd;
      b.allowUserModeOnly = allowUserModeOnly;
      b.guardian = guardian;
      b.handlerJvmOptions = handlerJvmOptions;
      b.handlerStartTimeout = handlerStartTimeout;
      return b;
    }

    /**
     * The bucket's region. Required.
     *
     * @param region e.g. {@code "us-east-1"}
     * @return this builder
     * @throws IllegalArgumentException when blank
     */
    public Builder region(String region) {
      Objects.requireNonNull(region, "region");
      if (region.isBlank()) {
        throw new IllegalArgumentException("region must not be blank, got \"" + region + "\"");
      }
      this.regionOrNull = region;
      this.region = region;
      return this;
    }

    /**
     * An S3-compatible endpoint instead of the region's.
     *
     * @param endpoint an absolute http or https URI
     * @return this builder
     * @throws IllegalArgumentException when not absolute http(s)
     */
    public Builder endpoint(URI endpoint) {
      Objects.requireNonNull(endpoint, "endpoint");
      if (!endpoint.isAbsolute() || !("http".equals(endpoint.getScheme()) || "https".equals(endpoint.getScheme()))) {
        throw new IllegalArgumentException("endpoint must be an absolute http(s) URI, got " + endpoint);
      }
      this.endpoint = endpoint;
      return this;
    }

    /**
     * Whether to address buckets by path ({@code host/bucket/key}), as most S3-compatible servers want.
     *
     * @param pathStyle true for path style
     * @return this builder
     */
    public Builder pathStyle(boolean pathStyle) {
      this.pathStyle = pathStyle;
      return this;
    }

    /**
     * Where credentials come from. They are resolved when an object is opened and the handler process gets that
     * snapshot; {@link PagedObject#refreshCredentials()} sends a fresh one.
     *
     * @param provider the provider
     * @return this builder
     */
    public Builder credentialsProvider(AwsCredentialsProvider provider) {
      this.credentialsProvider = Objects.requireNonNull(provider, "credentialsProvider");
      return this;
    }

    /**
     * Bytes per chunk: one ranged GET, the unit of residency and eviction. AWS recommends 8 to 16 MiB GETs.
     *
     * @param bytes a multiple of 4096, from 64 KiB to 1 GiB
     * @return this builder
     * @throws IllegalArgumentException when out of range or not a page multiple
     */
    public Builder chunkSize(long bytes) {
      if (bytes < 64 << 10 || bytes > 1L << 30 || bytes % 4096 != 0) {
        throw new IllegalArgumentException("chunkSize must be a multiple of 4096 from 65536 to 1073741824, got "
            + bytes);
      }
      this.chunkSize = bytes;
      return this;
    }

    /**
     * Bytes installed at once while a GET's body arrives (a reader waiting on the first page of a chunk waits for
     * one piece, not the whole GET). Capped at the chunk size.
     *
     * @param bytes a multiple of 4096, from 64 KiB to 64 MiB
     * @return this builder
     * @throws IllegalArgumentException when out of range or not a page multiple
     */
    public Builder pieceSize(long bytes) {
      if (bytes < 64 << 10 || bytes > 64L << 20 || bytes % 4096 != 0) {
        throw new IllegalArgumentException("pieceSize must be a multiple of 4096 from 65536 to 67108864, got "
            + bytes);
      }
      this.pieceSize = bytes;
      return this;
    }

    /**
     * Chunks fetched ahead: {@code initial} after a random access, doubling on sequential access up to
     * {@code max}.
     *
     * @param initial 0 to 256
     * @param max initial to 256
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder readahead(int initial, int max) {
      if (initial < 0 || initial > 256) {
        throw new IllegalArgumentException("readahead initial must be 0..256, got " + initial);
      }
      if (max < initial || max > 256) {
        throw new IllegalArgumentException("readahead max must be " + initial + "..256, got " + max);
      }
      this.readaheadInitial = initial;
      this.readaheadMax = max;
      return this;
    }

    /**
     * Resident bytes above which least recently used chunks are evicted ({@code MADV_DONTNEED}; a later touch
     * fetches them again). Residency may exceed it by the readahead window and by chunks the explicit path is
     * copying from.
     *
     * @param bytes at least one chunk
     * @return this builder
     * @throws IllegalArgumentException when below 64 KiB
     */
    public Builder memoryBudget(long bytes) {
      if (bytes < 64 << 10) {
        throw new IllegalArgumentException("memoryBudget must be at least 65536 bytes, got " + bytes);
      }
      this.memoryBudget = bytes;
      return this;
    }

    /**
     * Concurrent GETs per object; also bounds the handler's staging memory (one piece each).
     *
     * @param threads 1 to 64
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder fetchThreads(int threads) {
      if (threads < 1 || threads > 64) {
        throw new IllegalArgumentException("fetchThreads must be 1..64, got " + threads);
      }
      this.fetchThreads = threads;
      return this;
    }

    /**
     * Attempts per chunk for transient failures (5xx, resets, truncated bodies), with exponential backoff and
     * jitter between them; a chunk out of attempts fails (retryable) and its readers get the error.
     *
     * @param maxAttempts 1 to 100
     * @param base the first delay, 1 ms to 1 minute
     * @param max the largest delay, base to 5 minutes
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder retries(int maxAttempts, Duration base, Duration max) {
      if (maxAttempts < 1 || maxAttempts > 100) {
        throw new IllegalArgumentException("retries maxAttempts must be 1..100, got " + maxAttempts);
      }
      Objects.requireNonNull(base, "base");
      Objects.requireNonNull(max, "max");
      if (base.toMillis() < 1 || base.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new IllegalArgumentException("retries base must be 1 ms..1 minute, got " + base);
      }
      if (max.compareTo(base) < 0 || max.compareTo(Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException("retries max must be " + base + "..5 minutes, got " + max);
      }
      this.maxAttempts = maxAttempts;
      this.backoffBase = base;
      this.backoffMax = max;
      return this;
    }

    /**
     * Marker readahead: a chunk fetched ahead holds back its first page so that the reader's touch of it moves the
     * window on. Off, readahead happens only on faults that stall.
     *
     * @param markers true to use markers
     * @return this builder
     */
    public Builder markers(boolean markers) {
      this.markers = markers;
      return this;
    }

    /**
     * Whether to use userfaultfd at all. False forces {@link PagingMode#EXPLICIT_ONLY}, as where it is not
     * permitted.
     *
     * @param userfaultfd false to force explicit-only mode
     * @return this builder
     */
    public Builder userfaultfd(boolean userfaultfd) {
      this.userfaultfd = userfaultfd;
      return this;
    }

    /**
     * Whether each handler gets a guardian process that poisons the object's missing pages if the handler dies. Its
     * job cannot be done from this JVM when a safepoint is waiting for a reader blocked on a fault of the dead
     * handler: every Java thread is stopped then. Costs one more small JVM per open object (about 30 MB).
     *
     * @param guardian false to rely on this JVM's exit watcher alone
     * @return this builder
     */
    public Builder guardian(boolean guardian) {
      this.guardian = guardian;
      return this;
    }

    /**
     * Options for the handler JVM (heap, GC); the class path or module path and the native-access flag are added.
     *
     * @param options the options
     * @return this builder
     */
    public Builder handlerJvmOptions(List<String> options) {
      this.handlerJvmOptions = List.copyOf(Objects.requireNonNull(options, "handlerJvmOptions"));
      return this;
    }

    /**
     * How long {@link S3Pager#open} waits for a handler to be ready.
     *
     * @param timeout 1 second to 5 minutes
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder handlerStartTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "handlerStartTimeout");
      if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException("handlerStartTimeout must be 1 s..5 minutes, got " + timeout);
      }
      this.handlerStartTimeout = timeout;
      return this;
    }

    /**
     * Builds the pager.
     *
     * @return the pager; close it
     * @throws IllegalStateException when no region was set
     */
    public S3Pager build() {
      if (regionOrNull == null) {
        throw new IllegalStateException("S3Pager: region(...) is required");
      }
      return new S3Pager(copy());
    }
  }
}
