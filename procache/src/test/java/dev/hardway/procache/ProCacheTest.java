package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The reader against the test kit's Redis, with a home region played by a map and the fault proxy. */
@LocalAwsTest({Service.REDIS})
class ProCacheTest {
  private RedisClient redis;
  private String prefix;
  private final ConcurrentHashMap<String, Versioned<String>> homeTable = new ConcurrentHashMap<>();
  private final AtomicInteger homeReads = new AtomicInteger();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  @BeforeEach
  void setUp(LocalAws aws, Fresh fresh) {
    redis = RedisClient.create(RedisURI.create(aws.endpoint(Service.REDIS).toString()));
    prefix = fresh.name("p") + ":";
  }

  @AfterEach
  void tearDown() {
    redis.shutdown();
  }

  private Versioned<String> home(String key) {
    homeReads.incrementAndGet();
    Versioned<String> v = homeTable.get(key);
    return v != null ? v : Versioned.absent(0, 0);
  }

  private ProCache.Builder<String, String> cache() {
    return ProCache.<String, String>builder(ValueCodec.utf8()).redis(redis, prefix).home(this::home).recordStats()
        .ticker(now::get).deadline(Duration.ofSeconds(2));
  }

  @Test
  void aMiss_readsThroughToHome_fillsRedis_andTheNextGetIsALocalHitWithoutAllocation() {
    homeTable.put("u1", Versioned.of("alice", 7, 100));
    try (ProCache<String, String> c = cache().build()) {
      Lookup<String> first = c.get("u1");
      assertThat(first.freshness()).isEqualTo(Lookup.Freshness.FRESH);
      assertThat(first.value()).isEqualTo("alice");
      assertThat(first.source()).isEqualTo(Lookup.Source.HOME);
      Lookup<String> second = c.get("u1");
      assertThat(second).isSameAs(first);
      assertThat(homeReads).hasValue(1);
      assertThat(c.stats().homeHits()).isEqualTo(1);
      assertThat(c.stats().localHits()).isEqualTo(1);
    }
    // Redis was filled by the read-through: another reader finds it there, without going home.
    try (ProCache<String, String> other = cache().build()) {
      await().atMost(Duration.ofSeconds(5)).until(() -> {
        other.invalidateLocal("u1");
        return other.get("u1").source() == Lookup.Source.REDIS;
      });
      assertThat(other.get("u1").value()).isEqualTo("alice");
      assertThat(homeReads).hasValue(1);
    }
  }

  @Test
  void anOlderVersion_neverReplacesANewerOne_inEitherTier() {
    homeTable.put("u2", Versioned.of("first", 1, 1));
    try (ProCache<String, String> c = cache().build()) {
      assertThat(c.get("u2").value()).isEqualTo("first");
      assertThat(c.apply("u2", Versioned.of("new", 5, 1)).join()).isTrue();
      assertThat(c.apply("u2", Versioned.of("old", 3, 1)).join()).isFalse();
      assertThat(c.apply("u2", Versioned.of("same", 5, 1)).join()).isFalse();
      assertThat(c.get("u2").value()).isEqualTo("new");
      assertThat(c.stats().ignoredPushes()).isEqualTo(2);
      c.invalidateLocal("u2");
      assertThat(c.get("u2").value()).isEqualTo("new");
      assertThat(c.apply("u2", Versioned.absent(9, 2)).join()).isTrue();
      assertThat(c.get("u2").freshness()).isEqualTo(Lookup.Freshness.ABSENT);
      c.invalidateLocal("u2");
      Lookup<String> fromRedis = c.get("u2");
      assertThat(fromRedis.freshness()).isEqualTo(Lookup.Freshness.ABSENT);
      assertThat(fromRedis.version()).isEqualTo(9);
      assertThat(homeReads).hasValue(1);
    }
  }

