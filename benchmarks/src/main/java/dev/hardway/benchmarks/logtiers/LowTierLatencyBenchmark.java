package dev.hardway.benchmarks.logtiers;

import dev.hardway.logtiers.KinesisTier;
import dev.hardway.logtiers.LogRecord;
import dev.hardway.logtiers.LogTiers;
import dev.hardway.logtiers.LogType;
import dev.hardway.logtiers.Tier;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.kinesis.retrieval.AggregatorUtil;
import software.amazon.kinesis.retrieval.KinesisClientRecord;

/**
 * The low tier end to end through the test kit's Kinesis (kinesis-mock): records appended at a steady rate, read back
 * by a consumer polling GetRecords on every shard without pause and de-aggregating with the KCL, each record's
 * latency being the time from its timestamp (taken at append) to the moment the consumer holds it. The baseline, in
 * the same run, is the plain producer many teams start with: one PutRecord per event from a background executor,
 * read back the same way.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.main=dev.hardway.benchmarks.logtiers.LowTierLatencyBenchmark -Dbench.args="500 20"} (records per second,
 * seconds). Results are in {@code benchmarks/README.md}.
 */
public final class LowTierLatencyBenchmark {
  private LowTierLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    try (LocalAws aws = LocalAws.start(Service.KINESIS)) {
      KinesisClient kinesis = aws.kinesis();
      System.out.printf(Locale.ROOT, "%-34s %8s %8s %8s %8s %8s%n", "producer", "p50 ms", "p90", "p99", "max",
          "records");
      for (String producer : new String[] {"logtiers low tier (linger 100 ms)", "baseline: PutRecord per event"}) {
        String stream = "latency-" + (producer.startsWith("logtiers") ? "tiers" : "plain");
        kinesis.createStream(b -> b.streamName(stream).shardCount(2));
        kinesis.waiter().waitUntilStreamExists(DescribeStreamRequest.builder().streamName(stream).build(),
            WaiterOverrideConfiguration.builder().backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100)))
                .build());
        Histogram latency = new Histogram(600_000_000L, 3);
        AtomicBoolean reading = new AtomicBoolean(true);
        List<Thread> readers = new ArrayList<>();
        for (Shard shard : kinesis.listShards(b -> b.streamName(stream)).shards()) {
          String iterator = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard.shardId())
              .shardIteratorType(ShardIteratorType.LATEST)).shardIterator();
          readers.add(Thread.ofPlatform().daemon().start(() -> read(kinesis, shard, iterator, latency, reading)));
        }
        long expected = (long) rate * seconds;
        if (producer.startsWith("logtiers")) {
          try (LogTiers tiers = LogTiers.builder().region("us-east-1").host("bench")
              .low(KinesisTier.builder().kinesis(kinesis).stream(stream).build()).route("auction", Tier.LOW).build()) {
            LogType type = tiers.type("auction");
            paced(rate, seconds, () -> type.append(new byte[100]));
            waitFor(latency, expected);
          }
        } else {
          ExecutorService sender = Executors.newFixedThreadPool(4);
          paced(rate, seconds, () -> {
            ByteBuffer frame = frame();
            sender.execute(() -> kinesis.putRecord(b -> b.streamName(stream).partitionKey(Long.toString(System.nanoTime()))
                .data(SdkBytes.fromByteBuffer(frame))));
          });
          waitFor(latency, expected);
          sender.shutdown();
          sender.awaitTermination(10, TimeUnit.SECONDS);
        }
        reading.set(false);
        for (Thread t : readers) {
          t.join(5_000);
        }
        System.out.printf(Locale.ROOT, "%-34s %8.1f %8.1f %8.1f %8.1f %8d%n", producer,
            latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(90) / 1e3,
            latency.getValueAtPercentile(99) / 1e3, latency.getMaxValue() / 1e3, latency.getTotalCount());
      }
    }
  }

  /** A frame like the tiers write, so that the reader handles both producers the same way. */
  private static ByteBuffer frame() {
    Instant now = Instant.now();
    ByteBuffer b = ByteBuffer.allocate(100 + 36 + 6).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(b.capacity()).putInt(0).put((byte) 1).put((byte) 5).put((byte) 1).put((byte) 0).putLong(1).putLong(0)
        .putLong(now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000).put("bench".getBytes()).put((byte) 'a');
    return b.position(0);
  }

  private static void read(KinesisClient kinesis, Shard shard, String first, Histogram latency, AtomicBoolean reading) {
    AggregatorUtil kcl = new AggregatorUtil();
    BigInteger start = new BigInteger(shard.hashKeyRange().startingHashKey());
    BigInteger end = new BigInteger(shard.hashKeyRange().endingHashKey());
    LogRecord view = new LogRecord();
    String iterator = first;
    while (reading.get() && iterator != null) {
      String it = iterator;
      GetRecordsResponse r = kinesis.getRecords(b -> b.shardIterator(it).limit(10_000));
      List<KinesisClientRecord> records = new ArrayList<>();
      r.records().forEach(rec -> records.add(KinesisClientRecord.fromRecord(rec)));
      for (KinesisClientRecord u : kcl.deaggregate(records, start, end)) {
        Instant now = Instant.now();
        long nowMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        ByteBuffer data = u.data();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        view.wrap(new UnsafeBuffer(bytes), 0);
        synchronized (latency) {
          latency.recordValue(Math.max(0, nowMicros - view.timestampMicros()));
        }
      }
      iterator = r.nextShardIterator();
    }
  }

  private static void paced(int rate, int seconds, Runnable append) {
    long interval = 1_000_000_000L / rate;
    long next = System.nanoTime();
    long end = next + seconds * 1_000_000_000L;
    while (next < end) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
      }
      append.run();
      next += interval;
    }
  }

  private static void waitFor(Histogram latency, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      synchronized (latency) {
        if (latency.getTotalCount() >= expected) {
          return;
        }
      }
      Thread.sleep(50);
    }
  }
}
