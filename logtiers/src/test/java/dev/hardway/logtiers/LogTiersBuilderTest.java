package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** Bad configuration gets an error that names the option and the value received. */
class LogTiersBuilderTest {
  @TempDir Path dir;

  private static S3Client s3() {
    return S3Client.builder().region(Region.US_EAST_1).build();
  }

  @Test
  void options_outOfRange_areRefused_namingTheOptionAndValue() {
    assertThatThrownBy(() -> LogTiers.builder().region("US_EAST")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("region").hasMessageContaining("US_EAST");
    assertThatThrownBy(() -> LogTiers.builder().route("bad/type", Tier.MID))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad/type");
    assertThatThrownBy(() -> LogTiers.builder().timestampResolution(Duration.ofNanos(10)))
        .hasMessageContaining("timestampResolution").hasMessageContaining("PT0.00000001S");
    assertThatThrownBy(() -> LogTiers.builder().maxRecordBytes(0)).hasMessageContaining("maxRecordBytes")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> S3Tier.midBuilder().ringBytes(100_000)).hasMessageContaining("ringBytes")
        .hasMessageContaining("100000");
    assertThatThrownBy(() -> S3Tier.midBuilder().bucket("Bad_Bucket")).hasMessageContaining("Bad_Bucket");
    assertThatThrownBy(() -> S3Tier.midBuilder().prefix("/logs")).hasMessageContaining("/logs");
    assertThatThrownBy(() -> S3Tier.midBuilder().compression(Compression.GZIP, 12)).hasMessageContaining("12");
    assertThatThrownBy(() -> S3Tier.midBuilder().blockWhenFull(Duration.ofMinutes(1))).hasMessageContaining("PT1M");
    assertThatThrownBy(() -> FsyncPolicy.interval(Duration.ZERO)).hasMessageContaining("PT0S");
    assertThatThrownBy(() -> KinesisTier.builder().stream("a b")).hasMessageContaining("a b");
    assertThatThrownBy(() -> KinesisTier.builder().maxRequestsInFlight(0)).hasMessageContaining("maxRequestsInFlight");
  }

  @Test
  void contradictions_areRefused_atBuild() {
    try (S3Client s3 = s3()) {
      S3Tier mid = S3Tier.midBuilder().s3(s3).bucket("main-logs").directory(dir).build();
      assertThatThrownBy(() -> LogTiers.builder().mid(mid).route("a", Tier.MID).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("region");
      assertThatThrownBy(() -> LogTiers.builder().region("us-east-1").mid(mid).route("a", Tier.LOW).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("LOW").hasMessageContaining("'a'");
      assertThatThrownBy(() -> LogTiers.builder().region("us-east-1").mid(mid).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("route");
      assertThatThrownBy(() -> LogTiers.builder().mid(S3Tier.highBuilder().s3(s3).bucket("b-b-b").directory(dir)
          .build())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("midBuilder");
      assertThatThrownBy(() -> LogTiers.builder().region("us-east-1").mid(mid)
          .high(S3Tier.highBuilder().s3(s3).bucket("src-logs").directory(dir).build()).route("a", Tier.MID).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("directories of their own");
      assertThatThrownBy(() -> LogTiers.builder().region("us-east-1").maxRecordBytes(8 << 20)
          .mid(mid.toBuilder().ringBytes(1 << 20).build()).route("a", Tier.MID).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("raise ringBytes");
      assertThatThrownBy(() -> S3Tier.midBuilder().s3(s3).bucket("main-logs").build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("directory");
      assertThatThrownBy(() -> S3Tier.midBuilder().s3(s3).bucket("main-logs").directory(dir)
          .segmentBytes(1 << 20).diskQuotaBytes(1 << 20).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("diskQuotaBytes");
    }
  }

  @Test
  void unroutedType_andOversizedRecords_areRefused_namingThem() {
    try (S3Client s3 = s3(); LogTiers tiers = LogTiers.builder().region("us-east-1").host("h")
        .mid(S3Tier.midBuilder().s3(s3).bucket("main-logs").directory(dir).build()).maxRecordBytes(1_000)
        .route("auction", Tier.MID).build()) {
      assertThatThrownBy(() -> tiers.type("bid")).hasMessageContaining("'bid'").hasMessageContaining("auction");
      assertThatThrownBy(() -> tiers.type("auction").append(new byte[1_001])).hasMessageContaining("1001")
          .hasMessageContaining("1000");
      assertThat(tiers.type("auction")).isSameAs(tiers.type("auction"));
    }
  }

  @Test
  void appendAfterClose_isRefusedByTheMidTier_andCounted() {
    try (S3Client s3 = s3()) {
      LogTiers tiers = LogTiers.builder().region("us-east-1").host("h").closeTimeout(Duration.ZERO)
          .mid(S3Tier.midBuilder().s3(s3).bucket("main-logs").directory(dir).build()).route("auction", Tier.MID)
          .build();
      tiers.close();
      tiers.close();
      assertThat(tiers.type("auction").append(new byte[10])).isEqualTo(AppendResult.REJECTED);
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().dropped(DropReason.REJECTED)).isEqualTo(1);
    }
  }
}
