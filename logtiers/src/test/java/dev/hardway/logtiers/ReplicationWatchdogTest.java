package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.TestClock;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpFaultResponse;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The replication watchdog against the test kit's S3 (s3proxy), which does no replication itself: one bucket stands
 * for a source region, another for the main region. S3 stamps LastModified with the server's real clock, so the
 * watchdog's clock is set relative to the real now.
 */
@LocalAwsTest({Service.S3})
class ReplicationWatchdogTest {
  private static final long BOOT = 0x3f9a0c1d2e4b5a69L;

  private LocalAws aws;
  private Fresh fresh;
  private S3Client s3;
  private String source;
  private String main;
  private Instant now;
  private TestClock clock;
  private final Recorder listener = new Recorder();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void setUp(LocalAws aws, Fresh fresh) {
    this.aws = aws;
    this.fresh = fresh;
    this.s3 = aws.s3();
    this.source = fresh.bucket();
    this.main = fresh.bucket();
    this.now = Instant.now();
    this.clock = TestClock.at(now);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private ReplicationWatchdog.Builder watchdog() {
    return ReplicationWatchdog.builder().source(source, s3).main(main, s3).clock(clock).listener(listener);
  }

  private ReplicationWatchdog build(ReplicationWatchdog.Builder b) {
    ReplicationWatchdog w = b.build();
    toClose.add(w);
    return w;
  }

  private String put(String bucket, String type, long segment, String content) {
    String key = ObjectKeys.key("", type, now, "eu-west-1", "bidder-7", BOOT, segment, Compression.ZSTD);
    s3.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString(content));
    return key;
  }

  private String read(String bucket, String key) {
    return s3.getObjectAsBytes(r -> r.bucket(bucket).key(key)).asString(StandardCharsets.UTF_8);
  }

