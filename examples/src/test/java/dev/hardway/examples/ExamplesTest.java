package dev.hardway.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.examples.credentials.CredentialsExample;
import dev.hardway.examples.logtiers.LogTiersExample;
import dev.hardway.examples.procache.ProCacheExample;
import dev.hardway.examples.pacing.PacingExample;
import dev.hardway.examples.s3pager.S3PagerExample;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Every example runs as its module README says, and prints what it claims. */
class ExamplesTest {

  private static String run(Runnable main) {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      main.run();
    } finally {
      System.setOut(saved);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void credentialsExample_signsAsTheDefaultRole_thenSwitches() {
    String out = run(() -> CredentialsExample.main(new String[0]));
    assertThat(out).contains("the application signs as arn:aws:sts::000000000000:assumed-role/developer/alice")
        .contains("after `use`, the imitator serves arn:aws:iam::000000000000:role/admin");
  }

  @Test
  void pacingExample_spendsTheBudgetAcrossTwoRegions_neverMore() {
    String out = run(() -> {
      try {
        PacingExample.main(new String[0]);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("us-east/box-1 spent ([\\d,]+), eu-west/box-1 spent ([\\d,]+), total ([\\d,]+)").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    long total = Long.parseLong(m.group(3).replace(",", ""));
    long quiet = Long.parseLong(m.group(2).replace(",", ""));
    assertThat(total).isLessThanOrEqualTo(2_000_000).isGreaterThan(1_000_000);
    assertThat(quiet).as("the quiet box got a share").isPositive();
    long busy = Long.parseLong(m.group(1).replace(",", ""));
    assertThat(busy).as("the busy box, with four times the demand, got more").isGreaterThan(quiet);
  }

  @Test
  void logTiersExample_deliversEveryAuctionToKinesisAndS3_andTheMainBucketHoldsEachOnce() {
    String out = run(() -> {
      try {
        LogTiersExample.main(new String[0]);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(out).contains("LOW tier: 20,000 delivered, 0 dropped").contains("MID tier: 20,000 delivered, 0 dropped")
        .contains("HIGH tier: 5,000 bids delivered")
        .contains("s3://logs-main holds 20,000 auction records, 20,000 distinct: each exactly once")
        .containsPattern("an object key: auction/dt=\\d{4}-\\d{2}-\\d{2}/hr=\\d{2}/us-east-1_bidder-1_[0-9a-f]{16}_\\d{12}\\.zst");
  }

  @Test
  void proCacheExample_warmsTheRegion_pushesAHomeWrite_andNeverReadsHome() {
    String out = run(() -> {
      try {
        ProCacheExample.main(new String[0]);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(out).contains("warm-up: 1,000 profiles scanned at home, 1,000 written to the region's Redis")
        .contains("user-42 in the region: segments=segment-0 (FRESH, version 1)")
        .contains("after a home write, user-42 in the region: segments=segment-0,sports (version 2)")
        .containsPattern("[0-9,]+ of 1,000 profiles answered").contains("home reads 0,");
  }

  @Test
  void s3PagerExample_scansTheObjectThroughPageFaults_andEveryByteIsRight() {
    String out = run(() -> {
      try {
        S3PagerExample.main(new String[0]);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(out).contains("uploaded s3://events/2026-11-28.bin: 256 MiB in 32 parts")
        .containsPattern("opened in [0-9.]+ ms \\(USERFAULTFD, handler process \\d+\\); scanned 256 MiB")
        .contains("checksum matches the uploaded bytes'")
        .containsPattern("32 ranged GETs, 256 MiB fetched, [0-9,]+ faults")
        .contains("the explicit path read the last 16 bytes too");
  }
}
