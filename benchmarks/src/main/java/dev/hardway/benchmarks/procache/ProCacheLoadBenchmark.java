package dev.hardway.benchmarks.procache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.hardway.procache.Aggregator;
import dev.hardway.procache.Lookup;
import dev.hardway.procache.ProCache;
import dev.hardway.procache.ProCacheStats;
import dev.hardway.procache.PushedUpdate;
import dev.hardway.procache.RegionWriter;
import dev.hardway.procache.ValueCodec;
import dev.hardway.procache.Versioned;
import dev.hardway.procache.Warmup;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;

/**
 * procache end to end on the test kit: a home table (DynamoDB + Streams) 70 ms away behind the fault proxy, the
 * aggregator and a region's writer feeding that region's Redis, and a reader with an in-process tier sized at 10 % of
 * the keys, under an open-loop load of scrambled Zipfian keys (theta 0.99) while writes flow at home. Every get is
 * timed from its scheduled start (no coordinated omission). The baseline, same keys and same load in the same run, is
 * a plain read-through cache: Caffeine of the same size in front of the same home table, entries kept 60 s, no push.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.main=dev.hardway.benchmarks.procache.ProCacheLoadBenchmark -Dbench.args="100000 2000 20"} (keys, gets per
 * second, seconds).
 */
public final class ProCacheLoadBenchmark {
  private ProCacheLoadBenchmark() {}