  private boolean exists(String bucket, String key) {
    try {
      s3.headObject(r -> r.bucket(bucket).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  @Test
  void lateObjects_areCopiedToMain_withTypesDiscovered_andDeliveryLateIsRaisedThenCleared() {
    String auction = put(source, "auction", 1, "auction bytes");
    String click = put(source, "click", 1, "click bytes");
    clock.set(now.plus(Duration.ofMinutes(20)));
    ReplicationWatchdog w = build(watchdog());

    ReplicationWatchdog.PassResult first = w.runOnce();

    assertThat(first.complete()).isTrue();
    assertThat(first.checked()).isEqualTo(2);
    assertThat(first.lateObjects()).isEqualTo(2);
    assertThat(first.copied()).isEqualTo(2);
    assertThat(first.replicatedBySource()).isZero();
    assertThat(first.replicationLatency().count()).isEqualTo(2);
    assertThat(read(main, auction)).isEqualTo("auction bytes");
    assertThat(read(main, click)).isEqualTo("click bytes");
    assertThat(listener.raised(Alarm.Kind.DELIVERY_LATE)).singleElement()
        .satisfies(a -> assertThat(a.tier()).isEqualTo(Tier.HIGH));
    assertThat(w.stats().alarms()).contains(Alarm.Kind.DELIVERY_LATE);

    ReplicationWatchdog.PassResult second = w.runOnce();

    assertThat(second.checked()).isEqualTo(2);
    assertThat(second.copied()).isZero();
    assertThat(second.replicatedBySource()).as("each object is counted once").isZero();
    assertThat(second.lateObjects()).isZero();
    assertThat(w.stats().alarms()).doesNotContain(Alarm.Kind.DELIVERY_LATE);
    assertThat(listener.alarms).filteredOn(a -> a.kind() == Alarm.Kind.DELIVERY_LATE && !a.raised()).hasSize(1);
    assertThat(w.stats().copied()).isEqualTo(2);
    assertThat(w.stats().passes()).isEqualTo(2);
  }

  @Test
  void freshObject_isLeftToReplicationUntilItsSla_thenCopied() {
    String key = put(source, "auction", 1, "young");
    clock.set(now.plus(Duration.ofMinutes(1)));
    ReplicationWatchdog w = build(watchdog().types("auction"));

    ReplicationWatchdog.PassResult early = w.runOnce();

    assertThat(early.pending()).isEqualTo(1);
    assertThat(early.copied()).isZero();
    assertThat(early.lateObjects()).isZero();
    assertThat(exists(main, key)).isFalse();
    assertThat(listener.alarms).isEmpty();

    clock.advance(Duration.ofMinutes(15));
    ReplicationWatchdog.PassResult late = w.runOnce();

    assertThat(late.pending()).isZero();
    assertThat(late.copied()).isEqualTo(1);
    assertThat(read(main, key)).isEqualTo("young");
  }

  @Test
  void objectAlreadyReplicated_isConfirmedOnce_andNeverCopied() {
    String key = put(source, "auction", 1, "replicated");
    put(main, "auction", 1, "replicated");
    clock.set(now.plus(Duration.ofHours(2)));
    ReplicationWatchdog w = build(watchdog().types("auction"));

    ReplicationWatchdog.PassResult first = w.runOnce();
    ReplicationWatchdog.PassResult second = w.runOnce();

    assertThat(first.replicatedBySource()).isEqualTo(1);
    assertThat(first.copied()).isZero();
    assertThat(first.lateObjects()).isZero();
    assertThat(first.replicationLatency().count()).isEqualTo(1);
    assertThat(second.checked()).isEqualTo(1);
    assertThat(second.replicatedBySource()).isZero();
    assertThat(second.copied()).isZero();
    assertThat(w.stats().replicatedBySource()).isEqualTo(1);
    assertThat(w.stats().copied()).isZero();
    assertThat(exists(source, key)).as("deleting origins is off by default").isTrue();
    assertThat(listener.alarms).isEmpty();
  }

  @Test
  void differentObjectInMain_isDetected_andReplacedFromTheSourceAfterTheSla() {
    String key = put(source, "auction", 1, "the whole segment");
    put(main, "auction", 1, "the whole");   // a half-written copy
    clock.set(now.plus(Duration.ofMinutes(20)));
    ReplicationWatchdog w = build(watchdog().types("auction"));

    ReplicationWatchdog.PassResult pass = w.runOnce();

    assertThat(pass.mismatched()).isEqualTo(1);
    assertThat(pass.replicatedBySource()).isZero();
    assertThat(pass.copied()).isEqualTo(1);
    assertThat(read(main, key)).isEqualTo("the whole segment");
    assertThat(w.runOnce().mismatched()).isZero();
  }

  @Test
  void multipartObject_isCopiedWithItsSourceETag_andConfirmedOnTheNextPass() {
    String key = ObjectKeys.key("", "auction", now, "eu-west-1", "bidder-7", BOOT, 9, Compression.ZSTD);
    String uploadId = s3.createMultipartUpload(r -> r.bucket(source).key(key).contentType("application/zstd"))
        .uploadId();
    String partETag = s3.uploadPart(r -> r.bucket(source).key(key).uploadId(uploadId).partNumber(1),
        RequestBody.fromString("one part")).eTag();
    s3.completeMultipartUpload(r -> r.bucket(source).key(key).uploadId(uploadId)
        .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(partETag).build())));
    String sourceETag = s3.headObject(r -> r.bucket(source).key(key)).eTag();
    clock.set(now.plus(Duration.ofMinutes(20)));
    ReplicationWatchdog w = build(watchdog().types("auction"));

    assertThat(w.runOnce().copied()).isEqualTo(1);
    ReplicationWatchdog.PassResult next = w.runOnce();

    assertThat(sourceETag).as("a multipart ETag").contains("-");
    assertThat(next.mismatched()).isZero();
    assertThat(next.copied()).isZero();
    assertThat(read(main, key)).isEqualTo("one part");
    var copy = s3.headObject(r -> r.bucket(main).key(key));
    assertThat(copy.metadata()).containsEntry(ReplicationWatchdog.SOURCE_ETAG_METADATA, sourceETag.replace("\"", ""));
    assertThat(copy.contentType()).isEqualTo("application/zstd");
  }

  @Test
  void origin_isDeletedOnlyOnceAListingOfMainShowsItEqual() {
    String key = put(source, "auction", 1, "to be cleaned");
    clock.set(now.plus(Duration.ofHours(2)));
    ReplicationWatchdog w = build(watchdog().types("auction").originExpiry(Duration.ofHours(1)));

    ReplicationWatchdog.PassResult copying = w.runOnce();

    assertThat(copying.copied()).isEqualTo(1);
    assertThat(copying.deletedOrigins()).as("not in the pass that copied it").isZero();
    assertThat(exists(source, key)).isTrue();

    ReplicationWatchdog.PassResult confirming = w.runOnce();

    assertThat(confirming.deletedOrigins()).isEqualTo(1);
    assertThat(exists(source, key)).isFalse();
    assertThat(read(main, key)).isEqualTo("to be cleaned");
    assertThat(w.stats().deletedOrigins()).isEqualTo(1);
  }

  @Test
  void originYoungerThanItsExpiry_orDifferentInMain_isKept() {
    String equal = put(source, "auction", 1, "same");
    put(main, "auction", 1, "same");
    String differs = put(source, "auction", 2, "source version");
    put(main, "auction", 2, "other version");
    ReplicationWatchdog w = build(watchdog().types("auction").originExpiry(Duration.ofHours(1))
        .replicationSla(Duration.ofHours(6)));
    clock.set(now.plus(Duration.ofMinutes(30)));

    ReplicationWatchdog.PassResult young = w.runOnce();

    assertThat(young.deletedOrigins()).isZero();
    assertThat(exists(source, equal)).isTrue();

    clock.set(now.plus(Duration.ofHours(2)));
    ReplicationWatchdog.PassResult old = w.runOnce();

    assertThat(old.deletedOrigins()).as("only the one equal in main").isEqualTo(1);
    assertThat(exists(source, equal)).isFalse();
    assertThat(old.mismatched()).isEqualTo(1);
    assertThat(old.pending()).isEqualTo(1);
    assertThat(exists(source, differs)).isTrue();
    assertThat(read(main, differs)).as("not yet replaced: younger than the SLA").isEqualTo("other version");
  }

  @Test
  void storm_ofServerErrorsInFrontOfMain_isCountedAndTheNextPassCompletes() {
    String key = put(source, "auction", 1, "through the storm");
    clock.set(now.plus(Duration.ofMinutes(20)));
    FaultProxy proxy = aws.faults(Service.S3);
    S3Client mainThroughProxy = proxiedClient(proxy);
    ReplicationWatchdog w = build(watchdog().types("auction").main(main, mainThroughProxy));
    proxy.addHttpFault(HttpFault.when(HttpMatch.any()).respond(HttpFaultResponse.internalError()));

    ReplicationWatchdog.PassResult in500s = w.runOnce();
    proxy.clearFaults();
    proxy.addHttpFault(HttpFault.when(HttpMatch.any()).respond(HttpFaultResponse.s3SlowDown()));
    ReplicationWatchdog.PassResult in503s = w.runOnce();
    proxy.clearFaults();
    ReplicationWatchdog.PassResult after = w.runOnce();

    assertThat(in500s.complete()).isFalse();
    assertThat(in500s.failures()).isPositive();
    assertThat(in500s.copied()).isZero();
    assertThat(in503s.complete()).isFalse();
    assertThat(in503s.failures()).isPositive();
    assertThat(after.complete()).isTrue();
    assertThat(after.failures()).isZero();
    assertThat(after.copied()).isEqualTo(1);
    assertThat(read(main, key)).isEqualTo("through the storm");
    assertThat(w.stats().failures()).isEqualTo(in500s.failures() + in503s.failures());
    assertThat(w.stats().incompletePasses()).isEqualTo(2);
    assertThat(listener.failures).hasSizeGreaterThanOrEqualTo(2)
        .allSatisfy(f -> assertThat(f).isInstanceOf(S3Exception.class));
    assertThat(listener.raised(Alarm.Kind.DESTINATION_REFUSED)).as("5xx is not a refusal").isEmpty();
  }

  @Test
  void backgroundLoop_survivesAStorm_retriesWithBackoff_andStopsItsThreadOnClose() {
    String key = put(source, "auction", 1, "background");
    clock.set(now.plus(Duration.ofMinutes(20)));
    FaultProxy proxy = aws.faults(Service.S3);
    S3Client mainThroughProxy = proxiedClient(proxy);
    AtomicReference<Thread> started = new AtomicReference<>();
    ReplicationWatchdog w = watchdog().types("auction").main(main, mainThroughProxy)
        .interval(Duration.ofMillis(50)).retry(Duration.ofMillis(5), Duration.ofMillis(40))
        .threadFactory(r -> {
          Thread t = new Thread(r, "watchdog-under-test");
          t.setDaemon(true);
          started.set(t);
          return t;
        })
        .build();
    proxy.addHttpFault(HttpFault.when(HttpMatch.any()).respond(HttpFaultResponse.serviceUnavailable()));

    w.start();
    await().atMost(Duration.ofSeconds(20)).until(() -> w.stats().incompletePasses() >= 3);
    assertThat(started.get().isAlive()).isTrue();
    proxy.clearFaults();
    await().atMost(Duration.ofSeconds(20)).until(() -> w.stats().copied() == 1);
    w.close();
    w.close();

    assertThat(started.get().isAlive()).isFalse();
    assertThat(read(main, key)).isEqualTo("background");
    assertThat(w.stats().failures()).isGreaterThanOrEqualTo(3);
    assertThatThrownBy(w::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void missingMainBucket_raisesDestinationRefused_deletesNothing_andRecoversOnceItExists() {
    String key = put(source, "auction", 1, "keep me");
    String missing = fresh.name("bucket");
    clock.set(now.plus(Duration.ofHours(2)));
    ReplicationWatchdog w = build(watchdog().types("auction").main(missing, s3).originExpiry(Duration.ofHours(1)));

    ReplicationWatchdog.PassResult refused = w.runOnce();

    assertThat(refused.complete()).isFalse();
    assertThat(refused.failures()).isEqualTo(1);
    assertThat(refused.deletedOrigins()).isZero();
    assertThat(exists(source, key)).isTrue();
    assertThat(listener.raised(Alarm.Kind.DESTINATION_REFUSED)).singleElement()
        .satisfies(a -> assertThat(a.message()).contains(missing).contains("origin copies are kept"));
    assertThat(w.stats().alarms()).contains(Alarm.Kind.DESTINATION_REFUSED);
    assertThat(w.runOnce().deletedOrigins()).isZero();
    assertThat(listener.raised(Alarm.Kind.DESTINATION_REFUSED)).as("told once").hasSize(1);

    s3.createBucket(r -> r.bucket(missing));
    ReplicationWatchdog.PassResult copying = w.runOnce();
    ReplicationWatchdog.PassResult cleaning = w.runOnce();

    assertThat(copying.copied()).isEqualTo(1);
    assertThat(w.stats().alarms()).doesNotContain(Alarm.Kind.DESTINATION_REFUSED);
    assertThat(cleaning.deletedOrigins()).isEqualTo(1);
    assertThat(read(missing, key)).isEqualTo("keep me");
  }

  @Test
  void staleMultipartUpload_isAborted_aYoungOneIsKept() {
    String key = ObjectKeys.key("", "auction", now, "eu-west-1", "bidder-7", BOOT, 3, Compression.ZSTD);
    String uploadId = s3.createMultipartUpload(r -> r.bucket(source).key(key)).uploadId();
    s3.uploadPart(r -> r.bucket(source).key(key).uploadId(uploadId).partNumber(1), RequestBody.fromString("part"));
    ReplicationWatchdog w = build(watchdog().types("auction").abortIncompleteUploadsAfter(Duration.ofDays(1)));
    clock.set(now.plus(Duration.ofHours(3)));

    assertThat(w.runOnce().abortedUploads()).isZero();
    assertThat(s3.listMultipartUploads(r -> r.bucket(source)).uploads()).hasSize(1);

    clock.set(now.plus(Duration.ofDays(2)));
    ReplicationWatchdog.PassResult pass = w.runOnce();

    assertThat(pass.abortedUploads()).isEqualTo(1);
    assertThat(pass.complete()).isTrue();
    assertThat(s3.listMultipartUploads(r -> r.bucket(source)).uploads()).isEmpty();
    assertThat(w.stats().abortedUploads()).isEqualTo(1);
  }

  @Test
  void lifecycleRules_areRefusedByTheStandIn_andTheOutcomeSaysSo() {
    ReplicationWatchdog w = build(watchdog());

    List<ReplicationWatchdog.LifecycleOutcome> outcomes = w.applyLifecycleRules(3, 1);

    // s3proxy answers PutBucketLifecycleConfiguration with 501 Not Implemented; on AWS this applies the rule.
    assertThat(outcomes).singleElement().satisfies(o -> {
      assertThat(o.bucket()).isEqualTo(source);
      assertThat(o.applied()).isFalse();
      assertThat(o.statusCode()).isEqualTo(501);
      assertThat(o.detail()).contains("originExpiry").contains("abortIncompleteUploadsAfter");
    });
    assertThat(listener.failures).hasSize(1);
    assertThatThrownBy(() -> w.applyLifecycleRules(0, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expireOriginsAfterDays").hasMessageContaining("0");
  }

  @Test
  void builder_rejectsBadValues_namingTheOptionAndTheValue() {
    ReplicationWatchdog.Builder b = ReplicationWatchdog.builder();
    assertThatThrownBy(() -> b.replicationSla(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("replicationSla").hasMessageContaining("PT0S");
    assertThatThrownBy(() -> b.lookback(Duration.ofMinutes(5))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lookback").hasMessageContaining("PT5M");
    assertThatThrownBy(() -> b.source("Not_A_Bucket", s3)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("source bucket").hasMessageContaining("Not_A_Bucket");
    assertThatThrownBy(() -> b.types("auction", "bad/type")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad/type");
    assertThatThrownBy(() -> b.prefix("/logs")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/logs");
    b.source(source, s3);
    assertThatThrownBy(() -> b.source(source, s3)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(source);
  }

  @Test
  void build_rejectsMissingAndContradictingOptions() {
    assertThatThrownBy(() -> ReplicationWatchdog.builder().main(main, s3).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("source");
    assertThatThrownBy(() -> ReplicationWatchdog.builder().source(source, s3).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("main");
    assertThatThrownBy(() -> ReplicationWatchdog.builder().source(source, s3).main(source, s3).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("also a source");
    assertThatThrownBy(() -> watchdog().lookback(Duration.ofHours(24)).originExpiry(Duration.ofDays(2)).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("originExpiry").hasMessageContaining("PT48H");
    assertThatThrownBy(() -> watchdog().retry(Duration.ofSeconds(10), Duration.ofSeconds(1)).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("retry base");
    ReplicationWatchdog w = build(watchdog().types("auction"));
    assertThat(w.toBuilder().replicationSla(Duration.ofMinutes(5)).build().replicationSla())
        .isEqualTo(Duration.ofMinutes(5));
    assertThat(w.replicationSla()).isEqualTo(Duration.ofMinutes(15));
    assertThat(w.lookback()).isEqualTo(Duration.ofHours(24));
    assertThat(w.interval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(w.originExpiry()).isEmpty();
  }

  private S3Client proxiedClient(FaultProxy proxy) {
    // No SDK retries: each failed call is one failure, and the storm is the watchdog's to survive.
    S3Client c = aws.configure(S3Client.builder(), proxy.uri())
        .overrideConfiguration(ClientOverrideConfiguration.builder()
            .retryStrategy(AwsRetryStrategy.doNotRetry()).build())
        .build();
    toClose.add(c);
    return c;
  }

  /** Keeps what the watchdog told its listener. */
  private static final class Recorder implements LogTiersListener {
    final List<Alarm> alarms = new CopyOnWriteArrayList<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();

    @Override
    public void onAlarm(Alarm alarm) {
      alarms.add(alarm);
    }

    @Override
    public void onFailure(Tier tier, Throwable failure) {
      failures.add(failure);
    }

    List<Alarm> raised(Alarm.Kind kind) {
      return alarms.stream().filter(a -> a.kind() == kind && a.raised()).toList();
    }
  }
}
