package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/** The high tier: bulk batches to the source-region bucket, a spool with a disk budget, bounded and counted loss. */
@LocalAwsTest({Service.S3})
class HighTierTest {
  @TempDir Path spool;
  @TempDir Path journal;

  @Test
  void routedToMidAndHigh_theSameRecordsArrive_inBothBuckets_withTheSameIdentities(S3Client s3, Fresh fresh)
      throws Exception {
    String main = fresh.bucket();
    String source = fresh.bucket();
    try (LogTiers tiers = LogTiers.builder().region("eu-west-1").host("box-2")
        .mid(S3Tier.midBuilder().s3(s3).bucket(main).directory(journal).segmentAge(Duration.ofMillis(200)).build())
        .high(S3Tier.highBuilder().s3(s3).bucket(source).directory(spool).compression(Compression.GZIP, 6)
            .segmentAge(Duration.ofMillis(200)).build())
        .route("impression", Tier.MID, Tier.HIGH).route("debug", Tier.HIGH).build()) {
      for (int i = 0; i < 1_000; i++) {
        assertThat(tiers.type("impression").append(("imp-" + i).getBytes())).isEqualTo(AppendResult.ACCEPTED);
        assertThat(tiers.type("debug").append(("dbg-" + i).getBytes())).isEqualTo(AppendResult.ACCEPTED);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> tiers.stats().tier(Tier.HIGH).orElseThrow().delivered()
          == 2_000 && tiers.stats().tier(Tier.MID).orElseThrow().delivered() == 1_000);
    }
    S3Logs.Contents mid = S3Logs.read(s3, main);
    S3Logs.Contents high = S3Logs.read(s3, source);
    assertThat(high.keys()).allSatisfy(k -> assertThat(k).endsWith(".gz").contains("eu-west-1_box-2_"));
    assertThat(high.records()).hasSize(2_000);
    assertThat(high.duplicates()).isEmpty();
    assertThat(high.records().stream().filter(r -> r.type().equals("impression")).map(S3Logs.Found::identity))
        .containsExactlyInAnyOrderElementsOf(mid.records().stream().map(S3Logs.Found::identity).toList());
  }

  @Test
  void spoolOverItsBudget_discardsTheOldestSegments_andCountsEveryRecord(LocalAws aws, S3Client s3, Fresh fresh)
      throws Exception {
    FaultProxy faults = aws.faults(Service.S3);
    faults.refuseConnections(true);
    S3Client proxied = aws.configure(S3Client.builder(), faults.uri()).build();
    long accepted = 0;
    try (LogTiers tiers = LogTiers.builder().region("eu-west-1").host("box-2").maxRecordBytes(4 << 10)
        .high(S3Tier.highBuilder().s3(proxied).bucket(fresh.bucket()).directory(spool).ringBytes(256 << 10)
            .segmentBytes(64 << 10).diskQuotaBytes(256 << 10).segmentAge(Duration.ofMillis(100))
            .retry(Duration.ofMillis(20), Duration.ofMillis(100)).build())
        .route("debug", Tier.HIGH).build()) {
      byte[] record = new byte[500];
      for (int i = 0; i < 4_000; i++) {
        if (tiers.type("debug").append(record) == AppendResult.ACCEPTED) {
          accepted++;
        }
        if (i % 200 == 0) {
          Thread.sleep(20);
        }
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> tiers.stats().tier(Tier.HIGH).orElseThrow()
          .dropped(DropReason.SPOOL_FULL) > 0 && tiers.stats().tier(Tier.HIGH).orElseThrow().inFlight()
          * 500L < (512 << 10));
      TierStats stats = tiers.stats().tier(Tier.HIGH).orElseThrow();
      assertThat(stats.alarms()).contains(Alarm.Kind.DISK_QUOTA);
      assertThat(stats.diskBytes()).isLessThanOrEqualTo(256 << 10);
      assertThat(stats.appended()).isEqualTo(4_000);
      assertThat(stats.appended()).isEqualTo(stats.delivered() + stats.droppedTotal() + stats.inFlight());
      assertThat(accepted + stats.dropped(DropReason.RING_FULL)).isEqualTo(4_000);
    } finally {
      faults.refuseConnections(false);
    }
  }
}
