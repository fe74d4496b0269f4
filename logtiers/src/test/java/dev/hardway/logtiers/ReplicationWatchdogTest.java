package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpFaultResponse;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/** The high tier's replication watchdog against the test kit's S3, which has no replication of its own. */
@LocalAwsTest({Service.S3})
class ReplicationWatchdogTest {
  private S3Client s3;
  private String source;
  private String main;
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
  private final InstantSource clock = () -> now.get();

  @BeforeEach
  void setUp(S3Client s3, Fresh fresh) {
    this.s3 = s3;
    this.source = fresh.bucket();
    this.main = fresh.bucket();
  }

  private String put(String bucket, String type, long segment, String body) {
    String key = ObjectKeys.key("", type, Instant.now(), "eu-west-1", "box-9", 0xabcL, segment, Compression.ZSTD);
    s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString(body));
    return key;
  }

  private ReplicationWatchdog.Builder watchdog() {
    return ReplicationWatchdog.builder().main(s3, main).source(s3, source).clock(clock)
        .lookback(Duration.ofHours(2));
  }

  private boolean exists(String bucket, String key) {
    try {
      s3.headObject(b -> b.bucket(bucket).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    }
  }

  @Test
  void lateObjects_areCopied_freshOnes_leftToReplication_replicatedOnes_leftAlone() {
    String late = put(source, "bid", 1, "late");
    String replicated = put(source, "bid", 2, "there");
    put(main, "bid", 2, "there");
    List<Alarm> alarms = new CopyOnWriteArrayList<>();
    LogTiersListener listener = new LogTiersListener() {
      @Override
      public void onAlarm(Alarm alarm) {
        alarms.add(alarm);
      }
    };
    try (ReplicationWatchdog w = watchdog().listener(listener).build()) {
      // Just written: within the SLA, nothing to do yet.
      ReplicationWatchdog.Pass first = w.runOnce();
      assertThat(first.checked()).isEqualTo(2);
      assertThat(first.replicated()).isEqualTo(1);
      assertThat(first.pending()).isEqualTo(1);
      assertThat(first.copied()).isZero();
      assertThat(exists(main, late)).isFalse();
      // Sixteen minutes later the missing one is late, and copied.
      now.set(now.get().plus(Duration.ofMinutes(16)));
      ReplicationWatchdog.Pass second = w.runOnce();
      assertThat(second.copied()).isEqualTo(1);
      assertThat(s3.getObjectAsBytes(b -> b.bucket(main).key(late)).asUtf8String()).isEqualTo("late");
      assertThat(exists(source, replicated)).isTrue();
      assertThat(w.stats().late()).isEqualTo(1);
      assertThat(alarms).anySatisfy(a -> {
        assertThat(a.kind()).isEqualTo(Alarm.Kind.DELIVERY_LATE);
        assertThat(a.tier()).isEqualTo(Tier.HIGH);
        assertThat(a.message()).contains(late);
      });
      // And now both are replicated; nothing more is copied.
      ReplicationWatchdog.Pass third = w.runOnce();
      assertThat(third.replicated()).isEqualTo(2);
      assertThat(third.copied()).isZero();
      assertThat(w.stats().replicationLatency().count()).isEqualTo(4);
    }
  }

  @Test
  void originCopies_areDeleted_onlyOnceConfirmedInTheMainBucket() {
    String key = put(source, "bid", 3, "payload");
    try (ReplicationWatchdog w = watchdog().originExpiry(Duration.ofMinutes(30)).build()) {
      now.set(now.get().plus(Duration.ofHours(1)));
      ReplicationWatchdog.Pass copy = w.runOnce();
      assertThat(copy.copied()).isEqualTo(1);
      assertThat(copy.deletedOrigins()).as("not confirmed before this pass").isZero();
      assertThat(exists(source, key)).isTrue();
      ReplicationWatchdog.Pass delete = w.runOnce();
      assertThat(delete.deletedOrigins()).isEqualTo(1);
      assertThat(exists(source, key)).isFalse();
      assertThat(exists(main, key)).isTrue();
    }
  }

  @Test
  void aDifferentObjectUnderTheSameKey_isCopiedOver_andNeverCountsAsReplicated() {
    String key = put(source, "bid", 4, "the real content");
    s3.putObject(b -> b.bucket(main).key(key), RequestBody.fromString("half"));
    try (ReplicationWatchdog w = watchdog().originExpiry(Duration.ZERO).build()) {
      now.set(now.get().plus(Duration.ofHours(1)));
      ReplicationWatchdog.Pass pass = w.runOnce();
      assertThat(pass.replicated()).isZero();
      assertThat(pass.deletedOrigins()).isZero();
      assertThat(pass.copied()).isEqualTo(1);
      assertThat(s3.getObjectAsBytes(b -> b.bucket(main).key(key)).asUtf8String()).isEqualTo("the real content");
    }
  }

  @Test
  void anS3ErrorStorm_isCounted_andTheNextPassCompletes(LocalAws aws) {
    FaultProxy faults = aws.faults(Service.S3);
    S3Client proxied = aws.configure(S3Client.builder(), faults.uri())
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD)).build();
    String key = put(source, "bid", 5, "x");
    faults.addHttpFault(HttpFault.when(HttpMatch.method("GET")).respond(HttpFaultResponse.serviceUnavailable()));
    try (ReplicationWatchdog w = ReplicationWatchdog.builder().main(proxied, main).source(proxied, source)
        .clock(clock).lookback(Duration.ofHours(2)).build()) {
      now.set(now.get().plus(Duration.ofHours(1)));
      ReplicationWatchdog.Pass failed = w.runOnce();
      assertThat(failed.failures()).isPositive();
      assertThat(exists(main, key)).isFalse();
      faults.clearFaults();
      ReplicationWatchdog.Pass healed = w.runOnce();
      assertThat(healed.failures()).isZero();
      assertThat(healed.copied()).isEqualTo(1);
      assertThat(exists(main, key)).isTrue();
    } finally {
      faults.clearFaults();
    }
  }

  @Test
  void aMissingMainBucket_raisesDestinationRefused_andNoOriginIsDeleted() {
    String key = put(source, "bid", 6, "keep me");
    List<Alarm> alarms = new CopyOnWriteArrayList<>();
    LogTiersListener listener = new LogTiersListener() {
      @Override
      public void onAlarm(Alarm alarm) {
        alarms.add(alarm);
      }
    };
    try (ReplicationWatchdog w = ReplicationWatchdog.builder().main(s3, main + "-gone").source(s3, source)
        .clock(clock).originExpiry(Duration.ZERO).listener(listener).build()) {
      now.set(now.get().plus(Duration.ofHours(1)));
      ReplicationWatchdog.Pass pass = w.runOnce();
      assertThat(pass.failures()).isPositive();
      assertThat(pass.deletedOrigins()).isZero();
      assertThat(exists(source, key)).isTrue();
      assertThat(w.stats().alarms()).contains(Alarm.Kind.DESTINATION_REFUSED);
      assertThat(alarms).anySatisfy(a -> assertThat(a.message()).contains(main + "-gone"));
    }
  }

  @Test
  void staleMultipartUploads_areAborted() {
    String key = ObjectKeys.key("", "bid", Instant.now(), "eu-west-1", "box-9", 0xabcL, 7, Compression.ZSTD);
    String uploadId = s3.createMultipartUpload(b -> b.bucket(source).key(key)).uploadId();
    try (ReplicationWatchdog w = watchdog().abortIncompleteUploadsAfter(Duration.ofDays(1)).build()) {
      assertThat(w.runOnce().abortedUploads()).isZero();
      now.set(now.get().plus(Duration.ofDays(2)));
      assertThat(w.runOnce().abortedUploads()).isEqualTo(1);
      assertThat(s3.listMultipartUploads(b -> b.bucket(source)).uploads())
          .noneMatch(u -> u.uploadId().equals(uploadId));
    }
  }

  @Test
  void theBackgroundLoop_copiesWithoutBeingAsked_andStopsOnClose() {
    String key = put(source, "imp", 8, "loop");
    now.set(now.get().plus(Duration.ofHours(1)));
    try (ReplicationWatchdog w = watchdog().interval(Duration.ofSeconds(1)).build()) {
      w.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> exists(main, key) && w.stats().copied() == 1);
      assertThat(w.stats().passes()).isPositive();
    }
  }

  @Test
  void lifecycleRules_areAppliedPerSourceBucket_orTheRefusalIsReported() {
    try (ReplicationWatchdog w = watchdog().build()) {
      java.util.Map<String, String> outcome = w.applyLifecycleRules(Duration.ofDays(7), Duration.ofDays(1));
      assertThat(outcome).containsOnlyKeys(source);
      // s3proxy does not implement bucket lifecycle (501): the refusal is reported per bucket, not thrown, and the
      // watchdog's own originExpiry and abortIncompleteUploadsAfter do the same work (tested above).
      assertThat(outcome.get(source)).contains("501");
      assertThatThrownBy(() -> w.applyLifecycleRules(Duration.ofHours(1), Duration.ofDays(1)))
          .hasMessageContaining("PT1H");
    }
  }

  @Test
  void badOptions_areRefused_namingThem() {
    assertThatThrownBy(() -> ReplicationWatchdog.builder().sla(Duration.ofDays(8))).hasMessageContaining("sla")
        .hasMessageContaining("PT192H");
    assertThatThrownBy(() -> ReplicationWatchdog.builder().main(s3, "Main")).hasMessageContaining("'Main'");
    assertThatThrownBy(() -> ReplicationWatchdog.builder().main(s3, main).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("source");
    assertThatThrownBy(() -> ReplicationWatchdog.builder().main(s3, main).source(s3, main).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining(main);
  }
}
