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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.services.s3.S3Client;

/** The mid tier against the test kit's S3, with faults from the proxy: every acknowledged record once in S3. */
@LocalAwsTest({Service.S3})
class MidTierTest {
  private LocalAws aws;
  private S3Client s3;
  private S3Client proxied;
  private FaultProxy faults;
  private String bucket;
  @TempDir Path journal;

  @BeforeEach
  void setUp(LocalAws aws, S3Client s3, Fresh fresh) {
    this.aws = aws;
    this.s3 = s3;
    this.bucket = fresh.bucket();
    this.faults = aws.faults(Service.S3);
    this.proxied = aws.configure(S3Client.builder(), faults.uri())
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD).apiCallAttemptTimeout(Duration.ofSeconds(5)))
        .build();
  }

  private S3Tier.Builder mid(S3Client client, String bucketName) {
    return S3Tier.midBuilder().s3(client).bucket(bucketName).directory(journal)
        .segmentBytes(64 << 10).segmentAge(Duration.ofMillis(200)).ringBytes(1 << 20)
        .retry(Duration.ofMillis(20), Duration.ofMillis(200));
  }

  private LogTiers tiers(S3Tier mid, LogTiersListener listener) {
    return LogTiers.builder().region("us-east-1").host("box-1").mid(mid).listener(listener)
        .route("auction", Tier.MID).route("bid", Tier.MID).maxRecordBytes(16 << 10).build();
  }

  static LogTiersListener recording(List<Alarm> alarms) {
    return new LogTiersListener() {
      @Override
      public void onAlarm(Alarm alarm) {
        alarms.add(alarm);
      }
    };
  }

  private static byte[] payload(String type, long i) {
    return (type + "-" + i + "-" + "x".repeat((int) (i % 200))).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void acknowledgedRecords_areInS3_exactlyOnce_perType_withValidFrames() throws Exception {
    long boot;
    try (LogTiers tiers = tiers(mid(s3, bucket).build(), LogTiersListener.NONE)) {
      boot = tiers.boot();
      LogType auctions = tiers.type("auction");
      LogType bids = tiers.type("bid");
      for (int i = 0; i < 3_000; i++) {
        assertThat(auctions.append(payload("auction", i))).isEqualTo(AppendResult.ACCEPTED);
        if (i % 3 == 0) {
          assertThat(bids.append(payload("bid", i))).isEqualTo(AppendResult.ACCEPTED);
        }
      }
      assertThat(tiers.awaitDurable(Duration.ofSeconds(10))).isTrue();
      await().atMost(Duration.ofSeconds(20)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().delivered() == 4_000);
      TierStats stats = tiers.stats().tier(Tier.MID).orElseThrow();
      assertThat(stats.appended()).isEqualTo(4_000);
      assertThat(stats.droppedTotal()).isZero();
      assertThat(stats.inFlight()).isZero();
      assertThat(stats.deliveryLatency().count()).isEqualTo(4_000);
    }
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    assertThat(contents.records()).hasSize(4_000);
    assertThat(contents.duplicates()).isEmpty();
    assertThat(contents.corruptBytes()).isZero();
    assertThat(contents.records()).allSatisfy(r -> {
      assertThat(r.host()).isEqualTo("box-1");
      assertThat(r.boot()).isEqualTo(boot);
      assertThat(new String(r.payload(), StandardCharsets.UTF_8)).isEqualTo(new String(payload(r.type(),
          Long.parseLong(new String(r.payload(), StandardCharsets.UTF_8).split("-")[1])), StandardCharsets.UTF_8));
    });
    assertThat(contents.keys()).allSatisfy(k -> {
      ObjectKeys.Key key = ObjectKeys.parse(k);
      assertThat(key.region()).isEqualTo("us-east-1");
      assertThat(key.host()).isEqualTo("box-1");
      assertThat(key.boot()).isEqualTo(boot);
    });
    assertThat(contents.keys().stream().map(k -> ObjectKeys.parse(k).type()).distinct()).containsExactlyInAnyOrder(
        "auction", "bid");
    try (Stream<Path> left = Files.list(journal)) {
      assertThat(left.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".lock"))).isEmpty();
    }
  }

  @Test
  void unreachableS3_keepsEverythingOnDisk_andTheNextRunUploadsIt() throws Exception {
    faults.refuseConnections(true);
    List<Alarm> alarms = new CopyOnWriteArrayList<>();
    LogTiersListener listener = recording(alarms);
    try (LogTiers tiers = tiers(mid(proxied, bucket).build(), listener)) {
      for (int i = 0; i < 1_000; i++) {
        tiers.type("auction").append(payload("auction", i));
      }
      assertThat(tiers.awaitDurable(Duration.ofSeconds(10))).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().retries() >= 2);
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().delivered()).isZero();
    }
    try (Stream<Path> left = Files.list(journal)) {
      assertThat(left.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sealed"))).isNotEmpty();
    }
    faults.refuseConnections(false);
    try (LogTiers tiers = tiers(mid(proxied, bucket).build(), listener)) {
      await().atMost(Duration.ofSeconds(20))
          .until(() -> tiers.stats().tier(Tier.MID).orElseThrow().recoveredDelivered() == 1_000);
      TierStats stats = tiers.stats().tier(Tier.MID).orElseThrow();
      assertThat(stats.recovered()).isEqualTo(1_000);
      assertThat(stats.appended()).isZero();
    }
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    assertThat(contents.records()).hasSize(1_000);
    assertThat(contents.duplicates()).isEmpty();
  }

  @Test
  void crashAfterS3Confirmed_beforeTheLocalDelete_doesNotDuplicate() throws Exception {
    // A run that cannot reach S3 leaves sealed segments behind; keep copies of them.
    faults.refuseConnections(true);
    try (LogTiers tiers = tiers(mid(proxied, bucket).build(), LogTiersListener.NONE)) {
      for (int i = 0; i < 500; i++) {
        tiers.type("auction").append(payload("auction", i));
        tiers.type("bid").append(payload("bid", i));
      }
      assertThat(tiers.awaitDurable(Duration.ofSeconds(10))).isTrue();
    }
    Path copies = Files.createTempDirectory("segments");
    try (Stream<Path> sealed = Files.list(journal)) {
      for (Path p : sealed.filter(p -> p.toString().endsWith(".sealed")).toList()) {
        Files.copy(p, copies.resolve(p.getFileName()));
      }
    }
    faults.refuseConnections(false);
    try (LogTiers tiers = tiers(mid(proxied, bucket).build(), LogTiersListener.NONE)) {
      await().atMost(Duration.ofSeconds(20))
          .until(() -> tiers.stats().tier(Tier.MID).orElseThrow().recoveredDelivered() == 1_000);
    }
    // As if the process died after S3's 200 and before the delete: the same segments are back on disk.
    try (Stream<Path> saved = Files.list(copies)) {
      for (Path p : saved.toList()) {
        Files.copy(p, journal.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    try (LogTiers tiers = tiers(mid(proxied, bucket).build(), LogTiersListener.NONE)) {
      await().atMost(Duration.ofSeconds(20))
          .until(() -> tiers.stats().tier(Tier.MID).orElseThrow().recoveredDelivered() == 1_000);
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().alarms()).doesNotContain(Alarm.Kind.KEY_CONFLICT);
    }
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    assertThat(contents.records()).hasSize(1_000);
    assertThat(contents.duplicates()).isEmpty();
  }

  @Test
  void tornTail_isSkippedAndCounted_andTheRestUploaded() throws Exception {
    faults.refuseConnections(true);
    try (LogTiers tiers = tiers(mid(proxied, bucket).segmentBytes(1 << 20).segmentAge(Duration.ofHours(1)).build(),
        LogTiersListener.NONE)) {
      for (int i = 0; i < 200; i++) {
        tiers.type("auction").append(payload("auction", i));
      }
      assertThat(tiers.awaitDurable(Duration.ofSeconds(10))).isTrue();
    }
    Path segment;
    try (Stream<Path> files = Files.list(journal)) {
      segment = files.filter(p -> p.toString().endsWith(".sealed")).findFirst().orElseThrow();
    }
    // The last frame torn in half, as a crash in the middle of a write leaves it.
    long size = Files.size(segment);
    try (var ch = java.nio.channels.FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.truncate(size - 20);
    }
    // And a damaged byte in the middle of an earlier frame.
    byte[] bytes = Files.readAllBytes(segment);
    bytes[bytes.length / 2] ^= 0x5A;
    Files.write(segment, bytes);
    faults.refuseConnections(false);
    try (LogTiers tiers = tiers(mid(proxied, bucket).build(), LogTiersListener.NONE)) {
      await().atMost(Duration.ofSeconds(20))
          .until(() -> tiers.stats().tier(Tier.MID).orElseThrow().recoveredDelivered() == 198);
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().corruptRegions()).isEqualTo(2);
    }
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    assertThat(contents.records()).hasSize(198);
    assertThat(contents.corruptBytes()).isZero();
  }

  @Test
  void s3ErrorStorm_isRetried_andEverythingArrivesOnce() throws Exception {
    faults.addHttpFault(HttpFault.when(HttpMatch.method("PUT")).respond(HttpFaultResponse.serviceUnavailable())
        .times(15));
    faults.addHttpFault(HttpFault.when(HttpMatch.method("PUT")).respond(HttpFaultResponse.internalError())
        .times(15));
    try (LogTiers tiers = tiers(mid(proxied, bucket).build(), LogTiersListener.NONE)) {
      for (int i = 0; i < 2_000; i++) {
        tiers.type("auction").append(payload("auction", i));
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().delivered() == 2_000);
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().retries()).isPositive();
    }
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    assertThat(contents.records()).hasSize(2_000);
    assertThat(contents.duplicates()).isEmpty();
  }

  @Test
  void connectionsResetMidUpload_areRetried_andEverythingArrivesOnce() throws Exception {
    // Every connection to S3 is reset after 2 KB upstream: PUTs die half-sent, over and over, until the cut is lifted.
    faults.cutAfter(dev.hardway.testkit.fault.Direction.UPSTREAM, 2_000);
    try (LogTiers tiers = tiers(mid(proxied, bucket).build(), LogTiersListener.NONE)) {
      for (int i = 0; i < 3_000; i++) {
        tiers.type("auction").append(payload("auction", i));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().retries() >= 3);
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().delivered()).isZero();
      faults.clearFaults();
      await().atMost(Duration.ofSeconds(30)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().delivered() == 3_000);
    }
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    assertThat(contents.records()).hasSize(3_000);
    assertThat(contents.duplicates()).isEmpty();
  }

  @Test
  void missingBucket_raisesAnAlarm_keepsTheData_andDeliversOnceTheBucketExists() throws Exception {
    String missing = bucket + "-later";
    List<Alarm> alarms = new CopyOnWriteArrayList<>();
    LogTiersListener listener = recording(alarms);
    try (LogTiers tiers = tiers(mid(s3, missing).build(), listener)) {
      for (int i = 0; i < 300; i++) {
        tiers.type("bid").append(payload("bid", i));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().alarms()
          .contains(Alarm.Kind.DESTINATION_REFUSED));
      assertThat(alarms).anySatisfy(a -> {
        assertThat(a.kind()).isEqualTo(Alarm.Kind.DESTINATION_REFUSED);
        assertThat(a.raised()).isTrue();
        assertThat(a.message()).contains(missing);
      });
      s3.createBucket(b -> b.bucket(missing));
      await().atMost(Duration.ofSeconds(20)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().delivered() == 300);
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().alarms()).doesNotContain(Alarm.Kind.DESTINATION_REFUSED);
    }
    assertThat(S3Logs.read(s3, missing).records()).hasSize(300);
  }

  @Test
  void diskQuota_refusesAppends_loudly_andLosesNothingAccepted() throws Exception {
    faults.refuseConnections(true);
    long accepted = 0;
    long rejected = 0;
    byte[] record = new byte[1_000];
    try (LogTiers tiers = tiers(mid(proxied, bucket).segmentBytes(64 << 10).diskQuotaBytes(256 << 10)
        .ringBytes(256 << 10).build(), LogTiersListener.NONE)) {
      for (int i = 0; i < 2_000; i++) {
        AppendResult r = tiers.type("auction").append(record);
        if (r == AppendResult.ACCEPTED) {
          accepted++;
        } else {
          assertThat(r).isEqualTo(AppendResult.REJECTED);
          rejected++;
        }
        if (i % 100 == 0) {
          Thread.sleep(5);
        }
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().alarms()
          .contains(Alarm.Kind.DISK_QUOTA));
      TierStats stats = tiers.stats().tier(Tier.MID).orElseThrow();
      assertThat(rejected).isPositive();
      assertThat(stats.dropped(DropReason.REJECTED)).isEqualTo(rejected);
      assertThat(stats.diskBytes()).isLessThanOrEqualTo(256 << 10);
      faults.refuseConnections(false);
      long expected = accepted;
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(tiers.stats().tier(Tier.MID)
          .orElseThrow().delivered()).as(tiers.stats().toString()).isEqualTo(expected));
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().alarms()).doesNotContain(Alarm.Kind.DISK_QUOTA);
    }
    assertThat(S3Logs.read(s3, bucket).records()).hasSize((int) accepted);
  }

  @Test
  void wallClockSteppingBackwards_keepsKeysUnique() throws Exception {
    AtomicLong millis = new AtomicLong(Instant.parse("2026-11-28T10:59:59.900Z").toEpochMilli());
    InstantSource clock = () -> Instant.ofEpochMilli(millis.get());
    Set<Long> clockMicros = new HashSet<>();
    try (LogTiers tiers = LogTiers.builder().region("us-east-1").host("box-1").clock(clock)
        .timestampResolution(Duration.ZERO)
        .maxRecordBytes(16 << 10).mid(mid(s3, bucket).build()).route("auction", Tier.MID).build()) {
      for (int round = 0; round < 4; round++) {
        clockMicros.add(millis.get() * 1_000);
        for (int i = 0; i < 100; i++) {
          tiers.type("auction").append(payload("auction", round * 100 + i));
        }
        assertThat(tiers.awaitDurable(Duration.ofSeconds(5))).isTrue();
        Thread.sleep(300);
        // Forward across the hour, then back again: partitions change, keys must not collide.
        millis.addAndGet(round % 2 == 0 ? 1_000 : -1_000);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().delivered() == 400);
    }
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    Set<String> keys = new HashSet<>(contents.keys());
    assertThat(keys).hasSameSizeAs(contents.keys());
    assertThat(contents.keys().stream().map(k -> ObjectKeys.parse(k).hour()).distinct()).hasSize(2);
    assertThat(contents.records()).hasSize(400);
    assertThat(contents.duplicates()).isEmpty();
    // With timestampResolution(ZERO) every record carries the clock's value at its append, even a backward one.
    assertThat(contents.records()).allSatisfy(r -> assertThat(clockMicros).contains(r.timestampMicros()));
  }

  @Test
  void anOutageLongerThanTheDeliveryTarget_raisesDeliveryLate_andTheHealClearsIt() throws Exception {
    faults.refuseConnections(true);
    List<Alarm> alarms = new CopyOnWriteArrayList<>();
    LogTiersListener listener = recording(alarms);
    try (LogTiers tiers = tiers(mid(proxied, bucket).deliveryTarget(Duration.ofSeconds(1)).build(), listener)) {
      tiers.type("auction").append(payload("auction", 1));
      await().atMost(Duration.ofSeconds(10)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().alarms()
          .contains(Alarm.Kind.DELIVERY_LATE));
      faults.refuseConnections(false);
      await().atMost(Duration.ofSeconds(10)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().delivered() == 1);
      await().atMost(Duration.ofSeconds(5)).until(() -> !tiers.stats().tier(Tier.MID).orElseThrow().alarms()
          .contains(Alarm.Kind.DELIVERY_LATE));
    }
    assertThat(alarms).anySatisfy(a -> {
      assertThat(a.kind()).isEqualTo(Alarm.Kind.DELIVERY_LATE);
      assertThat(a.raised()).isTrue();
      assertThat(a.message()).contains(bucket);
    });
  }

  @Test
  void aSecondInstanceOnTheSameDirectory_isRefused() {
    try (LogTiers first = tiers(mid(s3, bucket).build(), LogTiersListener.NONE)) {
      assertThat(first.boot()).isNotZero();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> tiers(mid(s3, bucket).build(), LogTiersListener.NONE))
          .isInstanceOf(LogTiersException.class).hasMessageContaining(journal.toString()).hasMessageContaining("in use");
    }
  }

}