  public static void main(String[] args) throws Exception {
    int keys = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    try (LocalAws aws = LocalAws.start(Service.DYNAMODB, Service.KINESIS, Service.REDIS)) {
      DynamoDbClient ddb = aws.dynamoDb();
      ddb.createTable(b -> b.tableName("profiles").billingMode(BillingMode.PAY_PER_REQUEST)
          .attributeDefinitions(AttributeDefinition.builder().attributeName("user")
              .attributeType(ScalarAttributeType.S).build())
          .keySchema(KeySchemaElement.builder().attributeName("user").keyType(KeyType.HASH).build())
          .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES)));
      String arn = ddb.describeTable(b -> b.tableName("profiles")).table().latestStreamArn();
      aws.kinesis().createStream(b -> b.streamName("updates").shardCount(2));
      aws.kinesis().waiter().waitUntilStreamExists(DescribeStreamRequest.builder().streamName("updates").build(),
          WaiterOverrideConfiguration.builder().backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100)))
              .build());
      RedisClient redis = RedisClient.create(RedisURI.create(aws.endpoint(Service.REDIS).toString()));
      FaultProxy far = aws.faults(Service.DYNAMODB);
      far.latency(Direction.BOTH, Duration.ofMillis(35), Duration.ZERO);
      DynamoDbClient remote = aws.configure(DynamoDbClient.builder(), far.uri()).build();
      AtomicLong homeReads = new AtomicLong();
      Function<String, Versioned<String>> readHome = user -> {
        homeReads.incrementAndGet();
        var item = remote.getItem(b -> b.tableName("profiles").key(Map.of("user", AttributeValue.fromS(user))))
            .item();
        return item.isEmpty() ? Versioned.absent(0, 0)
            : Versioned.of(item.get("p").s(), Long.parseLong(item.get("v").n()), Long.parseLong(item.get("t").n()));
      };

      long fillStart = System.nanoTime();
      fill(ddb, keys);
      System.out.printf(Locale.ROOT, "home table filled with %,d items in %.1f s%n", keys,
          (System.nanoTime() - fillStart) / 1e9);
      Aggregator.Joiner joiner = c -> c.newImage() == null ? List.of() : List.of(new PushedUpdate(
          c.keys().get("user").s(), Long.parseLong(c.newImage().get("v").n()),
          Long.parseLong(c.newImage().get("t").n()), c.newImage().get("p").s().getBytes(StandardCharsets.UTF_8)));
      // A new deployment's order: the region's writer on the (new) update stream, the aggregator from the stream's
      // newest record, then a warm-up scan for everything written before.
      try (RegionWriter writer = RegionWriter.builder().stream(aws.kinesis(), "updates").redis(redis, "p:")
              .fromOldest().build().start();
          Aggregator aggregator = Aggregator.builder().streams(aws.dynamoDbStreams()).table("profiles", arn)
              .joiner(joiner).publishTo(aws.kinesis(), "updates").startAtLatest().build().start()) {
        while (aggregator.stats().shardsHeld() == 0) {
          Thread.sleep(10);
        }
        Warmup.Result warm = Warmup.builder().fromTable(ddb, "profiles", joiner).into(redis, "p:").segments(4)
            .build().run();
        System.out.printf(Locale.ROOT, "warm-up: %,d items scanned, %,d written to Redis in %.1f s (%.0f read units)%n",
            warm.read(), warm.written(), warm.took().toMillis() / 1e3, warm.homeReadUnits());

        // Staleness from here on: the writes made during the run, not the initial fill's backlog.
        writer.resetStaleness();
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writes = Thread.ofPlatform().daemon().start(() -> writeAtHome(ddb, keys, writing));
        try (ProCache<String, String> cache = ProCache.<String, String>builder(ValueCodec.utf8())
            .redis(redis, "p:").home(readHome::apply).localMaximumSize(keys / 10).recordStats().build()) {
          long before = homeReads.get();
          Result r = run(keys, rate, seconds, k -> cache.get(k).hasValue());
          ProCacheStats s = cache.stats();
          report("procache", r, homeReads.get() - before, s.hitRate());
          System.out.printf(Locale.ROOT, "  tiers: local %,d, redis %,d, home %,d, stale %,d, unknown %,d, deadline "
              + "misses %,d; staleness p99 %.1f ms%n", s.localHits(), s.redisHits(), s.homeHits(), s.staleAnswers(),
              s.unknownAnswers(), s.deadlineMisses(), writer.stats().stalenessP99Micros() / 1e3);
          System.out.printf(Locale.ROOT, "  staleness p50 %.1f ms, max %.1f ms over %,d applied writes; home loads p99 "
              + "%.1f ms; Redis loads p99 %.2f ms%n", writer.stats().stalenessP50Micros() / 1e3,
              writer.stats().stalenessMaxMicros() / 1e3, writer.stats().applied(),
              s.homeLoadLatency().p99Micros() / 1e3, s.redisLoadLatency().p99Micros() / 1e3);
        }
        Cache<String, String> plain = Caffeine.newBuilder().maximumSize(keys / 10)
            .expireAfterWrite(Duration.ofSeconds(60)).build();
        long before = homeReads.get();
        AtomicLong hits = new AtomicLong();
        Result r = run(keys, rate, seconds, k -> {
          if (plain.getIfPresent(k) != null) {
            hits.incrementAndGet();
            return true;
          }
          Versioned<String> v = readHome.apply(k);
          if (v.value() != null) {
            plain.put(k, v.value());
          }
          return v.value() != null;
        });
        report("plain read-through", r, homeReads.get() - before, (double) hits.get() / r.gets);
        writing.set(false);
        writes.join(5_000);
      }
      remote.close();
      redis.shutdown();
    }
  }

  /**
   * @param latency from each get's scheduled start to its answer (what a caller on schedule saw)
   * @param service from the get's call to its answer (the cache's own time, without the load generator's queueing)
   */
  private record Result(long gets, Histogram latency, Histogram service) {}

  /** Open loop: gets are started on schedule on virtual threads, each timed from its scheduled start. */
  private static Result run(int keys, int rate, int seconds, java.util.function.Predicate<String> get)
      throws InterruptedException {
    ScrambledZipfian zipf = new ScrambledZipfian(keys, 0.99, 42);
    Histogram latency = new Histogram(60_000_000_000L, 3);
    Histogram service = new Histogram(60_000_000_000L, 3);
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime();
    long total = (long) rate * seconds;
    List<Thread> running = new ArrayList<>();
    for (long i = 0; i < total; i++) {
      long scheduled = start + i * interval;
      // Parked, not spinning: a spinning generator would take one of the machine's two cores from the servers.
      // Latency counts from the scheduled start, so a late wake-up is charged to the get (no coordinated omission).
      long wait = scheduled - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      String key = "u" + zipf.next();
      running.add(Thread.ofVirtual().start(() -> {
        long called = System.nanoTime();
        get.test(key);
        long end = System.nanoTime();
        synchronized (latency) {
          latency.recordValue(Math.min(end - scheduled, latency.getHighestTrackableValue()));
          service.recordValue(Math.min(end - called, service.getHighestTrackableValue()));
        }
      }));
      if (running.size() > 10_000) {
        for (Thread t : running) {
          t.join();
        }
        running.clear();
      }
    }
    for (Thread t : running) {
      t.join();
    }
    return new Result(total, latency, service);
  }

  private static void report(String name, Result r, long homeReads, double hitRate) {
    Histogram h = r.latency;
    System.out.printf(Locale.ROOT, "%-20s gets %,d  hit rate %.2f %%  home reads %,d  latency p50 %.2f ms, p99 %.2f ms,"
        + " p99.9 %.2f ms, max %.2f ms%n", name, r.gets, hitRate * 100, homeReads, h.getValueAtPercentile(50) / 1e6,
        h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);
    Histogram s = r.service;
    System.out.printf(Locale.ROOT, "%-20s the get call alone: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n",
        "", s.getValueAtPercentile(50) / 1e6, s.getValueAtPercentile(99) / 1e6, s.getValueAtPercentile(99.9) / 1e6,
        s.getMaxValue() / 1e6);
  }

  private static void fill(DynamoDbClient ddb, int keys) {
    List<WriteRequest> batch = new ArrayList<>(25);
    for (int i = 0; i < keys; i++) {
      batch.add(WriteRequest.builder().putRequest(PutRequest.builder().item(item("u" + i, 1)).build()).build());
      if (batch.size() == 25 || i == keys - 1) {
        List<WriteRequest> b = List.copyOf(batch);
        ddb.batchWriteItem(r -> r.requestItems(Map.of("profiles", b)));
        batch.clear();
      }
    }
  }

  private static Map<String, AttributeValue> item(String user, long version) {
    Instant now = Instant.now();
    Map<String, AttributeValue> m = new HashMap<>();
    m.put("user", AttributeValue.fromS(user));
    m.put("v", AttributeValue.fromN(Long.toString(version)));
    m.put("t", AttributeValue.fromN(Long.toString(now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000)));
    m.put("p", AttributeValue.fromS("profile of " + user + " v" + version));
    return m;
  }

  /** Writes flowing at home while the readers read: 100 updates a second on Zipfian keys. */
  private static void writeAtHome(DynamoDbClient ddb, int keys, AtomicBoolean writing) {
    ScrambledZipfian zipf = new ScrambledZipfian(keys, 0.99, 7);
    Map<String, Long> versions = new HashMap<>();
    while (writing.get()) {
      String user = "u" + zipf.next();
      long v = versions.merge(user, 2L, (a, b) -> a + 1);
      ddb.putItem(b -> b.tableName("profiles").item(item(user, v)));
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        return;
      }
    }
  }
}
