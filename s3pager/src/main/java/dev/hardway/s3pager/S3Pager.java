package dev.hardway.s3pager;

import dev.hardway.s3pager.internal.ClientConfig;
import dev.hardway.s3pager.internal.HandlerLink;
import dev.hardway.s3pager.internal.Linux;
import dev.hardway.s3pager.internal.LocalBackend;
import dev.hardway.s3pager.internal.Mapping;
import dev.hardway.s3pager.internal.PagerConfig;
import dev.hardway.s3pager.internal.Uffd;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
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
 * <p>A pager starts one handler process (a small JVM started from this one's {@code java} and class path) when it is
 * built, and that process serves the page faults of every object the pager opens; see the module README for why the
 * handler cannot be a thread of this JVM, the JVM flag this module needs
 * ({@code --enable-native-access=dev.hardway.s3pager}), and what happens where userfaultfd is not permitted
 * ({@link PagingMode#EXPLICIT_ONLY}). {@link #open} costs one small ranged GET, which also gives the object's size and
 * ETag: the first bytes are resident when it returns.
 *
 * <p>Thread-safe. Close the objects, then the pager: {@link #close()} ends the handler, and the missing pages of
 * objects still open are poisoned.
 */
public final class S3Pager implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(S3Pager.class.getName());
  private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

  private final Builder config;
  private final AwsCredentialsProvider credentials;
  private final S3Client s3;
  private final ClientConfig clientConfig;
  private final @Nullable Uffd uffd;
  private final ScheduledExecutorService refresher;
  private @Nullable HandlerLink link;
  private @Nullable S3Client localClient;
  private @Nullable AwsCredentials sent;
  private int handlersStarted;
  private boolean closed;

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
    try {
      AwsCredentials c = credentials.resolveCredentials();
      // One pool for the handler, shared by every object: 8 objects fetching at full speed at once.
      this.clientConfig = new ClientConfig(config.endpoint == null ? null : config.endpoint.toString(),
          config.region, config.pathStyle, Math.min(512, config.fetchThreads * 8), c.accessKeyId(),
          c.secretAccessKey(), c instanceof AwsSessionCredentials s ? s.sessionToken() : null);
      this.uffd = config.userfaultfd ? startHandler(c) : null;
    } catch (RuntimeException e) {
      s3.close();
      throw e;
    }
    this.refresher = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("s3pager-credentials").factory());
    if (uffd != null) {
      long every = config.credentialsRefresh.toMillis();
      refresher.scheduleWithFixedDelay(this::refreshQuietly, every, every, TimeUnit.MILLISECONDS);
    }
  }

  /** Creates the pager's userfaultfd and starts its handler; null (logged once) where either is not permitted. */
  private @Nullable Uffd startHandler(AwsCredentials current) {
    Uffd.Created created = Uffd.create(config.allowUserModeOnly);
    if (created.fd() < 0) {
      logFallback(created.error());
      return null;
    }
    Uffd u = new Uffd(created.fd());
    int err = u.api();
    if (err != 0) {
      u.close();
      logFallback("UFFDIO_API with the poison feature failed with " + Linux.errnoName(err)
          + " (Linux 6.6 or later is needed)");
      return null;
    }
    try {
      link = HandlerLink.start(clientConfig, u, config.handlerJvmOptions, config.handlerClassPath,
          config.handlerStartTimeout, config.guardian);
      handlersStarted++;
      sent = current;
      return u;
    } catch (HandlerLink.HandoverRefused e) {
      u.close();
      logFallback(e.getMessage());
      return null;
    } catch (RuntimeException e) {
      u.close();
      throw e;
    }
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
   * How this pager's objects are paged.
   *
   * @return {@link PagingMode#USERFAULTFD}, or {@link PagingMode#EXPLICIT_ONLY} where userfaultfd is not permitted or
   *     was turned off
   */
  public PagingMode mode() {
    return uffd != null ? PagingMode.USERFAULTFD : PagingMode.EXPLICIT_ONLY;
  }

  /**
   * The handler process serving this pager's faults.
   *
   * @return its pid, or -1 in explicit-only mode
   */
  public synchronized long handlerPid() {
    HandlerLink l = link;
    return l == null ? -1 : l.pid();
  }

  /**
   * Handler processes started so far: 1, plus one for each that died and was replaced at a later {@link #open}.
   *
   * @return the count (0 in explicit-only mode)
   */
  public synchronized int handlersStarted() {
    return handlersStarted;
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
   * missing chunks fail (412) instead of mixing versions. Costs one ranged GET of the object's first bytes (64 KiB or
   * one chunk, whichever is smaller), which also tells its size and ETag; those bytes are resident when this returns.
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
    long firstLength = Math.min(64L << 10, config.chunkSize);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment first = arena.allocate(firstLength, Linux.PAGE_SIZE);
      First head = firstBytes(bucket, key, versionId, eTag, first);
      String pinnedETag = eTag != null ? eTag : head.eTag();
      if (head.size() == 0) {
        return new PagedObject(bucket, key, pinnedETag, 0, config.chunkSize, 1, false, null, null, mode());
      }
      // Whole pages only, unless the object ends within the bytes read: then its last page is padded with zeros.
      long installable = head.read() == head.size()
          ? (head.read() + Linux.PAGE_SIZE - 1) & -Linux.PAGE_SIZE : head.read() & -Linux.PAGE_SIZE;
      long firstInstalled = head.read() == head.size() ? head.size() : installable;
      PagerConfig pc = new PagerConfig(head.size(), config.chunkSize, Math.min(config.pieceSize, config.chunkSize),
          config.readaheadInitial, config.readaheadMax, config.memoryBudget, config.fetchThreads, config.maxAttempts,
          config.backoffBase.toMillis(), config.backoffMax.toMillis(), config.markers, bucket, key, versionId,
          pinnedETag, firstInstalled);
      Mapping mapping = map(bucket, key, head.size());
      try {
        int err = installable == 0 ? 0 : mapping.install(0, first, installable);
        if (err != 0) {
          throw new S3PagerException("cannot install the first bytes of s3://" + bucket + "/" + key + ": "
              + Linux.errnoName(err), false);
        }
        int window = Math.max(1, config.readaheadMax);
        boolean budgeted = config.memoryBudget != Long.MAX_VALUE;
        if (mapping.uffd() != null) {
          return new PagedObject(bucket, key, pinnedETag, head.size(), config.chunkSize, window, budgeted, mapping,
              link().open(pc, mapping), PagingMode.USERFAULTFD);
        }
        return new PagedObject(bucket, key, pinnedETag, head.size(), config.chunkSize, window, budgeted, mapping,
            new LocalBackend(pc, mapping, localClient()), PagingMode.EXPLICIT_ONLY);
      } catch (RuntimeException e) {
        mapping.close();
        throw e;
      }
    }
  }

  private Mapping map(String bucket, String key, long size) {
    try {
      return Mapping.create(size, config.chunkSize, uffd);
    } catch (IllegalStateException e) {
      throw new S3PagerException("cannot map s3://" + bucket + "/" + key + " (" + size + " bytes): " + e.getMessage(),
          false, e);
    }
  }

  /** What the first GET told: the object's size and ETag, and how many bytes were read into the buffer. */
  private record First(long size, @Nullable String eTag, long read) {}

  private First firstBytes(String bucket, String key, @Nullable String versionId, @Nullable String eTag,
      MemorySegment into) {
    String object = "s3://" + bucket + "/" + key;
    GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(bucket).key(key)
        .range("bytes=0-" + (into.byteSize() - 1));
    if (versionId != null) {
      request.versionId(versionId);
    }
    if (eTag != null) {
      request.ifMatch(eTag);
    }
    try (ResponseInputStream<GetObjectResponse> body = s3.getObject(request.build())) {
      GetObjectResponse response = body.response();
      long size = sizeOf(response, object);
      long want = Math.min(size, into.byteSize());
      byte[] buffer = new byte[(int) Math.min(want, 16 << 10) + 1];
      long read = 0;
      while (read < want) {
        int n = body.read(buffer, 0, (int) Math.min(buffer.length, want - read));
        if (n < 0) {
          throw new S3PagerException("cannot open " + object + ": the first GET's body ended after " + read + " of "
              + want + " bytes", true);
        }
        MemorySegment.copy(buffer, 0, into, ValueLayout.JAVA_BYTE, read, n);
        read += n;
      }
      if (response.contentRange() == null) {
        // A server that ignored the range: do not read the rest of the object here.
        body.abort();
      }
      return new First(size, response.eTag(), read);
    } catch (AwsServiceException e) {
      int status = e.statusCode();
      if (status == 416) {
        // S3 refuses any range of an empty object.
        return empty(bucket, key, versionId, eTag);
      }
      throw new S3PagerException("cannot open " + object + ": GET answered " + status
          + (status == 412 ? " (its ETag is not " + eTag + ")" : "") + ": " + e.getMessage(),
          status >= 500 || status == 429, e);
    } catch (SdkException | IOException e) {
      throw new S3PagerException("cannot open " + object + ": " + e.getMessage(), true, e);
    }
  }

  private static long sizeOf(GetObjectResponse response, String object) {
    String range = response.contentRange();
    if (range == null) {
      return response.contentLength();
    }
    int slash = range.lastIndexOf('/');
    try {
      return Long.parseLong(range.substring(slash + 1).strip());
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      throw new S3PagerException("cannot open " + object + ": the GET's Content-Range has no size: \"" + range + "\"",
          false, e);
    }
  }

  private First empty(String bucket, String key, @Nullable String versionId, @Nullable String eTag) {
    HeadObjectRequest.Builder request = HeadObjectRequest.builder().bucket(bucket).key(key);
    if (versionId != null) {
      request.versionId(versionId);
    }
    if (eTag != null) {
      request.ifMatch(eTag);
    }
    try {
      HeadObjectResponse head = s3.headObject(request.build());
      if (head.contentLength() != 0) {
        throw new S3PagerException("cannot open s3://" + bucket + "/" + key + ": a GET of its first bytes answered 416"
            + " but it has " + head.contentLength() + " bytes", true);
      }
      return new First(0, head.eTag(), 0);
    } catch (AwsServiceException e) {
      throw new S3PagerException("cannot open s3://" + bucket + "/" + key + ": HEAD answered " + e.statusCode(),
          e.statusCode() >= 500, e);
    }
  }

  /** The running handler, started again if the last one died (its objects stay failed). */
  private synchronized HandlerLink link() {
    if (closed) {
      throw new S3PagerException("the pager is closed", false);
    }
    HandlerLink l = link;
    Uffd u = uffd;
    if (l != null && l.alive()) {
      return l;
    }
    if (u == null) {
      throw new IllegalStateException("no userfaultfd");
    }
    LOG.log(System.Logger.Level.WARNING, "s3pager: handler " + (l == null ? "?" : l.pid()) + " is gone; starting"
        + " another for new objects");
    AwsCredentials c = credentials.resolveCredentials();
    ClientConfig fresh = new ClientConfig(clientConfig.endpoint(), clientConfig.region(), clientConfig.pathStyle(),
        clientConfig.maxConnections(), c.accessKeyId(), c.secretAccessKey(),
        c instanceof AwsSessionCredentials s ? s.sessionToken() : null);
    l = HandlerLink.start(fresh, u, config.handlerJvmOptions, config.handlerClassPath, config.handlerStartTimeout,
        config.guardian);
    link = l;
    sent = c;
    handlersStarted++;
    return l;
  }

  private synchronized S3Client localClient() {
    S3Client c = localClient;
    if (c == null) {
      c = LocalBackend.client(clientConfig, credentials);
      localClient = c;
    }
    return c;
  }

  private void logFallback(String why) {
    if (FALLBACK_LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.WARNING, "s3pager: userfaultfd is not permitted here (" + why + "); paged objects"
          + " work through the explicit path only (read, prefetch, awaitResident) and segment() throws. In a"
          + " container, pass --device /dev/userfaultfd or allow the userfaultfd syscall in the seccomp profile;"
          + " see the s3pager README.");
    }
  }

  /**
   * Resolves the credentials provider now and sends the handler what it returns, if that changed. The pager does this
   * on its own every {@link Builder#credentialsRefresh credentialsRefresh}; call it after rotating keys by hand.
   */
  public void refreshCredentials() {
    AwsCredentials c = credentials.resolveCredentials();
    synchronized (this) {
      HandlerLink l = link;
      if (l == null || c.equals(sent)) {
        return;
      }
      l.credentials(c.accessKeyId(), c.secretAccessKey(),
          c instanceof AwsSessionCredentials s ? s.sessionToken() : null);
      sent = c;
    }
  }

  private void refreshQuietly() {
    try {
      refreshCredentials();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "s3pager: credentials refresh failed; the handler keeps the last ones", e);
    }
  }

  /** Ends the handler (the missing pages of objects still open are poisoned) and closes the pager's clients. */
  @Override
  public void close() {
    HandlerLink l;
    S3Client local;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      l = link;
      local = localClient;
    }
    refresher.shutdownNow();
    if (l != null) {
      l.close();
    }
    Uffd u = uffd;
    if (u != null) {
      u.close();
    }
    if (local != null) {
      local.close();
    }
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
   *   <tr><td>{@link #credentialsProvider credentialsProvider}</td><td>the SDK's default chain</td><td>the handler
   *       gets snapshots</td></tr>
   *   <tr><td>{@link #credentialsRefresh credentialsRefresh}</td><td>1 minute</td><td>how often a changed snapshot is
   *       sent</td></tr>
   *   <tr><td>{@link #chunkSize chunkSize}</td><td>8 MiB</td><td>bytes per ranged GET, the unit of residency and
   *       eviction</td></tr>
   *   <tr><td>{@link #pieceSize pieceSize}</td><td>256 KiB</td><td>bytes installed at once while a GET's body
   *       arrives</td></tr>
   *   <tr><td>{@link #readahead readahead}</td><td>2, then up to 8 chunks</td><td>chunks fetched ahead</td></tr>
   *   <tr><td>{@link #memoryBudget memoryBudget}</td><td>unlimited</td><td>resident bytes above which chunks are
   *       evicted</td></tr>
   *   <tr><td>{@link #fetchThreads fetchThreads}</td><td>8</td><td>concurrent GETs per object</td></tr>
   *   <tr><td>{@link #retries retries}</td><td>6 attempts, 50 ms to 2 s</td><td>per chunk, with jitter</td></tr>
   *   <tr><td>{@link #markers markers}</td><td>true</td><td>marker readahead</td></tr>
   *   <tr><td>{@link #userfaultfd userfaultfd}</td><td>true</td><td>false forces explicit-only mode</td></tr>
   *   <tr><td>{@link #guardian guardian}</td><td>true</td><td>a guardian process beside the handler</td></tr>
   *   <tr><td>{@link #handlerJvmOptions handlerJvmOptions}</td><td>small serial-GC heap</td><td>for the handler
   *       JVM</td></tr>
   *   <tr><td>{@link #handlerClassPath handlerClassPath}</td><td>found</td><td>for the handler JVM</td></tr>
   *   <tr><td>{@link #handlerStartTimeout handlerStartTimeout}</td><td>30 s</td><td>for the handler to start, and to
   *       answer an open or a close</td></tr>
   * </table>
   */
  public static final class Builder {
    private @Nullable String regionOrNull;
    private String region = "";
    private @Nullable URI endpoint;
    private boolean pathStyle;
    private @Nullable AwsCredentialsProvider credentialsProvider;
    private long chunkSize = 8L << 20;
    private long pieceSize = 256L << 10;
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
        List.of("-Xmx256m", "-XX:+UseSerialGC", "-Xss512k", "-XX:-UsePerfData");
    private Duration handlerStartTimeout = Duration.ofSeconds(30);
    private @Nullable String handlerClassPath;
    private Duration credentialsRefresh = Duration.ofMinutes(1);

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
      b.handlerClassPath = handlerClassPath;
      b.credentialsRefresh = credentialsRefresh;
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
     * Where credentials come from. The handler process gets a snapshot when it starts, and a fresh one whenever the
     * provider's answer changes (checked every {@link #credentialsRefresh credentialsRefresh}, or at
     * {@link S3Pager#refreshCredentials()}).
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
     * Concurrent GETs per object; also bounds the handler's staging memory for the object (one piece each).
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
     * How often the credentials provider is asked again, and a changed answer sent to the handler. Shorter than the
     * lifetime of temporary credentials.
     *
     * @param every 1 second to 1 hour
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder credentialsRefresh(Duration every) {
      Objects.requireNonNull(every, "credentialsRefresh");
      if (every.compareTo(Duration.ofSeconds(1)) < 0 || every.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("credentialsRefresh must be 1 s..1 hour, got " + every);
      }
      this.credentialsRefresh = every;
      return this;
    }

    /**
     * Whether the handler gets a guardian process that poisons the missing pages of every object if the handler dies.
     * Its job cannot be done from this JVM when a safepoint is waiting for a reader blocked on a fault of the dead
     * handler: every Java thread is stopped then. Costs one more small JVM per pager (its heap is capped at 24 MB).
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
     * The class path of the handler JVM. By default it is this JVM's class path when that holds this module, else
     * the URLs of the class loader that loaded it; set it where neither holds the module and the AWS SDK (a custom
     * class loader, a shaded application).
     *
     * @param classPath entries separated by the platform's path separator
     * @return this builder
     * @throws IllegalArgumentException when blank
     */
    public Builder handlerClassPath(String classPath) {
      Objects.requireNonNull(classPath, "handlerClassPath");
      if (classPath.isBlank()) {
        throw new IllegalArgumentException("handlerClassPath must not be blank, got \"" + classPath + "\"");
      }
      this.handlerClassPath = classPath;
      return this;
    }

    /**
     * How long {@link #build()} waits for the handler to be ready, and {@link S3Pager#open} and
     * {@link PagedObject#close()} for its answer.
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
     * Builds the pager and starts its handler process (unless userfaultfd is off or not permitted).
     *
     * @return the pager; close it
     * @throws IllegalStateException when no region was set
     * @throws S3PagerException when the handler process cannot start
     */
    public S3Pager build() {
      if (regionOrNull == null) {
        throw new IllegalStateException("S3Pager: region(...) is required");
      }
      return new S3Pager(copy());
    }
  }
}
