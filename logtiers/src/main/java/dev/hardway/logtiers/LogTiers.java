package dev.hardway.logtiers;

import dev.hardway.logtiers.internal.JournalWorker;
import dev.hardway.logtiers.internal.KinesisWorker;
import dev.hardway.logtiers.internal.TierChannel;
import dev.hardway.logtiers.internal.TierContext;
import dev.hardway.logtiers.internal.TierWorker;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.random.RandomGenerator;
import org.agrona.concurrent.UnsafeBuffer;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * Tiered event logs, one instance per process: log types routed to tiers, a nanosecond append, and background
 * delivery that survives its destinations failing.
 *
 * <pre>{@code
 * LogTiers tiers = LogTiers.builder()
 *     .region("us-east-1")
 *     .low(KinesisTier.builder().kinesis(kinesis).stream("auctions-rt").build())
 *     .mid(S3Tier.midBuilder().s3(mainS3).bucket("logs-main").directory(journalDir).build())
 *     .route("auction", Tier.LOW, Tier.MID)
 *     .build();
 * LogType auctions = tiers.type("auction");
 * auctions.append(bytes);
 * tiers.close();            // drains within closeTimeout; what the mid tier could not upload stays on disk
 * }</pre>
 *
 * <p><b>Thread safety:</b> {@link LogType#append} from any number of threads; everything else is thread-safe too.
 * Each configured tier runs its own background threads (named {@code hardway-logtiers-<tier>-…}).
 *
 * <p><b>JVM flags:</b> the rings are Agrona's, which need
 * {@code --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED} (or {@code =org.agrona} on the module path);
 * {@link Builder#build()} fails fast with that message when the flag is missing. zstd-jni loads a native library:
 * add {@code --enable-native-access=ALL-UNNAMED} (or {@code =com.github.luben.zstd_jni}) to keep the JVM quiet.
 */
public final class LogTiers implements SdkAutoCloseable {
  private static final String AGRONA_FLAG = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";

  private final long boot;
  private final String host;
  private final String region;
  private final InstantSource clock;
  private final int maxRecordBytes;
  private final Duration closeTimeout;
  private final AtomicLong sequence = new AtomicLong();
  private final Map<Tier, TierChannel> channels;
  private final Map<Tier, TierWorker> workers;
  private final Map<String, LogType> types;
  private final @Nullable Thread shutdownHook;
  private volatile boolean closed;
  private final Object closeLock = new Object();
  private boolean closeDone;

  private LogTiers(Builder b) {
    checkAgrona();
    this.boot = b.boot != 0 ? b.boot : nonZero(b.random);
    this.host = b.host != null ? b.host : localHost();
    this.region = Objects.requireNonNull(b.region);
    this.clock = b.clock;
    this.maxRecordBytes = b.maxRecordBytes;
    this.closeTimeout = b.closeTimeout;
    TierContext context = new TierContext(host, region, boot, clock,
        b.threads != null ? b.threads : daemonThreads(), b.listener, b.random);
    EnumMap<Tier, TierChannel> ch = new EnumMap<>(Tier.class);
    EnumMap<Tier, TierWorker> wk = new EnumMap<>(Tier.class);
    byte[] hostBytes = host.getBytes(StandardCharsets.UTF_8);
    int longestName = LogRecords.HEADER_LENGTH + hostBytes.length + LogRecords.MAX_NAME_BYTES;
    if (b.low != null) {
      TierChannel c = channel(Tier.LOW, b.low.ringBytes(), 0, longestName);
      ch.put(Tier.LOW, c);
      wk.put(Tier.LOW, new KinesisWorker(b.low, c, context));
    }
    if (b.mid != null) {
      TierChannel c = channel(Tier.MID, b.mid.ringBytes(), b.mid.blockWhenFull().toNanos(), longestName);
      ch.put(Tier.MID, c);
      wk.put(Tier.MID, new JournalWorker(b.mid, c, context));
    }
    if (b.high != null) {
      TierChannel c = channel(Tier.HIGH, b.high.ringBytes(), 0, longestName);
      ch.put(Tier.HIGH, c);
      wk.put(Tier.HIGH, new JournalWorker(b.high, c, context));
    }
    this.channels = ch;
    this.workers = wk;
    Map<String, LogType> t = new LinkedHashMap<>();
    for (Map.Entry<String, List<Tier>> route : b.routes.entrySet()) {
      TierChannel[] routed = route.getValue().stream().map(ch::get).toArray(TierChannel[]::new);
      t.put(route.getKey(), new LogType(this, route.getKey(), hostBytes, routed));
    }
    this.types = Map.copyOf(t);
    List<TierWorker> started = new ArrayList<>();
    try {
      for (TierWorker w : wk.values()) {
        w.start();
        started.add(w);
      }
    } catch (RuntimeException e) {
      // A tier that cannot start (its directory is locked, say) must not leave the others' threads behind.
      closed = true;
      for (TierWorker w : started) {
        w.close(System.nanoTime());
      }
      throw e;
    }
    // Started last: a constructor that throws leaves no thread behind.
    if (b.timestampResolution.isZero()) {
      this.ticker = null;
    } else {
      long resolution = b.timestampResolution.toNanos();
      this.tickedMicros = readClockMicros();
      Thread clockThread = Thread.ofPlatform().daemon().name("hardway-logtiers-clock")
          .unstarted(() -> tick(resolution));
      this.ticker = clockThread;
      clockThread.start();
    }
    if (b.shutdownHook) {
      this.shutdownHook = new Thread(this::close, "hardway-logtiers-shutdown");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    } else {
      this.shutdownHook = null;
    }
  }

  private TierChannel channel(Tier tier, int ringBytes, long blockNanos, int longestHeader) {
    TierChannel c = new TierChannel(tier, ringBytes, blockNanos);
    int longest = longestHeader + maxRecordBytes;
    if (longest > c.ring().maxMsgLength()) {
      throw new IllegalStateException(tier + " tier's ring of " + ringBytes + " bytes holds records of at most "
          + c.ring().maxMsgLength() + " bytes with their header (an eighth of it), less than maxRecordBytes ("
          + maxRecordBytes + ") plus the header; raise ringBytes or lower maxRecordBytes");
    }
    return c;
  }

  /**
   * A builder; {@link Builder#region} and at least one tier and route are required.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The append handle of a routed log type.
   *
   * @param name the type's name
   * @return its handle (the same object every time)
   * @throws IllegalArgumentException when the type has no route, naming it and the routed types
   */
  public LogType type(String name) {
    LogType t = types.get(name);
    if (t == null) {
      throw new IllegalArgumentException("log type '" + name + "' has no route; routed types: "
          + types.keySet().stream().sorted().toList());
    }
    return t;
  }

  /**
   * Waits until every record appended before this call is on local disk, forced to the device, in every tier with a
   * journal (the mid tier's guarantee: from here on, only the loss of the disk itself can lose it). Forces a sync at
   * once rather than waiting for the fsync policy.
   *
   * @param timeout how long to wait
   * @return true when durable in time; false on timeout (the records may still become durable later)
   * @throws InterruptedException when interrupted while waiting
   */
  public boolean awaitDurable(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean all = true;
    for (TierWorker w : workers.values()) {
      all &= w.awaitDurable(deadline);
    }
    return all;
  }

  /**
   * Counters of every configured tier.
   *
   * @return a snapshot
   */
  public LogTiersStats stats() {
    EnumMap<Tier, TierStats> m = new EnumMap<>(Tier.class);
    channels.forEach((tier, c) -> m.put(tier, c.counters().snapshot(c.ring().size())));
    return new LogTiersStats(m);
  }

  /**
   * The host name written into every record and key.
   *
   * @return the host
   */
  public String host() {
    return host;
  }

  /**
   * The region written into every key.
   *
   * @return the region
   */
  public String region() {
    return region;
  }

  /**
   * This instance's boot id: part of every record's identity.
   *
   * @return the boot id
   */
  public long boot() {
    return boot;
  }

  /**
   * Refuses further appends, drains every ring, delivers what can be delivered within the close timeout and stops
   * every thread. Idempotent; never throws.
   */
  @Override
  public void close() {
    synchronized (closeLock) {
      if (closeDone) {
        return;
      }
      closed = true;
      long deadline = System.nanoTime() + closeTimeout.toNanos();
      List<Thread> closers = new ArrayList<>();
      for (TierWorker w : workers.values()) {
        Thread t = Thread.ofPlatform().daemon().name("hardway-logtiers-close").unstarted(() -> w.close(deadline));
        closers.add(t);
        t.start();
      }
      for (Thread t : closers) {
        try {
          t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000 + 1_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      closeDone = true;
      if (ticker != null) {
        LockSupport.unpark(ticker);
      }
      if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
        try {
          Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
          // The JVM is already shutting down.
        }
      }
    }
  }

  @Override
  public String toString() {
    return "LogTiers[" + host + " " + region + " boot=" + Long.toHexString(boot) + " tiers=" + channels.keySet()
        + " types=" + types.keySet() + "]";
  }

  boolean isClosed() {
    return closed;
  }

  long nextSequence() {
    return sequence.getAndIncrement();
  }

  long nowMicros() {
    return ticker != null ? tickedMicros : readClockMicros();
  }

  /** The clock read exactly; on cloud VMs a clock read is tens of nanoseconds, the largest part of an append. */
  private long readClockMicros() {
    if (clock != SYSTEM) {
      Instant now = clock.instant();
      return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
    // The system clock without an Instant per append: wall time anchored to the monotonic clock, re-anchored every
    // 100 ms (so NTP slews and steps show within that), allocating one anchor then.
    Anchor a = anchor;
    long nanos = System.nanoTime();
    if (nanos - a.nanos > ANCHOR_NANOS) {
      Instant now = Instant.now();
      a = new Anchor(now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000, System.nanoTime());
      anchor = a;
    }
    return a.micros + (nanos - a.nanos) / 1_000;
  }

  /** Keeps {@link #tickedMicros} current, once per timestamp resolution. */
  private void tick(long resolutionNanos) {
    while (!closed) {
      Instant now = clock.instant();
      tickedMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
      LockSupport.parkNanos(resolutionNanos);
    }
  }

  private record Anchor(long micros, long nanos) {}

  private static final InstantSource SYSTEM = InstantSource.system();
  private static final long ANCHOR_NANOS = 100_000_000L;
  private volatile Anchor anchor = new Anchor(0, System.nanoTime() - 2 * ANCHOR_NANOS);
  private volatile long tickedMicros;
  private final @Nullable Thread ticker;

  int maxRecordBytes() {
    return maxRecordBytes;
  }

  private static void checkAgrona() {
    try {
      new UnsafeBuffer(ByteBuffer.allocateDirect(8)).putLongVolatile(0, 1);
    } catch (LinkageError e) {
      throw new IllegalStateException("logtiers' rings (Agrona) need the JVM flag " + AGRONA_FLAG
          + " (or =org.agrona on the module path): " + e, e);
    }
  }

  private static long nonZero(RandomGenerator random) {
    long b;
    do {
      b = random.nextLong();
    } while (b == 0);
    return b;
  }

  private static String localHost() {
    String env = System.getenv("HOSTNAME");
    try {
      String name = InetAddress.getLocalHost().getHostName();
      return name.isEmpty() ? (env != null ? env : "localhost") : name;
    } catch (UnknownHostException e) {
      return env != null && !env.isEmpty() ? env : "localhost";
    }
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "hardway-logtiers-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Builds a {@link LogTiers}; every setter checks its value. */
  public static final class Builder {
    private @Nullable String host;
    private @Nullable String region;
    private @Nullable KinesisTier low;
    private @Nullable S3Tier mid;
    private @Nullable S3Tier high;
    private final Map<String, List<Tier>> routes = new LinkedHashMap<>();
    private int maxRecordBytes = 1 << 20;
    private InstantSource clock = SYSTEM;
    private @Nullable ThreadFactory threads;
    private LogTiersListener listener = LogTiersListener.NONE;
    private RandomGenerator random = new java.security.SecureRandom();
    private Duration closeTimeout = Duration.ofSeconds(10);
    private boolean shutdownHook;
    private long boot;
    private Duration timestampResolution = Duration.ofMillis(1);

    private Builder() {}

    /**
     * The host name written into records and keys (default: the local host name).
     *
     * @param host 1-255 UTF-8 bytes
     * @return this builder
     */
    public Builder host(String host) {
      Objects.requireNonNull(host, "host");
      int bytes = host.getBytes(StandardCharsets.UTF_8).length;
      if (bytes == 0 || bytes > LogRecords.MAX_NAME_BYTES) {
        throw new IllegalArgumentException("host must be 1-255 UTF-8 bytes, got '" + host + "' (" + bytes + ")");
      }
      this.host = host;
      return this;
    }

    /**
     * The region the box runs in, written into keys (required).
     *
     * @param region e.g. {@code us-east-1}
     * @return this builder
     */
    public Builder region(String region) {
      this.region = ObjectKeys.checkRegion(Objects.requireNonNull(region, "region"));
      return this;
    }

    /**
     * The low tier (Kinesis).
     *
     * @param low its configuration
     * @return this builder
     */
    public Builder low(KinesisTier low) {
      this.low = Objects.requireNonNull(low, "low");
      return this;
    }

    /**
     * The mid tier (journal, main bucket).
     *
     * @param mid a configuration from {@link S3Tier#midBuilder()}
     * @return this builder
     */
    public Builder mid(S3Tier mid) {
      Objects.requireNonNull(mid, "mid");
      if (mid.tier() != Tier.MID) {
        throw new IllegalArgumentException("mid(...) needs a configuration from S3Tier.midBuilder(), got " + mid);
      }
      this.mid = mid;
      return this;
    }

    /**
     * The high tier (spool, source-region bucket).
     *
     * @param high a configuration from {@link S3Tier#highBuilder()}
     * @return this builder
     */
    public Builder high(S3Tier high) {
      Objects.requireNonNull(high, "high");
      if (high.tier() != Tier.HIGH) {
        throw new IllegalArgumentException("high(...) needs a configuration from S3Tier.highBuilder(), got " + high);
      }
      this.high = high;
      return this;
    }

    /**
     * Routes a log type to one or more tiers (replacing an earlier route of the same type).
     *
     * @param type 1-255 characters of {@code [A-Za-z0-9._-]}
     * @param tiers one or more tiers, each configured by the time of {@link #build()}
     * @return this builder
     */
    public Builder route(String type, Tier... tiers) {
      ObjectKeys.checkType(Objects.requireNonNull(type, "type"));
      if (tiers.length == 0) {
        throw new IllegalArgumentException("route for type '" + type + "' names no tier");
      }
      List<Tier> list = new ArrayList<>();
      for (Tier t : tiers) {
        if (!list.contains(Objects.requireNonNull(t, "tier"))) {
          list.add(t);
        }
      }
      routes.put(type, List.copyOf(list));
      return this;
    }

    /**
     * The largest payload an append takes (default 1 MiB); every ring must hold an eighth of its capacity at least
     * this much. Larger appends throw. The low tier drops (and counts) records over Kinesis's 1 MiB record limit.
     *
     * @param bytes 1 byte to 64 MiB
     * @return this builder
     */
    public Builder maxRecordBytes(int bytes) {
      if (bytes < 1 || bytes > (64 << 20)) {
        throw new IllegalArgumentException("maxRecordBytes must be between 1 and 64 MiB, got " + bytes);
      }
      this.maxRecordBytes = bytes;
      return this;
    }

    /**
     * The wall clock for timestamps, partitions and latency (default the system clock).
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Makes the background threads (default: daemon platform threads named {@code hardway-logtiers-N}).
     *
     * @param threads the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory threads) {
      this.threads = Objects.requireNonNull(threads, "threads");
      return this;
    }

    /**
     * Hears alarms and failures (default: nobody; they are in {@link LogTiers#stats()} either way).
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(LogTiersListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Randomness for the boot id and backoff jitter (default a {@link java.security.SecureRandom}).
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * A fixed boot id instead of a random one — for tests; two live instances must never share one.
     *
     * @param boot any non-zero value
     * @return this builder
     */
    public Builder boot(long boot) {
      if (boot == 0) {
        throw new IllegalArgumentException("boot must be non-zero, got 0");
      }
      this.boot = boot;
      return this;
    }

    /**
     * How long {@link LogTiers#close()} may take to drain and deliver (default 10 s): 0 to 10 min.
     *
     * @param timeout the deadline
     * @return this builder
     */
    public Builder closeTimeout(Duration timeout) {
      this.closeTimeout = Options.within("closeTimeout", timeout, Duration.ZERO, Duration.ofMinutes(10));
      return this;
    }

    /**
     * How precise record timestamps are (default 1 ms). With a resolution, a background thread reads the clock once
     * per resolution and appends read its value (one volatile read); with zero, every append reads the clock itself,
     * to the microsecond — which on cloud VMs costs tens of nanoseconds, half of an append. Timestamps are never
     * behind the clock by more than the resolution plus however long that thread waits for a core.
     *
     * @param resolution zero, or 10 µs to 1 s
     * @return this builder
     */
    public Builder timestampResolution(Duration resolution) {
      Objects.requireNonNull(resolution, "resolution");
      if (!resolution.isZero() && (resolution.compareTo(Duration.ofNanos(10_000)) < 0
          || resolution.compareTo(Duration.ofSeconds(1)) > 0)) {
        throw new IllegalArgumentException("timestampResolution must be zero or between 10 µs and 1 s, got "
            + resolution);
      }
      this.timestampResolution = resolution;
      return this;
    }

    /**
     * Closes the instance from a JVM shutdown hook (SIGTERM, {@code System.exit}), so a box being scaled away drains
     * within {@link #closeTimeout} (default off).
     *
     * @param enabled whether to register the hook
     * @return this builder
     */
    public Builder closeOnShutdown(boolean enabled) {
      this.shutdownHook = enabled;
      return this;
    }

    /**
     * Builds the instance and starts its tiers (each tier first recovers what an earlier run left in its directory).
     *
     * @return the instance
     * @throws IllegalStateException when the region, a tier or a route is missing, a route names an unconfigured
     *     tier, two tiers share a directory, or the Agrona flag is missing
     */
    public LogTiers build() {
      if (region == null) {
        throw new IllegalStateException("region is required (the region the box runs in, e.g. us-east-1)");
      }
      if (low == null && mid == null && high == null) {
        throw new IllegalStateException("configure at least one tier: low(...), mid(...) or high(...)");
      }
      if (routes.isEmpty()) {
        throw new IllegalStateException("route at least one log type: route(\"auction\", Tier.MID)");
      }
      routes.forEach((type, tiers) -> {
        for (Tier t : tiers) {
          boolean configured = switch (t) {
            case LOW -> low != null;
            case MID -> mid != null;
            case HIGH -> high != null;
          };
          if (!configured) {
            throw new IllegalStateException("type '" + type + "' is routed to the " + t + " tier, which is not "
                + "configured");
          }
        }
      });
      if (mid != null && high != null
          && mid.directory().toAbsolutePath().normalize().equals(high.directory().toAbsolutePath().normalize())) {
        throw new IllegalStateException("the mid and high tiers need directories of their own, both got "
            + mid.directory());
      }
      return new LogTiers(this);
    }
  }
}
