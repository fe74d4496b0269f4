package dev.hardway.examples.logtiers;

import dev.hardway.logtiers.KinesisTier;
import dev.hardway.logtiers.LogRecords;
import dev.hardway.logtiers.LogTiers;
import dev.hardway.logtiers.LogType;
import dev.hardway.logtiers.ObjectKeys;
import dev.hardway.logtiers.S3Tier;
import dev.hardway.logtiers.Tier;
import dev.hardway.logtiers.TierStats;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A bidder's logs in three tiers on the test kit's Kinesis and S3: auctions to Kinesis (low) and to the main bucket
 * (mid), bids to the region's bucket (high); then the main bucket is read back the way a batch job would, and every
 * auction is there exactly once.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java
 * -Dexample=dev.hardway.examples.logtiers.LogTiersExample}
 */
public final class LogTiersExample {
  private LogTiersExample() {}

  /**
   * Runs the example.
   *
   * @param args none
   * @throws Exception when the local servers or the disk fail
   */
  public static void main(String[] args) throws Exception {
    try (LocalAws aws = LocalAws.start(Service.S3, Service.KINESIS)) {
      S3Client s3 = aws.s3();
      s3.createBucket(b -> b.bucket("logs-main"));
      s3.createBucket(b -> b.bucket("logs-us-east-1"));
      aws.kinesis().createStream(b -> b.streamName("auctions-rt").shardCount(2));
      aws.kinesis().waiter().waitUntilStreamExists(DescribeStreamRequest.builder().streamName("auctions-rt").build(),
          WaiterOverrideConfiguration.builder().backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100)))
              .build());
      Path journal = Files.createTempDirectory("journal");
      Path spool = Files.createTempDirectory("spool");

      int auctions = 20_000;
      LogTiers tiers = LogTiers.builder()
          .region("us-east-1").host("bidder-1")
          .low(KinesisTier.builder().kinesis(aws.kinesis()).stream("auctions-rt").build())
          .mid(S3Tier.midBuilder().s3(s3).bucket("logs-main").directory(journal)
              .segmentAge(Duration.ofSeconds(1)).build())                 // 5 minutes by default
          .high(S3Tier.highBuilder().s3(s3).bucket("logs-us-east-1").directory(spool).build())
          .route("auction", Tier.LOW, Tier.MID)
          .route("bid", Tier.HIGH)
          .build();
      try (tiers) {
        LogType auction = tiers.type("auction");
        LogType bid = tiers.type("bid");
        for (int i = 0; i < auctions; i++) {
          auction.append(("auction\t" + i + "\tadx\t300x250\tuser-" + (i % 997)).getBytes(StandardCharsets.UTF_8));
          if (i % 4 == 0) {
            bid.append(("bid\t" + i + "\t0.42").getBytes(StandardCharsets.UTF_8));
          }
        }
        if (!tiers.awaitDurable(Duration.ofSeconds(5))) {
          throw new IllegalStateException("the journal did not sync within 5 s");
        }
        System.out.println("every auction is on local disk, fsynced: the mid tier will not lose one");
        waitFor(() -> delivered(tiers, Tier.MID) == auctions && delivered(tiers, Tier.LOW) == auctions,
            Duration.ofSeconds(30));
        for (Tier t : List.of(Tier.LOW, Tier.MID)) {
          TierStats s = tiers.stats().tier(t).orElseThrow();
          System.out.printf(Locale.ROOT, "%s tier: %,d delivered, %,d dropped, latency %s%n", t, s.delivered(),
              s.droppedTotal(), s.deliveryLatency());
        }
      } // close() seals the high tier's spool and uploads it
      System.out.printf(Locale.ROOT, "HIGH tier: %,d bids delivered to s3://logs-us-east-1%n",
          tiers.stats().tier(Tier.HIGH).orElseThrow().delivered());

      // What a batch job sees: Hive-style keys, zstd objects of framed records, each with its identity.
      Set<String> identities = new HashSet<>();
      long records = 0;
      String firstKey = null;
      for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket("logs-main")).contents()) {
        firstKey = firstKey == null ? o.key() : firstKey;
        ObjectKeys.Key key = ObjectKeys.parse(o.key());
        byte[] frames = LogRecords.decompress(s3.getObjectAsBytes(b -> b.bucket("logs-main").key(o.key()))
            .asByteArray(), key.compression());
        LogRecords.ReadResult r = LogRecords.forEach(frames,
            rec -> identities.add(rec.host() + "/" + rec.boot() + "/" + rec.sequence()));
        records += r.records();
      }
      System.out.println("an object key: " + firstKey);
      System.out.printf(Locale.ROOT, "s3://logs-main holds %,d auction records, %,d distinct: each exactly once%n",
          records, identities.size());
      deleteAll(journal);
      deleteAll(spool);
    }
  }

  private static long delivered(LogTiers tiers, Tier tier) {
    return tiers.stats().tier(tier).orElseThrow().delivered();
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not delivered within " + timeout);
      }
      Thread.sleep(50);
    }
  }

  private static void deleteAll(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
