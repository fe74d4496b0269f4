package dev.hardway.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpFaultResponse;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.s3.S3Client;

/** A box's sync against the test kit's Kinesis and S3, with faults from the proxy. */
@LocalAwsTest({Service.S3, Service.KINESIS})
class PacerSyncTest {
  private static final BoxId BOX = new BoxId("eu-west", "box-7");
  private LocalAws aws;
  private String bucket;
  private String stream;
  private Pacer pacer;
  private S3Client s3;
  private KinesisClient kinesis;
  private PacerSync sync;

  @BeforeEach
  void start(LocalAws aws, Fresh fresh) {
    this.aws = aws;
    bucket = fresh.bucket();
    stream = fresh.stream(1);
    pacer = Pacer.builder().box(BOX).backgroundTick(false).build();
    // No SDK retries: each sync attempt is one request, so the counts below are exact.
    ClientOverrideConfiguration noRetries = ClientOverrideConfiguration.builder()
        .retryStrategy(AwsRetryStrategy.doNotRetry()).build();
    s3 = aws.configure(S3Client.builder(), aws.faults(Service.S3).uri()).overrideConfiguration(noRetries).build();
    kinesis = aws.configure(KinesisClient.builder(), aws.faults(Service.KINESIS).uri())
        .overrideConfiguration(noRetries).build();
    sync = PacerSync.builder().pacer(pacer).kinesis(kinesis).stream(stream).s3(s3).bucket(bucket)
        .background(false).build();
  }

  @AfterEach
  void stop() {
    sync.close();
    pacer.close();
    s3.close();
    kinesis.close();
  }

  private Allocation publish(long version, long granted) {
    long now = System.currentTimeMillis();
    Allocation a = new Allocation(1, version, now, Map.of("c1", new Allocation.BudgetLeases(7,
        now + Duration.ofHours(1).toMillis(), Degradation.LAST_RATE,
        Map.of(BOX, new Lease(version, granted, 1_000, 2_000, now + 30_000, now + 3_600_000)))));
    aws.s3().putObject(b -> b.bucket(bucket).key("pacing/allocation"),
        RequestBody.fromBytes(WireFormat.encodeAllocation(a)));
    return a;
  }

  @Test
  void fetch_appliesTheAllocation_thenAConditionalGetSeesNoChange() {
    Allocation a = publish(1, 50_000);
    assertThat(sync.fetchAllocation()).isTrue();
    assertThat(pacer.allocation()).isEqualTo(a);
    assertThat(sync.fetchAllocation()).isTrue();
    SyncStats s = sync.stats();
    assertThat(s.applied()).isEqualTo(1);
    assertThat(s.notModified()).isEqualTo(1);
    Allocation b = publish(2, 60_000);
    assertThat(sync.fetchAllocation()).isTrue();
    assertThat(pacer.allocation()).isEqualTo(b);
  }

  @Test
  void publish_putsOneRecordPerBox_thatDecodesToThePacersReports() {
    publish(1, 50_000);
    sync.fetchAllocation();
    pacer.tick();
    pacer.budget("c1").shouldBid();
    assertThat(sync.publishReports()).isTrue();
    List<Record> records = readAll();
    assertThat(records).hasSize(1);
    assertThat(records.get(0).partitionKey()).isEqualTo("eu-west/box-7");
    List<SpendReport> decoded = WireFormat.decodeReports(records.get(0).data().asByteArray());
    assertThat(decoded).hasSize(1);
    assertThat(decoded.get(0).budgetId()).isEqualTo("c1");
    assertThat(decoded.get(0).period()).isEqualTo(7);
    assertThat(decoded.get(0).opportunities()).isEqualTo(1);
    assertThat(decoded.get(0).leaseEpoch()).isEqualTo(1);
  }

  @Test
  void failures_areCountedAndSurvived_theLeaseStays_andTheNextSyncWorks() {
    publish(1, 50_000);
    sync.fetchAllocation();
    pacer.tick();
    FaultProxy s3Faults = aws.faults(Service.S3);
    FaultProxy kinesisFaults = aws.faults(Service.KINESIS);
    s3Faults.addHttpFault(HttpFault.when(HttpMatch.any()).respond(HttpFaultResponse.internalError()));
    kinesisFaults.refuseConnections(true);
    sync.syncNow();
    SyncStats s = sync.stats();
    assertThat(s.fetchFailures()).isEqualTo(1);
    assertThat(s.reportFailures()).isEqualTo(1);
    assertThat(s.lastError()).isNotBlank();
    assertThat(pacer.allocation()).isNotNull();
    aws.clearFaults();
    publish(2, 70_000);
    sync.syncNow();
    assertThat(sync.stats().applied()).isEqualTo(2);
    assertThat(sync.stats().reportsSent()).isEqualTo(1);
  }

  @Test
  void aCorruptAllocation_isRefusedAndCounted_andTheHeldOneStays() {
    Allocation a = publish(1, 50_000);
    sync.fetchAllocation();
    aws.s3().putObject(b -> b.bucket(bucket).key("pacing/allocation"), RequestBody.fromString("garbage"));
    assertThat(sync.fetchAllocation()).isFalse();
    assertThat(sync.stats().lastError()).contains("malformed allocation");
    assertThat(pacer.allocation()).isEqualTo(a);
  }

  private List<Record> readAll() {
    String shard = aws.kinesis().listShards(b -> b.streamName(stream)).shards().get(0).shardId();
    String it = aws.kinesis().getShardIterator(b -> b.streamName(stream).shardId(shard)
        .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
    return new ArrayList<>(aws.kinesis().getRecords(b -> b.shardIterator(it)).records());
  }
}
