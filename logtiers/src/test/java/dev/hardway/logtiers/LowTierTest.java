package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpFaultResponse;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.ScalingType;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;
import software.amazon.kinesis.retrieval.AggregatorUtil;
import software.amazon.kinesis.retrieval.KinesisClientRecord;

/**
 * The low tier against the test kit's Kinesis (kinesis-mock), read back through the real KCL de-aggregation, with
 * faults from the test kit's proxy and a fault interceptor on the real SDK client.
 */
@LocalAwsTest({Service.KINESIS})
class LowTierTest {
  private static final String HOST = "test-host";
  private static final ClientOverrideConfiguration NO_RETRIES = ClientOverrideConfiguration.builder()
      .retryStrategy(AwsRetryStrategy.doNotRetry()).build();

  private LocalAws aws;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final List<Throwable> failures = new CopyOnWriteArrayList<>();
  private final List<Alarm> alarms = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp(LocalAws aws) {
    this.aws = aws;
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : toClose.reversed()) {
      c.close();
    }
  }

  // ---- the tests

  @Test
  void append_isReadableThroughKcl_deaggregation_exactlyOnce_everyShardUsed_everyCrcValid(
      KinesisClient kinesis, Fresh fresh) throws Exception {
    String stream = fresh.stream(4);
    LogTiers tiers = tiers(low(kinesis, stream).build(), UnaryOperator.identity());
    int n = 0;
    for (int burst = 0; burst < 8; burst++) {
      // Bursts a few lingers apart: at least eight aggregates, so round-robin reaches every shard.
      n += appendConcurrently(tiers, n, 4, 125, 400);
      sleepMillis(60);
    }

    awaitDelivered(tiers, n);
    Readback back = readAll(stream);
    back.assertExactlyOnce(tiers.boot(), n);
    assertThat(back.perShard.values()).as("records per shard").hasSize(4).allMatch(c -> c > 0);
    assertThat(back.aggregatedRecords).as("sub-records that came out of KPL aggregates").isEqualTo(n);
    assertThat(back.kinesisRecords).as("Kinesis records carry many user records").isLessThan(n / 4);
    TierStats s = low(tiers);
    assertThat(s.droppedTotal()).isZero();
    assertThat(s.inFlight()).isZero();
    assertThat(s.deliveryLatency().count()).isEqualTo(n);
  }

  @Test
  void wholeCallThrottling_isRetriedWithBackoff_nothingLost_retriesCounted(Fresh fresh) throws Exception {
    String stream = fresh.stream(2);
    FaultProxy proxy = aws.faults(Service.KINESIS);
    KinesisClient kinesis = client(aws.configure(KinesisClient.builder(), proxy.uri()).overrideConfiguration(NO_RETRIES)
        .build());
    HttpFault throttled = proxy.addHttpFault(HttpFault
        .when(HttpMatch.header("X-Amz-Target", "Kinesis_20131202.PutRecords"))
        .respond(HttpFaultResponse.throttling("ProvisionedThroughputExceededException")).times(3));
    LogTiers tiers = tiers(low(kinesis, stream).retry(Duration.ofMillis(10), Duration.ofMillis(100)).build(),
        UnaryOperator.identity());
    int n = appendConcurrently(tiers, 2, 300, 500);

    awaitDelivered(tiers, n);
    assertThat(throttled.matched()).isEqualTo(3);
    assertThat(low(tiers).retries()).isGreaterThanOrEqualTo(3);
    assertThat(failures).hasSizeGreaterThanOrEqualTo(3)
        .allMatch(f -> f.getClass().getSimpleName().equals("ProvisionedThroughputExceededException"));
    readAll(stream).assertExactlyOnce(tiers.boot(), n);
    assertThat(low(tiers).droppedTotal()).isZero();
  }

  @Test
  void partialFailure_resendsOnlyTheFailedEntries_noDuplicates_nothingLost(Fresh fresh) throws Exception {
    String stream = fresh.stream(4);
    PartialFailures faults = new PartialFailures(3);
    KinesisClient kinesis = client(aws.configure(KinesisClient.builder()).overrideConfiguration(
        NO_RETRIES.toBuilder().addExecutionInterceptor(faults).build()).build());
    LogTiers tiers = tiers(low(kinesis, stream).maxRequestsInFlight(1)
        .retry(Duration.ofMillis(10), Duration.ofMillis(50)).build(), UnaryOperator.identity());
    LogType auctions = tiers.type("auction");
    int n = 1_000;
    for (int i = 0; i < n; i++) {
      auctions.append(payload(i, 100));
      if (i % 2 == 1) {
        // Spread over about a second: aggregates seal every linger and pile up behind the slowed calls.
        sleepMillis(1);
      }
    }

    awaitDelivered(tiers, n);
    assertThat(faults.partialCalls.get()).as("calls answered with a partial failure").isEqualTo(3);
    assertThat(faults.failedEntries.get()).isPositive();
    assertThat(low(tiers).retries()).isEqualTo(faults.failedEntries.get());
    // Kinesis stored only the entries that succeeded: a resent success would show up twice here.
    readAll(stream).assertExactlyOnce(tiers.boot(), n);
    assertThat(low(tiers).droppedTotal()).isZero();
  }

  @Test
  void blackHoledStream_dropsExpiredRecords_countsEveryOne_andInFlightGoesToZero(Fresh fresh) throws Exception {
    String stream = fresh.stream(1);
    FaultProxy proxy = aws.faults(Service.KINESIS);
    KinesisClient kinesis = client(aws.configure(KinesisClient.builder(), proxy.uri()).overrideConfiguration(NO_RETRIES)
        .build());
    LogTiers tiers = tiers(low(kinesis, stream).recordTtl(Duration.ofMillis(400))
        .retry(Duration.ofMillis(10), Duration.ofMillis(50)).build(), UnaryOperator.identity());
    LogType auctions = tiers.type("auction");
    for (int i = 0; i < 10; i++) {
      auctions.append(payload(i, 100));
    }
    awaitDelivered(tiers, 10);

    proxy.blackHole(true);
    for (int i = 10; i < 210; i++) {
      assertThat(auctions.append(payload(i, 100))).isEqualTo(AppendResult.ACCEPTED);
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      TierStats s = low(tiers);
      assertThat(s.inFlight()).isZero();
      assertThat(s.dropped(DropReason.EXPIRED)).isEqualTo(200);
    });
    TierStats s = low(tiers);
    assertThat(s.appended()).isEqualTo(s.delivered() + s.droppedTotal() + s.inFlight()).isEqualTo(210);
    assertThat(s.delivered()).isEqualTo(10);

    proxy.blackHole(false);
    for (int i = 210; i < 220; i++) {
      auctions.append(payload(i, 100));
    }
    awaitDelivered(tiers, 20);
  }

  @Test
  void missingStream_raisesDestinationRefused_expiresRecords_andClearsWhenTheStreamExists(KinesisClient kinesis,
      Fresh fresh) throws Exception {
    String stream = fresh.name("stream");
    LogTiers tiers = tiers(low(kinesis, stream).recordTtl(Duration.ofMillis(300))
        .retry(Duration.ofMillis(10), Duration.ofMillis(100)).build(), b -> b.listener(new LogTiersListener() {
          @Override
          public void onAlarm(Alarm alarm) {
            alarms.add(alarm);
          }
        }));
    LogType auctions = tiers.type("auction");
    for (int i = 0; i < 50; i++) {
      auctions.append(payload(i, 50));
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      TierStats s = low(tiers);
      assertThat(s.alarms()).contains(Alarm.Kind.DESTINATION_REFUSED);
      assertThat(s.dropped(DropReason.EXPIRED)).isEqualTo(50);
      assertThat(s.inFlight()).isZero();
    });
    assertThat(alarms).first().satisfies(a -> {
      assertThat(a.raised()).isTrue();
      assertThat(a.message()).contains(stream);
    });

    kinesis.createStream(b -> b.streamName(stream).shardCount(1));
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() ->
        kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamStatus()
            == StreamStatus.ACTIVE);
    for (int i = 50; i < 60; i++) {
      auctions.append(payload(i, 50));
    }
    awaitDelivered(tiers, 10);
    await().atMost(Duration.ofSeconds(5)).until(() -> low(tiers).alarms().isEmpty());
    assertThat(alarms).last().satisfies(a -> assertThat(a.raised()).isFalse());
  }

  @Test
  void recordOverOneMebibyte_isDroppedTooLarge_andOneFillingAWholeKinesisRecord_isDeliveredAlone(
      KinesisClient kinesis, Fresh fresh) throws Exception {
    String stream = fresh.stream(1);
    LogTiers tiers = tiers(low(kinesis, stream).ringBytes(32 << 20).build(), b -> b.maxRecordBytes(2 << 20));
    LogType auctions = tiers.type("auction");
    int headerAndKey = LogRecords.HEADER_LENGTH + HOST.length() + "auction".length() + HOST.length();
    byte[] exactlyFits = payload(0, (1 << 20) - headerAndKey);
    byte[] oneTooMany = payload(1, (1 << 20) - headerAndKey + 1);
    byte[] huge = payload(2, 1_500_000);
    assertThat(auctions.append(exactlyFits)).isEqualTo(AppendResult.ACCEPTED);
    assertThat(auctions.append(oneTooMany)).isEqualTo(AppendResult.ACCEPTED);
    assertThat(auctions.append(huge)).isEqualTo(AppendResult.ACCEPTED);

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      TierStats s = low(tiers);
      assertThat(s.delivered()).isEqualTo(1);
      assertThat(s.dropped(DropReason.TOO_LARGE)).isEqualTo(2);
      assertThat(s.inFlight()).isZero();
    });
    Readback back = readAll(stream);
    assertThat(back.sequences).containsExactly(0L);
    assertThat(back.aggregatedRecords).as("sent unaggregated: the aggregate overhead would not fit").isZero();
  }

  @Test
  void reshardingMidStream_everyRecordStillReadableExactlyOnce_nothingDropped(KinesisClient kinesis, Fresh fresh)
      throws Exception {
    String stream = fresh.stream(2);
    LogTiers tiers = tiers(low(kinesis, stream).retry(Duration.ofMillis(10), Duration.ofMillis(100)).build(),
        UnaryOperator.identity());
    LogType auctions = tiers.type("auction");
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger appended = new AtomicInteger();
    Thread appender = Thread.ofPlatform().start(() -> {
      while (!stop.get()) {
        int i = appended.getAndIncrement();
        auctions.append(payload(i, 200));
        if (i % 50 == 0) {
          sleepMillis(5);
        }
      }
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> low(tiers).delivered() > 500);
    kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(4).scalingType(ScalingType.UNIFORM_SCALING));
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() ->
        kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamStatus()
            == StreamStatus.ACTIVE);
    long deliveredAtReshard = low(tiers).delivered();
    await().atMost(Duration.ofSeconds(10)).until(() -> low(tiers).delivered() > deliveredAtReshard + 500);
    stop.set(true);
    appender.join();
    int n = appended.get();

    awaitDelivered(tiers, n);
    Readback back = readAll(stream);
    back.assertExactlyOnce(tiers.boot(), n);
    List<String> children = aws.kinesis().listShards(b -> b.streamName(stream)).shards().stream()
        .filter(sh -> sh.sequenceNumberRange().endingSequenceNumber() == null).map(Shard::shardId).toList();
    assertThat(children).hasSize(4);
    assertThat(back.perShard.keySet()).as("the map was read again: every new shard is written, not only the two "
        + "holding the old shards' hash keys").containsAll(children);
    assertThat(low(tiers).droppedTotal()).isZero();
  }

  @Test
  void shardRateLimit_holdsAggregatesBack_untilTheBucketAllows_thenDeliversEverything(KinesisClient kinesis,
      Fresh fresh) throws Exception {
    String stream = fresh.stream(1);
    // 1 % of a shard: 10,486 bytes and 10 records a second.
    LogTiers tiers = tiers(low(kinesis, stream).shardLimitPercent(1).recordTtl(Duration.ofSeconds(30)).build(),
        UnaryOperator.identity());
    long start = System.nanoTime();
    int n = 0;
    for (int burst = 0; burst < 8; burst++) {
      n += appendConcurrently(tiers, n, 1, 25, 100);
      sleepMillis(40);
    }

    awaitDelivered(tiers, n);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    // About 8 aggregates of 2-3 KB: the first second's worth goes at once, the rest at 10 KB/s.
    assertThat(took).isGreaterThan(Duration.ofMillis(700));
    assertThat(low(tiers).deliveryLatency().maxMicros()).isGreaterThan(500_000);
    readAll(stream).assertExactlyOnce(tiers.boot(), n);
  }

  @Test
  void undeliverable_pendingBytesStayBounded_theRingFills_andAppendsAreDroppedRingFull(KinesisClient kinesis,
      Fresh fresh) throws Exception {
    // No such stream: nothing is ever sent, so everything read from the ring stays pending in the worker.
    LogTiers tiers = tiers(low(kinesis, fresh.name("stream")).maxRequestsInFlight(1).ringBytes(1 << 20)
        .recordTtl(Duration.ofSeconds(60)).build(),
        b -> b.maxRecordBytes(16 << 10).closeTimeout(Duration.ofMillis(200)));
    LogType auctions = tiers.type("auction");
    int payloadBytes = 8 << 10;
    int accepted = 0;
    for (int i = 0; i < 3_000; i++) {
      if (auctions.append(payload(i, payloadBytes)) == AppendResult.ACCEPTED) {
        accepted++;
      }
      if (i % 8 == 7) {
        // Let the worker keep up, so that only its bound, not its speed, fills the ring.
        sleepMillis(1);
      }
    }
    int frame = LogRecords.HEADER_LENGTH + HOST.length() + "auction".length() + payloadBytes;
    // The bound with one call in flight: 5 MiB per call plus one, i.e. 10 MiB; plus what the 1 MiB ring holds.
    int bound = (10 << 20) / frame + 1 + (1 << 20) / frame;
    TierStats s = low(tiers);
    assertThat(s.dropped(DropReason.RING_FULL)).isPositive().isEqualTo(3_000 - accepted);
    assertThat(accepted).isLessThanOrEqualTo(bound).isGreaterThan(bound / 2);
    tiers.close();
    s = low(tiers);
    assertThat(s.dropped(DropReason.CLOSED)).isEqualTo(accepted);
    assertThat(s.appended()).isEqualTo(s.delivered() + s.droppedTotal()).isEqualTo(3_000);
  }

  @Test
  void close_drainsEverything_andAppendsAfterCloseAreCountedClosed(KinesisClient kinesis, Fresh fresh)
      throws Exception {
    String stream = fresh.stream(2);
    LogTiers tiers = tiers(low(kinesis, stream).linger(Duration.ofSeconds(5)).recordTtl(Duration.ofSeconds(30))
        .build(), UnaryOperator.identity());
    LogType auctions = tiers.type("auction");
    for (int i = 0; i < 500; i++) {
      auctions.append(payload(i, 300));
    }
    tiers.close();
    TierStats s = low(tiers);
    assertThat(s.delivered()).as("delivered by close() despite the 5 s linger").isEqualTo(500);
    assertThat(auctions.append(payload(500, 10))).isEqualTo(AppendResult.DROPPED);
    tiers.close();
    s = low(tiers);
    assertThat(s.dropped(DropReason.CLOSED)).isEqualTo(1);
    assertThat(s.appended()).isEqualTo(501).isEqualTo(s.delivered() + s.droppedTotal());
    assertThat(s.inFlight()).isZero();
    readAll(stream).assertExactlyOnce(tiers.boot(), 500);
    assertNoWorkerThreads();
  }

  @Test
  void close_atItsDeadline_countsWhatCouldNotBeDeliveredClosed_andStopsEveryThread(Fresh fresh) throws Exception {
    String stream = fresh.stream(1);
    FaultProxy proxy = aws.faults(Service.KINESIS);
    KinesisClient kinesis = client(aws.configure(KinesisClient.builder(), proxy.uri()).overrideConfiguration(NO_RETRIES)
        .build());
    LogTiers tiers = tiers(low(kinesis, stream).recordTtl(Duration.ofSeconds(60)).build(),
        b -> b.closeTimeout(Duration.ofMillis(300)));
    LogType auctions = tiers.type("auction");
    auctions.append(payload(0, 10));
    awaitDelivered(tiers, 1);
    proxy.blackHole(true);
    for (int i = 1; i <= 100; i++) {
      auctions.append(payload(i, 100));
    }
    long start = System.nanoTime();
    tiers.close();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    TierStats s = low(tiers);
    assertThat(s.delivered()).isEqualTo(1);
    assertThat(s.dropped(DropReason.CLOSED)).isEqualTo(100);
    assertThat(s.inFlight()).isZero();
    assertThat(failures).noneMatch(f -> String.valueOf(f.getMessage()).contains("did not stop"));
    assertNoWorkerThreads();
  }

  // ---- helpers

  private KinesisTier.Builder low(KinesisClient kinesis, String stream) {
    return KinesisTier.builder().kinesis(kinesis).stream(stream).linger(Duration.ofMillis(20));
  }

  private LogTiers tiers(KinesisTier low, UnaryOperator<LogTiers.Builder> more) {
    LogTiers.Builder b = LogTiers.builder().region("us-east-1").host(HOST).low(low).route("auction", Tier.LOW)
        .listener(new LogTiersListener() {
          @Override
          public void onFailure(Tier tier, Throwable failure) {
            failures.add(failure);
          }
        });
    LogTiers tiers = more.apply(b).build();
    toClose.add(tiers);
    return tiers;
  }

  private KinesisClient client(KinesisClient client) {
    toClose.add(client);
    return client;
  }

  private static TierStats low(LogTiers tiers) {
    return tiers.stats().tiers().get(Tier.LOW);
  }

  private static void awaitDelivered(LogTiers tiers, long n) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
      TierStats s = low(tiers);
      assertThat(s.delivered()).as("delivered; stats %s", s).isEqualTo(n);
      assertThat(s.inFlight()).isZero();
    });
  }

  /** Appends {@code each} records from each of {@code threads} threads, sizes up to {@code maxBytes}. */
  private static int appendConcurrently(LogTiers tiers, int threads, int each, int maxBytes) throws Exception {
    return appendConcurrently(tiers, 0, threads, each, maxBytes);
  }

  private static int appendConcurrently(LogTiers tiers, int firstSeed, int threads, int each, int maxBytes)
      throws Exception {
    LogType auctions = tiers.type("auction");
    List<Thread> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int seed = firstSeed + t * each;
      all.add(Thread.ofPlatform().start(() -> {
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < each; i++) {
          assertThat(auctions.append(payload(seed + i, 4 + random.nextInt(maxBytes))))
              .isEqualTo(AppendResult.ACCEPTED);
        }
      }));
    }
    for (Thread t : all) {
      t.join();
    }
    return threads * each;
  }

  /** Bytes from a seed, the seed in the first four (little-endian) when there is room: payloads name themselves. */
  private static byte[] payload(int seed, int length) {
    byte[] b = new byte[length];
    new SplittableRandom(seed).nextBytes(b);
    if (length >= 4) {
      new UnsafeBuffer(b).putInt(0, seed, ByteOrder.LITTLE_ENDIAN);
    }
    return b;
  }

  private static void sleepMillis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void assertNoWorkerThreads() {
    await().atMost(Duration.ofSeconds(3)).until(() -> Thread.getAllStackTraces().keySet().stream()
        .noneMatch(t -> t.isAlive() && t.getName().startsWith("hardway-logtiers-low")));
  }

  /** Every shard read from the start, each shard's records de-aggregated by the KCL against its hash range. */
  private Readback readAll(String stream) {
    KinesisClient k = aws.kinesis();
    Readback back = new Readback();
    List<Shard> shards = new ArrayList<>();
    String token = null;
    do {
      String t = token;
      var page = k.listShards(b -> {
        if (t == null) {
          b.streamName(stream);
        } else {
          b.nextToken(t);
        }
      });
      shards.addAll(page.shards());
      token = page.nextToken();
    } while (token != null);
    AggregatorUtil kcl = new AggregatorUtil();
    CRC32C crc = new CRC32C();
    for (Shard shard : shards) {
      String iterator = k.getShardIterator(b -> b.streamName(stream).shardId(shard.shardId())
          .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
      List<KinesisClientRecord> records = new ArrayList<>();
      while (iterator != null) {
        String it = iterator;
        GetRecordsResponse r = k.getRecords(b -> b.shardIterator(it).limit(10_000));
        r.records().forEach(rec -> records.add(KinesisClientRecord.fromRecord(rec)));
        if (r.records().isEmpty()) {
          break;
        }
        iterator = r.nextShardIterator();
      }
      back.kinesisRecords += records.size();
      List<KinesisClientRecord> users = kcl.deaggregate(records,
          new BigInteger(shard.hashKeyRange().startingHashKey()), new BigInteger(shard.hashKeyRange().endingHashKey()));
      for (KinesisClientRecord u : users) {
        byte[] frame = AggregationProperties.bytes(u.data());
        UnsafeBuffer buffer = new UnsafeBuffer(frame);
        assertThat(LogRecords.check(buffer, 0, frame.length, crc)).as("frame CRC and shape").isEqualTo(frame.length);
        LogRecord view = new LogRecord().wrap(buffer, 0);
        assertThat(view.host()).isEqualTo(HOST);
        assertThat(view.type()).isEqualTo("auction");
        byte[] payload = view.payload();
        if (payload.length >= 4) {
          int seed = new UnsafeBuffer(payload).getInt(0, ByteOrder.LITTLE_ENDIAN);
          assertThat(payload).as("payload intact").isEqualTo(payload(seed, payload.length));
        }
        back.boots.add(view.boot());
        back.sequences.add(view.sequence());
        if (u.aggregated()) {
          back.aggregatedRecords++;
          assertThat(u.partitionKey()).isEqualTo(HOST);
        }
        back.perShard.merge(shard.shardId(), 1, Integer::sum);
      }
    }
    return back;
  }

  /** What {@link #readAll} found. */
  private static final class Readback {
    final List<Long> boots = new ArrayList<>();
    final List<Long> sequences = new ArrayList<>();
    final Map<String, Integer> perShard = new HashMap<>();
    int kinesisRecords;
    int aggregatedRecords;

    void assertExactlyOnce(long boot, int n) {
      assertThat(boots).containsOnly(boot);
      List<Long> expected = new ArrayList<>();
      for (long i = 0; i < n; i++) {
        expected.add(i);
      }
      assertThat(sequences).as("every record exactly once").containsExactlyInAnyOrderElementsOf(expected);
    }
  }

  /**
   * Makes the first {@code calls} PutRecords calls that carry two entries or more fail partially, the way Kinesis
   * does when a shard is over its limit: the odd entries are taken out of the request before it is sent (so Kinesis
   * never stores them) and come back as {@code ProvisionedThroughputExceededException} entries of an HTTP 200
   * answer, the even ones with the real results. Every call is slowed by 30 ms so that aggregates pile up into
   * calls of several entries.
   */
  private static final class PartialFailures implements ExecutionInterceptor {
    private static final ExecutionAttribute<PutRecordsRequest> ORIGINAL = new ExecutionAttribute<>("original");
    final AtomicInteger partialCalls = new AtomicInteger();
    private final AtomicInteger multiEntryCalls = new AtomicInteger();
    final AtomicInteger failedEntries = new AtomicInteger();
    private final int calls;

    PartialFailures(int calls) {
      this.calls = calls;
    }

    @Override
    public SdkRequest modifyRequest(Context.ModifyRequest context, ExecutionAttributes attributes) {
      if (!(context.request() instanceof PutRecordsRequest put)) {
        return context.request();
      }
      sleepMillis(30);
      if (put.records().size() < 2 || multiEntryCalls.incrementAndGet() > calls) {
        return put;
      }
      partialCalls.incrementAndGet();
      attributes.putAttribute(ORIGINAL, put);
      List<PutRecordsRequestEntry> kept = new ArrayList<>();
      for (int i = 0; i < put.records().size(); i += 2) {
        kept.add(put.records().get(i));
      }
      return put.toBuilder().records(kept).build();
    }

    @Override
    public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes attributes) {
      PutRecordsRequest original = attributes.getAttribute(ORIGINAL);
      if (original == null || !(context.response() instanceof PutRecordsResponse real)) {
        return context.response();
      }
      List<PutRecordsResultEntry> all = new ArrayList<>();
      int failed = 0;
      for (int i = 0; i < original.records().size(); i++) {
        if (i % 2 == 0) {
          all.add(real.records().get(i / 2));
        } else {
          failed++;
          all.add(PutRecordsResultEntry.builder().errorCode("ProvisionedThroughputExceededException")
              .errorMessage("Rate exceeded for shard").build());
        }
      }
      failedEntries.addAndGet(failed);
      return real.toBuilder().failedRecordCount(failed + real.failedRecordCount()).records(all).build();
    }
  }
}
