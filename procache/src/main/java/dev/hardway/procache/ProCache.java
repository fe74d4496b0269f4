package dev.hardway.procache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.RedisClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.HdrHistogram.ConcurrentHistogram;
import org.jspecify.annotations.Nullable;

/**
 * The reader, in every bidder: an in-process tier, then the regional Redis tier, then a read-through to the home
 * region, answering every {@link #get} within its deadline (default 20 ms) — with the value, a stale value, or
 * {@link Lookup.Freshness#UNKNOWN} — while a load that missed the deadline carries on and fills the cache.
 *
 * <pre>{@code
 * ProCache<String, Profile> profiles = ProCache.builder(profileCodec)
 *     .redis(regionalRedis, "profile:")
 *     .home(userId -> readProfileFromHomeRegion(userId))
 *     .build();
 * Lookup<Profile> p = profiles.get(userId);          // within 20 ms, always
 * if (p.hasValue()) bidWith(p.value());
 * }</pre>
 *
 * <p><b>Versions.</b> Every value carries a {@link Versioned#version()}; no tier ever replaces a value with an older
 * or equal version, whoever writes (a pushed update through {@link #apply}, a read-through fill, Redis).
 *
 * <p><b>Thread safety.</b> Every method is safe from any thread. A fresh in-process hit takes no lock and allocates
 * nothing. Loads are single-flight per key.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class ProCache<K, V> implements AutoCloseable {
  private final Cache<K, Entry<V>> local;
  private final @Nullable RedisTier<V> redis;
  private final @Nullable HomeLoader<K, V> home;
  private final Executor homeExecutor;
  private final @Nullable ExecutorService ownedExecutor;
  private final Function<K, String> keyFormat;
  private final long deadlineNanos;
  private final long refreshNanos;
  private final long maxStaleNanos;
  private final long absentTtlNanos;
  private final LongSupplier ticker;
  private final @Nullable LongSupplier customTicker;
  private final @Nullable Thread tickerThread;
  private final boolean recordStats;
  private final Breaker breaker;
  private final java.util.concurrent.Semaphore homePermits;
  private final ConcurrentHashMap<K, CompletableFuture<Lookup<V>>> loading = new ConcurrentHashMap<>();
  private volatile long coarseNanos = System.nanoTime();
  private volatile boolean closed;

  private final LongAdder localHits = new LongAdder();
  private final LongAdder redisHits = new LongAdder();
  private final LongAdder homeHits = new LongAdder();
  private final LongAdder staleAnswers = new LongAdder();
  private final LongAdder unknownAnswers = new LongAdder();
  private final LongAdder deadlineMisses = new LongAdder();
  private final LongAdder homeLoads = new LongAdder();
  private final LongAdder homeFailures = new LongAdder();
  private final LongAdder breakerRejections = new LongAdder();
  private final LongAdder redisFailures = new LongAdder();
  private final LongAdder appliedPushes = new LongAdder();
  private final LongAdder ignoredPushes = new LongAdder();
  private final LongAdder shedLoads = new LongAdder();
  private final LongAdder leaseWaits = new LongAdder();
  private static final long LEASE_POLL_MILLIS = 2;
  private final long leaseMillis;
  private final double homeReadUnitsPerLoad;
  /** Load latencies in µs, up to 10 min (recorded with {@code recordStats}). */
  private final ConcurrentHistogram redisLoadMicros = new ConcurrentHistogram(600_000_000L, 2);
  private final ConcurrentHistogram homeLoadMicros = new ConcurrentHistogram(600_000_000L, 2);

  private ProCache(Builder<K, V> b) {
    this.local = Caffeine.newBuilder().maximumSize(b.localMaximumSize).build();
    this.redis = b.redisClient == null ? null
        : new RedisTier<>(b.redisClient, b.redisPrefix, b.codec, b.redisTimeout, b.redisTtl);
    this.home = b.home;
    if (b.homeExecutor != null) {
      this.homeExecutor = b.homeExecutor;
      this.ownedExecutor = null;
    } else {
      ExecutorService e = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("hardway-procache-home-", 1)
          .factory());
      this.homeExecutor = e;
      this.ownedExecutor = e;
    }
    this.keyFormat = b.keyFormat;
    this.deadlineNanos = b.deadline.toNanos();
    this.refreshNanos = b.refreshAfter.toNanos();
    this.maxStaleNanos = b.maxStaleness.toNanos();
    this.absentTtlNanos = b.absentTtl.toNanos();
    this.recordStats = b.recordStats;
    this.breaker = new Breaker(b.breakerFailures, b.breakerOpenFor.toNanos());
    this.homePermits = new java.util.concurrent.Semaphore(b.maxHomeLoads);
    this.leaseMillis = b.homeLease.toMillis();
    this.homeReadUnitsPerLoad = b.homeReadUnits;
    this.customTicker = b.ticker;
    if (b.ticker != null) {
      this.ticker = b.ticker;
      this.tickerThread = null;
    } else {
      // A fresh hit reads the time to check the entry's age; a volatile read of a clock a thread keeps current
      // (millisecond resolution) costs far less than System.nanoTime() on a cloud VM.
      this.ticker = () -> coarseNanos;
      Thread t = Thread.ofPlatform().daemon().name("hardway-procache-clock").unstarted(this::tick);
      this.tickerThread = t;
      t.start();
    }
  }

  private long now() {
    LongSupplier custom = customTicker;
    return custom == null ? coarseNanos : custom.getAsLong();
  }

  private void tick() {
    while (!closed) {
      coarseNanos = System.nanoTime();
      LockSupport.parkNanos(1_000_000);
    }
  }

  /**
   * A builder.
   *
   * @param codec how values travel through Redis
   * @param <K> the key type
   * @param <V> the value type
   * @return a builder
   */
  public static <K, V> Builder<K, V> builder(ValueCodec<V> codec) {
    return new Builder<>(codec);
  }

  /**
   * The value of a key, within the deadline: a fresh in-process entry at once; otherwise the key is loaded (Redis,
   * then the home region; one load per key at a time) and the answer is whatever is known when the load finishes or
   * the deadline passes — a stale value (no older than the maximum staleness) or unknown — while the load goes on.
   *
   * @param key the key
   * @return the answer, never {@code null}
   */
  public Lookup<V> get(K key) {
    Entry<V> e = local.getIfPresent(key);
    if (e != null && now() - e.freshUntilNanos <= 0) {
      if (recordStats) {
        localHits.increment();
      }
      return e;
    }
    return miss(key, e);
  }

  /**
   * {@link #get} without blocking the caller: a fresh in-process entry completes at once; otherwise the future
   * completes with the loaded value, or with a stale value or unknown when the deadline passes first (timed by
   * {@link CompletableFuture#delayedExecutor}), while the load goes on.
   *
   * @param key the key
   * @return the answer within the deadline
   */
  public CompletableFuture<Lookup<V>> getAsync(K key) {
    Entry<V> e = local.getIfPresent(key);
    if (e != null && now() - e.freshUntilNanos <= 0) {
      count(localHits);
      return CompletableFuture.completedFuture(e);
    }
    CompletableFuture<Lookup<V>> load = load(key);
    boolean usable = e != null && ticker.getAsLong() - e.loadedAtNanos <= maxStaleNanos;
    if (usable && !load.isDone()) {
      count(staleAnswers);
      return CompletableFuture.completedFuture(e.stale());
    }
    CompletableFuture<Lookup<V>> answer = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicBoolean decided = new java.util.concurrent.atomic.AtomicBoolean();
    load.whenComplete((found, failure) -> {
      if (decided.compareAndSet(false, true)) {
        if (failure == null) {
          countSource(found);
          answer.complete(found);
        } else {
          answer.complete(fallback(e, usable));
        }
      }
    });
    if (!answer.isDone()) {
      CompletableFuture.delayedExecutor(deadlineNanos, TimeUnit.NANOSECONDS).execute(() -> {
        if (decided.compareAndSet(false, true)) {
          count(deadlineMisses);
          answer.complete(fallback(e, usable));
        }
      });
    }
    return answer;
  }

  private void countSource(Lookup<V> answer) {
    switch (answer.source()) {
      case REDIS -> count(redisHits);
      case HOME -> count(homeHits);
      default -> count(localHits);
    }
  }

  /**
   * The values of many keys within one deadline: fresh in-process entries at once, every other key loaded in
   * parallel (one load per key), each answered with what is known when its load finishes or the deadline passes.
   *
   * @param keys the keys
   * @return an answer per distinct key, in the keys' order
   */
  public Map<K, Lookup<V>> getAll(Iterable<? extends K> keys) {
    long start = System.nanoTime();
    Map<K, Lookup<V>> answers = new java.util.LinkedHashMap<>();
    Map<K, CompletableFuture<Lookup<V>>> loads = new java.util.LinkedHashMap<>();
    Map<K, @Nullable Entry<V>> olds = new java.util.HashMap<>();
    for (K key : keys) {
      if (answers.containsKey(key) || loads.containsKey(key)) {
        continue;
      }
      Entry<V> e = local.getIfPresent(key);
      if (e != null && now() - e.freshUntilNanos <= 0) {
        count(localHits);
        answers.put(key, e);
      } else {
        olds.put(key, e);
        loads.put(key, load(key));
      }
    }
    for (Map.Entry<K, CompletableFuture<Lookup<V>>> l : loads.entrySet()) {
      Entry<V> old = olds.get(l.getKey());
      boolean usable = old != null && now() - old.loadedAtNanos <= maxStaleNanos;
      try {
        Lookup<V> answer = l.getValue().get(Math.max(0, deadlineNanos - (System.nanoTime() - start)),
            TimeUnit.NANOSECONDS);
        countSource(answer);
        answers.put(l.getKey(), answer);
      } catch (TimeoutException e) {
        count(deadlineMisses);
        answers.put(l.getKey(), fallback(old, usable));
      } catch (ExecutionException e) {
        answers.put(l.getKey(), fallback(old, usable));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        answers.put(l.getKey(), fallback(old, usable));
      }
    }
    // In the keys' order.
    Map<K, Lookup<V>> ordered = new java.util.LinkedHashMap<>();
    for (K key : keys) {
      Lookup<V> a = answers.get(key);
      if (a != null) {
        ordered.putIfAbsent(key, a);
      }
    }
    return ordered;
  }

  private Lookup<V> miss(K key, @Nullable Entry<V> old) {
    long start = System.nanoTime();
    CompletableFuture<Lookup<V>> load = load(key);
    boolean usable = old != null && ticker.getAsLong() - old.loadedAtNanos <= maxStaleNanos;
    if (usable && !load.isDone()) {
      // Stale while revalidate: the refresh goes on in the background.
      count(staleAnswers);
      return old.stale();
    }
    try {
      Lookup<V> answer = load.get(Math.max(0, deadlineNanos - (System.nanoTime() - start)), TimeUnit.NANOSECONDS);
      countSource(answer);
      return answer;
    } catch (TimeoutException e) {
      count(deadlineMisses);
      return fallback(old, usable);
    } catch (ExecutionException e) {
      return fallback(old, usable);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fallback(old, usable);
    }
  }

  @SuppressWarnings("unchecked")
  private Lookup<V> fallback(@Nullable Entry<V> old, boolean usable) {
    if (usable && old != null) {
      count(staleAnswers);
      return old.stale();
    }
    count(unknownAnswers);
    return (Lookup<V>) Entry.UNKNOWN;
  }

  private void record(ConcurrentHistogram h, long startNanos) {
    if (recordStats) {
      h.recordValue(Math.min(h.getHighestTrackableValue(), Math.max(0, (System.nanoTime() - startNanos) / 1_000)));
    }
  }

  private void count(LongAdder counter) {
    if (recordStats) {
      counter.increment();
    }
  }

  /** One load per key at a time: Redis first, then the home region. */
  private CompletableFuture<Lookup<V>> load(K key) {
    CompletableFuture<Lookup<V>> mine = new CompletableFuture<>();
    CompletableFuture<Lookup<V>> running = loading.putIfAbsent(key, mine);
    if (running != null) {
      return running;
    }
    String name = keyFormat.apply(key);
    long redisStart = System.nanoTime();
    CompletableFuture<@Nullable Versioned<V>> fromRedis = redis == null ? CompletableFuture.completedFuture(null)
        : redis.get(name).handle((found, failure) -> {
          if (failure != null) {
            redisFailures.increment();
            return null;
          }
          record(redisLoadMicros, redisStart);
          return found;
        });
    fromRedis.thenCompose(found -> found != null
            ? CompletableFuture.completedFuture(install(key, found, Lookup.Source.REDIS))
            : loadHome(key, name))
        .whenComplete((answer, failure) -> {
          loading.remove(key, mine);
          if (failure != null) {
            mine.completeExceptionally(failure);
          } else {
            mine.complete(answer);
          }
        });
    return mine;
  }

  /**
   * With Redis, one process of the region loads a key from home per lease window; the others poll Redis for what it
   * stores, until their deadline — so a hot key that falls out costs the home region about one read per region.
   */
  private CompletableFuture<Lookup<V>> loadHome(K key, String name) {
    RedisTier<V> r = redis;
    if (r == null || home == null || leaseMillis == 0) {
      return loadHomeNow(key, name);
    }
    return r.tryLease(name, leaseMillis).handle((won, failure) -> failure != null || Boolean.TRUE.equals(won))
        .thenCompose(won -> won ? loadHomeNow(key, name) : awaitLeaseHolder(key, name, System.nanoTime()));
  }

  private CompletableFuture<Lookup<V>> awaitLeaseHolder(K key, String name, long startNanos) {
    RedisTier<V> r = java.util.Objects.requireNonNull(redis);
    leaseWaits.increment();
    return r.get(name).handle((found, failure) -> found).thenCompose(found -> {
      if (found != null) {
        return CompletableFuture.completedFuture(install(key, found, Lookup.Source.REDIS));
      }
      if (System.nanoTime() - startNanos > 2 * deadlineNanos) {
        return CompletableFuture.failedFuture(new IllegalStateException("another process holds the home-read lease"));
      }
      return CompletableFuture.supplyAsync(() -> null,
              CompletableFuture.delayedExecutor(LEASE_POLL_MILLIS, TimeUnit.MILLISECONDS))
          .thenCompose(ignored -> awaitLeaseHolder(key, name, startNanos));
    });
  }

  private CompletableFuture<Lookup<V>> loadHomeNow(K key, String name) {
    HomeLoader<K, V> loader = home;
    if (loader == null) {
      // No home region: Redis's silence is the answer.
      return CompletableFuture.completedFuture(install(key, Versioned.absent(0, 0), Lookup.Source.REDIS));
    }
    if (!breaker.allow(System.nanoTime())) {
      breakerRejections.increment();
      return CompletableFuture.failedFuture(new IllegalStateException("the breaker toward the home region is open"));
    }
    if (!homePermits.tryAcquire()) {
      // A slow home region must not pile up threads: beyond the bound a miss is answered from what is known.
      shedLoads.increment();
      return CompletableFuture.failedFuture(new IllegalStateException("too many home reads in flight"));
    }
    homeLoads.increment();
    CompletableFuture<Versioned<V>> read;
    try {
      read = CompletableFuture.supplyAsync(() -> {
        try {
          long homeStart = System.nanoTime();
          Versioned<V> v = loader.load(key);
          record(homeLoadMicros, homeStart);
          breaker.success();
          return Objects.requireNonNull(v, "HomeLoader returned null; return Versioned.absent(...) instead");
        } catch (Exception e) {
          homeFailures.increment();
          breaker.failure(System.nanoTime());
          throw new java.util.concurrent.CompletionException(e);
        }
      }, homeExecutor);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      homePermits.release();
      return CompletableFuture.failedFuture(e);
    }
    read.whenComplete((v, t) -> homePermits.release());
    return read.thenCompose(v -> {
      RedisTier<V> r = redis;
      if (r == null) {
        return CompletableFuture.completedFuture(install(key, v, Lookup.Source.HOME));
      }
      // Redis first, then the in-process tier: once this answer is given, a later read of Redis (after an eviction
      // here) cannot find an older version there than the one answered now.
      return r.putIfNewer(name, v).handle((applied, failure) -> {
        if (failure != null) {
          redisFailures.increment();
          return CompletableFuture.completedFuture(install(key, v, Lookup.Source.HOME));
        }
        if (applied) {
          return CompletableFuture.completedFuture(install(key, v, Lookup.Source.HOME));
        }
        // Redis holds the same or a newer version (a push overtook this read): that one is the answer, never ours.
        return r.get(name).handle((current, error) -> install(key,
            current != null && current.version() > v.version() ? current : v,
            current != null && current.version() > v.version() ? Lookup.Source.REDIS : Lookup.Source.HOME));
      }).thenCompose(f -> f);
    });
  }

  /** Puts a value in the in-process tier unless it holds a newer one; returns what the tier holds afterwards. */
  private Lookup<V> install(K key, Versioned<V> value, Lookup.Source source) {
    long now = ticker.getAsLong();
    Entry<V> result = local.asMap().compute(key, (k, old) -> {
      if (old == null || value.version() > old.version) {
        return new Entry<>(value, now, refreshNanos, absentTtlNanos, source);
      }
      // The same version again (a refresh, or a duplicate push) confirms the entry: it is fresh again, unchanged.
      return value.version() == old.version
          ? new Entry<>(new Versioned<>(old.value, old.version, old.writtenAtMicros), now, refreshNanos, absentTtlNanos,
              old.source) : old;
    });
    return Objects.requireNonNull(result);
  }

  /**
   * Applies a pushed value (from the stream's writer, or a warm-up): into Redis unless it holds a newer version, and
   * into the in-process tier only where that tier already holds the key at an older version. A key the in-process
   * tier does not hold (never read, evicted, invalidated) is not added: a late, older delivery must not come back
   * through a forgotten key — the next read of it finds the newest version in Redis or the home region. Duplicates
   * and out-of-order deliveries are harmless.
   *
   * @param key the key
   * @param value the value with its version
   * @return a future that completes when Redis answered (at once without Redis): true when Redis took it
   */
  public CompletableFuture<Boolean> apply(K key, Versioned<V> value) {
    long now = ticker.getAsLong();
    boolean[] replaced = {false};
    local.asMap().computeIfPresent(key, (k, old) -> {
      if (value.version() > old.version) {
        replaced[0] = true;
        return new Entry<>(value, now, refreshNanos, absentTtlNanos, Lookup.Source.LOCAL);
      }
      return old;
    });
    (replaced[0] ? appliedPushes : ignoredPushes).increment();
    RedisTier<V> r = redis;
    return r == null ? CompletableFuture.completedFuture(true) : r.putIfNewer(keyFormat.apply(key), value);
  }

  /**
   * Fills the Redis tier of a new or emptied region, from a scan of the home table or a peer region: each value goes
   * in with the same version compare-and-set as every other write, so a newer value the stream's writer put there
   * meanwhile always wins. The in-process tier is left alone. All writes are in flight at once (pipelined).
   *
   * @param values the values, with their versions
   * @return a future of how many Redis took (the rest were not newer than what it held)
   * @throws IllegalStateException when the cache has no Redis tier
   */
  public CompletableFuture<Long> warm(Iterable<? extends Map.Entry<K, Versioned<V>>> values) {
    RedisTier<V> r = redis;
    if (r == null) {
      throw new IllegalStateException("warm() fills the Redis tier, and this cache has none");
    }
    List<CompletableFuture<Boolean>> writes = new ArrayList<>();
    for (Map.Entry<K, Versioned<V>> e : values) {
      writes.add(r.putIfNewer(keyFormat.apply(e.getKey()), e.getValue()));
    }
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
        .thenApply(ignored -> writes.stream().filter(CompletableFuture::join).count());
  }

  /**
   * Drops a key from the in-process tier only (the next get reads Redis).
   *
   * @param key the key
   */
  public void invalidateLocal(K key) {
    local.invalidate(key);
  }

  /**
   * The counters.
   *
   * @return a snapshot
   */
  public ProCacheStats stats() {
    return new ProCacheStats(localHits.sum(), redisHits.sum(), homeHits.sum(), staleAnswers.sum(),
        unknownAnswers.sum(), deadlineMisses.sum(), homeLoads.sum(), homeFailures.sum(), breakerRejections.sum(),
        redisFailures.sum(), appliedPushes.sum(), ignoredPushes.sum(), shedLoads.sum(), homePermits.availablePermits(),
        leaseWaits.sum(), homeLoads.sum() * homeReadUnitsPerLoad, ProCacheStats.Latency.of(redisLoadMicros),
        ProCacheStats.Latency.of(homeLoadMicros));
  }

  /** Closes the Redis connection and the cache's own threads (not the Redis client or a given executor). */
  @Override
  public void close() {
    closed = true;
    if (redis != null) {
      redis.close();
    }
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
    if (tickerThread != null) {
      LockSupport.unpark(tickerThread);
    }
  }

  /** Consecutive home failures open it; after the open time one probe goes through (half open). */
  private static final class Breaker {
    private final int threshold;
    private final long openNanos;
    private final AtomicInteger failures = new AtomicInteger();
    private final AtomicLong openUntil = new AtomicLong(Long.MIN_VALUE);

    Breaker(int threshold, long openNanos) {
      this.threshold = threshold;
      this.openNanos = openNanos;
    }

    boolean allow(long now) {
      long until = openUntil.get();
      if (until == Long.MIN_VALUE || now - until >= 0 && openUntil.compareAndSet(until, now + openNanos)) {
        // Closed, or the open time is over and this caller is the one probe (the next probe waits another period).
        return true;
      }
      return false;
    }

    void success() {
      failures.set(0);
      openUntil.set(Long.MIN_VALUE);
    }

    void failure(long now) {
      if (failures.incrementAndGet() >= threshold) {
        openUntil.set(now + openNanos);
      }
    }
  }

  /**
   * Builds a {@link ProCache}; every setter checks its value.
   *
   * @param <K> the key type
   * @param <V> the value type
   */
  public static final class Builder<K, V> {
    private final ValueCodec<V> codec;
    private long localMaximumSize = 100_000;
    private Duration deadline = Duration.ofMillis(20);
    private Duration refreshAfter = Duration.ofSeconds(1);
    private Duration maxStaleness = Duration.ofMinutes(10);
    private Duration absentTtl = Duration.ofSeconds(30);
    private @Nullable RedisClient redisClient;
    private String redisPrefix = "";
    private Duration redisTimeout = Duration.ofMillis(50);
    private Duration redisTtl = Duration.ZERO;
    private @Nullable HomeLoader<K, V> home;
    private @Nullable Executor homeExecutor;
    private Function<K, String> keyFormat = String::valueOf;
    private boolean recordStats;
    private int breakerFailures = 5;
    private int maxHomeLoads = 64;
    private Duration homeLease = Duration.ofSeconds(2);
    private double homeReadUnits = 0.5;
    private Duration breakerOpenFor = Duration.ofSeconds(5);
    private @Nullable LongSupplier ticker;

    private Builder(ValueCodec<V> codec) {
      this.codec = Objects.requireNonNull(codec, "codec");
    }

    /**
     * How many entries the in-process tier holds (default 100,000), evicted by Caffeine's W-TinyLFU.
     *
     * @param size 1 to 2<sup>40</sup>
     * @return this builder
     */
    public Builder<K, V> localMaximumSize(long size) {
      if (size < 1 || size > (1L << 40)) {
        throw new IllegalArgumentException("localMaximumSize must be between 1 and 2^40, got " + size);
      }
      this.localMaximumSize = size;
      return this;
    }

    /**
     * How long a get may take (default 20 ms): 1 ms to 10 s.
     *
     * @param deadline the deadline
     * @return this builder
     */
    public Builder<K, V> deadline(Duration deadline) {
      this.deadline = within("deadline", deadline, Duration.ofMillis(1), Duration.ofSeconds(10));
      return this;
    }

    /**
     * How old an in-process entry may get before a get refreshes it from Redis (default 1 s): 1 ms to 1 day.
     *
     * @param age the refresh interval
     * @return this builder
     */
    public Builder<K, V> refreshAfter(Duration age) {
      this.refreshAfter = within("refreshAfter", age, Duration.ofMillis(1), Duration.ofDays(1));
      return this;
    }

    /**
     * How old a value may be and still be served when fresher is not to be had in time (default 10 min).
     *
     * @param age 0 to 7 days
     * @return this builder
     */
    public Builder<K, V> maxStaleness(Duration age) {
      this.maxStaleness = within("maxStaleness", age, Duration.ZERO, Duration.ofDays(7));
      return this;
    }

    /**
     * How long a key known to have no value stays known as such in-process (default 30 s).
     *
     * @param ttl 0 to 1 day
     * @return this builder
     */
    public Builder<K, V> absentTtl(Duration ttl) {
      this.absentTtl = within("absentTtl", ttl, Duration.ZERO, Duration.ofDays(1));
      return this;
    }

    /**
     * The regional Redis tier (default none).
     *
     * @param client a Lettuce client of the region's Redis (not closed by the cache)
     * @param keyPrefix prefix of every Redis key, e.g. {@code profile:}
     * @return this builder
     */
    public Builder<K, V> redis(RedisClient client, String keyPrefix) {
      this.redisClient = Objects.requireNonNull(client, "client");
      this.redisPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
      return this;
    }

    /**
     * How long a Redis call may take before it counts as failed (default 50 ms): 1 ms to 10 s.
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder<K, V> redisTimeout(Duration timeout) {
      this.redisTimeout = within("redisTimeout", timeout, Duration.ofMillis(1), Duration.ofSeconds(10));
      return this;
    }

    /**
     * The read-through to the home region (default none: Redis is the last tier).
     *
     * @param loader reads a key from the home region
     * @return this builder
     */
    public Builder<K, V> home(HomeLoader<K, V> loader) {
      this.home = Objects.requireNonNull(loader, "loader");
      return this;
    }

    /**
     * Where home reads run (default a virtual thread per read, stopped by {@link ProCache#close()}).
     *
     * @param executor the executor
     * @return this builder
     */
    public Builder<K, V> homeExecutor(Executor executor) {
      this.homeExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * How a key is named in Redis after the prefix (default {@code String.valueOf}).
     *
     * @param format the key's name
     * @return this builder
     */
    public Builder<K, V> keyFormat(Function<K, String> format) {
      this.keyFormat = Objects.requireNonNull(format, "format");
      return this;
    }

    /**
     * Counts hits per tier and answers by kind (off by default: a counter on the hit path costs a few ns). Failures
     * are always counted.
     *
     * @return this builder
     */
    public Builder<K, V> recordStats() {
      this.recordStats = true;
      return this;
    }

    /**
     * The breaker toward the home region: open after this many failures in a row, for this long, then one probe.
     *
     * @param failures 1 to 1000 (default 5)
     * @param openFor 1 ms to 10 min (default 5 s)
     * @return this builder
     */
    public Builder<K, V> breaker(int failures, Duration openFor) {
      if (failures < 1 || failures > 1000) {
        throw new IllegalArgumentException("breaker failures must be between 1 and 1000, got " + failures);
      }
      this.breakerFailures = failures;
      this.breakerOpenFor = within("breaker openFor", openFor, Duration.ofMillis(1), Duration.ofMinutes(10));
      return this;
    }

    /**
     * The most home reads in flight at once (default 64): beyond it a miss is answered stale or unknown at once.
     *
     * @param loads 1 to 100,000
     * @return this builder
     */
    public Builder<K, V> maxHomeLoadsInFlight(int loads) {
      if (loads < 1 || loads > 100_000) {
        throw new IllegalArgumentException("maxHomeLoadsInFlight must be between 1 and 100000, got " + loads);
      }
      this.maxHomeLoads = loads;
      return this;
    }

    /**
     * The region-wide lease on reading a key from home (default 2 s; zero switches it off): with Redis, only the
     * process that takes a key's lease reads it from home, the others wait for the value in Redis.
     *
     * @param lease 0 to 1 min
     * @return this builder
     */
    public Builder<K, V> homeLease(Duration lease) {
      this.homeLease = within("homeLease", lease, Duration.ZERO, Duration.ofMinutes(1));
      return this;
    }

    /**
     * The read capacity units one home load costs, for {@link ProCacheStats#homeReadUnits()} (default 0.5: one
     * eventually consistent read of an item up to 4 KiB; a loader that reads several items, or reads strongly
     * consistent, sets its own figure).
     *
     * @param units 0 to 10,000
     * @return this builder
     */
    public Builder<K, V> homeReadUnits(double units) {
      if (!(units >= 0 && units <= 10_000)) {
        throw new IllegalArgumentException("homeReadUnits must be between 0 and 10000, got " + units);
      }
      this.homeReadUnits = units;
      return this;
    }

    /**
     * A nanosecond clock for entry ages, instead of the cache's own millisecond clock thread — for tests.
     *
     * @param ticker monotonic nanoseconds
     * @return this builder
     */
    public Builder<K, V> ticker(LongSupplier ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Builds the cache (and connects to Redis when configured).
     *
     * @return the cache
     */
    public ProCache<K, V> build() {
      return new ProCache<>(this);
    }

    private static Duration within(String option, Duration value, Duration min, Duration max) {
      Objects.requireNonNull(value, option);
      if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
        throw new IllegalArgumentException(option + " must be between " + min + " and " + max + ", got " + value);
      }
      return value;
    }
  }
}