  @Test
  void aSlowHome_isAnsweredUnknownWithinTheDeadline_andTheLoadStillFillsTheCache() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    homeTable.put("u3", Versioned.of("late", 1, 1));
    try (ProCache<String, String> c = ProCache.<String, String>builder(ValueCodec.utf8()).recordStats()
        .ticker(now::get).deadline(Duration.ofMillis(20)).home(k -> {
          release.await();
          return home(k);
        }).build()) {
      long start = System.nanoTime();
      Lookup<String> answer = c.get("u3");
      // Functional, not a timing figure: the caller did not wait for a load that had not finished.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
      assertThat(answer.freshness()).isEqualTo(Lookup.Freshness.UNKNOWN);
      assertThat(c.stats().deadlineMisses()).isEqualTo(1);
      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> "late".equals(c.get("u3").value()));
    }
  }

  @Test
  void getAsync_completesUnknownAtTheDeadline_thenTheValue_andRecordsLoadLatencyAndReadUnits() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    homeTable.put("u4", Versioned.of("later", 1, 1));
    try (ProCache<String, String> c = cache().redis(redis, prefix).deadline(Duration.ofMillis(20))
        .homeReadUnits(1.5).home(k -> {
          release.await();
          return home(k);
        }).build()) {
      CompletableFuture<Lookup<String>> first = c.getAsync("u4");
      assertThat(first.get(5, TimeUnit.SECONDS).freshness()).isEqualTo(Lookup.Freshness.UNKNOWN);
      assertThat(c.stats().deadlineMisses()).isEqualTo(1);
      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> "later".equals(c.getAsync("u4").join().value()));
      ProCacheStats stats = c.stats();
      assertThat(stats.homeLoads()).isEqualTo(1);
      assertThat(stats.homeReadUnits()).isEqualTo(1.5);
      assertThat(stats.homeLoadLatency().count()).isEqualTo(1);
      assertThat(stats.homeLoadLatency().maxMicros()).isPositive();
      assertThat(stats.redisLoadLatency().count()).isEqualTo(1);
      // A fresh hit completes at once, from the in-process tier.
      long localHits = c.stats().localHits();
      assertThat(c.getAsync("u4").isDone()).isTrue();
      assertThat(c.stats().localHits()).isEqualTo(localHits + 1);
    }
  }

  @Test
  void manyThreadsMissingOneKey_causeOneHomeRead() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    homeTable.put("hot", Versioned.of("v", 1, 1));
    try (ProCache<String, String> c = cache().home(k -> {
      release.await();
      return home(k);
    }).build()) {
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        threads.add(Thread.ofPlatform().start(() -> c.get("hot")));
      }
      Thread.sleep(100);
      release.countDown();
      for (Thread t : threads) {
        t.join(5_000);
      }
      assertThat(homeReads).hasValue(1);
      assertThat(c.get("hot").value()).isEqualTo("v");
    }
  }

  @Test
  void whenHomeFails_aStaleValueIsServed_andTheBreakerOpens() {
    homeTable.put("u4", Versioned.of("kept", 1, 1));
    AtomicInteger calls = new AtomicInteger();
    try (ProCache<String, String> c = ProCache.<String, String>builder(ValueCodec.utf8()).recordStats()
        .ticker(now::get).deadline(Duration.ofSeconds(2)).breaker(3, Duration.ofMinutes(1)).home(k -> {
          if (calls.incrementAndGet() > 1) {
            throw new IllegalStateException("home region unreachable");
          }
          return home(k);
        }).build()) {
      assertThat(c.get("u4").value()).isEqualTo("kept");
      now.addAndGet(Duration.ofSeconds(5).toNanos());
      // Every get answers the old value at once while a refresh fails behind it, until the breaker opens.
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        Lookup<String> answer = c.get("u4");
        assertThat(answer.freshness()).isEqualTo(Lookup.Freshness.STALE);
        assertThat(answer.value()).isEqualTo("kept");
        assertThat(c.stats().breakerRejections()).isPositive();
      });
      assertThat(c.stats().homeFailures()).isEqualTo(3);
      // Past the maximum staleness there is nothing left to serve.
      now.addAndGet(Duration.ofMinutes(11).toNanos());
      assertThat(c.get("u4").freshness()).isEqualTo(Lookup.Freshness.UNKNOWN);
    }
  }

  @Test
  void aLostRedis_isCounted_andReadsGoHome(LocalAws aws) {
    FaultProxy faults = aws.faults(Service.REDIS);
    RedisClient viaProxy = RedisClient.create(RedisURI.create("redis://" + faults.uri().getHost() + ":"
        + faults.uri().getPort()));
    homeTable.put("u5", Versioned.of("home", 2, 1));
    try (ProCache<String, String> c = ProCache.<String, String>builder(ValueCodec.utf8()).redis(viaProxy, prefix)
        .home(this::home).recordStats().ticker(now::get).deadline(Duration.ofSeconds(2)).build()) {
      faults.blackHole(true);
      assertThat(c.get("u5").value()).isEqualTo("home");
      assertThat(c.stats().redisFailures()).isPositive();
      assertThat(c.stats().homeHits()).isEqualTo(1);
    } finally {
      faults.blackHole(false);
      viaProxy.shutdown();
    }
  }

  @Test
  void aReadMissFillRacingAPushedUpdate_neverLetsTheOlderValueWin_10000Times() throws Exception {
    int races = 10_000;
    // Each race is forced into the worst order: the fill reads the home region (old value), then the push of the
    // new value lands in Redis and in-process, then the fill tries to store what it read.
    Map<String, CountDownLatch> homeRead = new ConcurrentHashMap<>();
    Map<String, CountDownLatch> pushed = new ConcurrentHashMap<>();
    for (int i = 0; i < races; i++) {
      homeTable.put("race" + i, Versioned.of("old", 1, 1));
      homeRead.put("race" + i, new CountDownLatch(1));
      pushed.put("race" + i, new CountDownLatch(1));
    }
    // 10,000 races put 40,000 Redis calls in flight at once on one connection: a generous Redis timeout.
    try (ProCache<String, String> c = cache().maxHomeLoadsInFlight(races).deadline(Duration.ofMillis(1))
        .redisTimeout(Duration.ofSeconds(10)).home(k -> {
          Versioned<String> read = home(k);
          homeRead.get(k).countDown();
          pushed.get(k).await(30, java.util.concurrent.TimeUnit.SECONDS);
          return read;
        }).build()) {
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < races; i++) {
        String key = "race" + i;
        threads.add(Thread.ofVirtual().start(() -> c.get(key)));
        threads.add(Thread.ofVirtual().start(() -> {
          try {
            homeRead.get(key).await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
          try {
            homeTable.put(key, Versioned.of("new", 2, 2));
            c.apply(key, Versioned.of("new", 2, 2)).join();
          } finally {
            pushed.get(key).countDown();
          }
        }));
      }
      for (Thread t : threads) {
        t.join(60_000);
      }
      // Every fill has finished (a home read, then Redis's compare-and-set and, when it lost, a read of Redis) before
      // the answers are counted: keys still loading answer UNKNOWN within the 1 ms deadline, so they are asked again.
      await().atMost(Duration.ofSeconds(30)).until(() -> c.stats().homePermitsFree() == races);
      assertThat(c.stats().redisFailures()).isZero();
      Map<String, String> answers = new java.util.HashMap<>();
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (answers.size() < races && System.nanoTime() < until) {
        for (int i = 0; i < races; i++) {
          Lookup<String> answer = c.get("race" + i);
          if (answer.freshness() != Lookup.Freshness.UNKNOWN) {
            answers.putIfAbsent("race" + i, answer.value());
          }
        }
        Thread.sleep(10);
      }
      assertThat(answers).hasSize(races);
      long stale = answers.values().stream().filter(v -> !"new".equals(v)).count();
      assertThat(stale).as("keys left at the older value").isZero();
    }
  }

  @Test
  void aRedisLostAndBackEmpty_isServedLocally_thenWarmedUp_withoutLettingAnOlderValueWin(LocalAws aws) {
    FaultProxy faults = aws.faults(Service.REDIS);
    RedisClient viaProxy = RedisClient.create(RedisURI.create("redis://" + faults.uri().getHost() + ":"
        + faults.uri().getPort()));
    for (int i = 0; i < 20; i++) {
      homeTable.put("w" + i, Versioned.of("v1", 1, 1));
    }
    try (ProCache<String, String> c = ProCache.<String, String>builder(ValueCodec.utf8()).redis(viaProxy, prefix)
        .home(this::home).recordStats().ticker(now::get).deadline(Duration.ofSeconds(2))
        .redisTimeout(Duration.ofMillis(200)).build()) {
      for (int i = 0; i < 20; i++) {
        assertThat(c.get("w" + i).value()).isEqualTo("v1");
      }
      int homeBefore = homeReads.get();
      // Redis goes away: every key the in-process tier holds is still a hit, and no read goes home.
      faults.blackHole(true);
      for (int i = 0; i < 20; i++) {
        assertThat(c.get("w" + i).value()).isEqualTo("v1");
      }
      assertThat(homeReads).hasValue(homeBefore);
      faults.blackHole(false);
      faults.resetConnections();
      // It comes back empty; meanwhile the stream's writer stored a newer w0 there.
      try (var direct = redis.connect()) {
        for (int i = 0; i < 20; i++) {
          direct.sync().del(prefix + "w" + i);
        }
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        try {
          return c.apply("w0", Versioned.of("v2", 2, 2)).join();
        } catch (RuntimeException reconnecting) {
          return false;
        }
      });
      // Warm-up from a scan of the home table (version 1 everywhere): w0 keeps its newer version.
      List<Map.Entry<String, Versioned<String>>> scan = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        scan.add(Map.entry("w" + i, Versioned.of("v1", 1, 1)));
      }
      assertThat(c.warm(scan).join()).isEqualTo(19);
      try (ProCache<String, String> fresh = ProCache.<String, String>builder(ValueCodec.utf8()).redis(redis, prefix)
          .home(this::home).recordStats().ticker(now::get).deadline(Duration.ofSeconds(2)).build()) {
        assertThat(fresh.get("w0").value()).isEqualTo("v2");
        for (int i = 1; i < 20; i++) {
          assertThat(fresh.get("w" + i).source()).isEqualTo(Lookup.Source.REDIS);
        }
        assertThat(fresh.stats().homeLoads()).isZero();
      }
    } finally {
      faults.clearFaults();
      viaProxy.shutdown();
    }
  }

  @Test
  void aHotKeyMissedByTwoProcessesAtOnce_isReadFromHomeOnce_thanksToTheRegionLease() throws Exception {
    homeTable.put("hot2", Versioned.of("v", 1, 1));
    HomeLoader<String, String> slow = k -> {
      Thread.sleep(150);
      return home(k);
    };
    try (ProCache<String, String> a = cache().home(slow).build();
        ProCache<String, String> b = cache().home(slow).build()) {
      List<Thread> threads = new ArrayList<>();
      CountDownLatch go = new CountDownLatch(1);
      for (int i = 0; i < 32; i++) {
        ProCache<String, String> c = i % 2 == 0 ? a : b;
        threads.add(Thread.ofPlatform().start(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          c.get("hot2");
        }));
      }
      go.countDown();
      for (Thread t : threads) {
        t.join(10_000);
      }
      assertThat(a.get("hot2").value()).isEqualTo("v");
      assertThat(b.get("hot2").value()).isEqualTo("v");
      assertThat(homeReads).hasValue(1);
      assertThat(a.stats().leaseWaits() + b.stats().leaseWaits()).isPositive();
    }
  }

  @Test
  void getAll_answersEveryKeyWithinOneDeadline_fromWhicheverTierHasIt() {
    homeTable.put("g1", Versioned.of("one", 1, 1));
    homeTable.put("g2", Versioned.of("two", 1, 1));
    try (ProCache<String, String> c = cache().build()) {
      assertThat(c.get("g1").value()).isEqualTo("one");
      Map<String, Lookup<String>> all = c.getAll(List.of("g1", "g2", "g3", "g1"));
      assertThat(all.keySet()).containsExactly("g1", "g2", "g3");
      assertThat(all.get("g1").source()).isEqualTo(Lookup.Source.HOME);
      assertThat(all.get("g2").value()).isEqualTo("two");
      assertThat(all.get("g3").freshness()).isEqualTo(Lookup.Freshness.ABSENT);
      assertThat(homeReads).hasValue(3);
    }
  }
}
