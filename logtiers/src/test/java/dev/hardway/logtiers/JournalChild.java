package dev.hardway.logtiers;

import dev.hardway.testkit.LocalAws;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A bidder-like process for the crash tests: appends to the mid tier and reports on stdout what is acknowledged.
 * Arguments: mode ({@code crash} or {@code term}), S3 endpoint, bucket, journal directory, seed.
 *
 * <ul>
 *   <li>{@code crash}: appends in bursts for ever; after each {@link LogTiers#awaitDurable} that succeeds prints
 *       {@code ACK <boot> <n>}: records 0..n-1 of that boot are acknowledged. The parent kills it with SIGKILL.
 *   <li>{@code term}: appends a fixed number of records without waiting, prints {@code APPENDED <boot> <n>}, then
 *       sleeps until the parent sends SIGTERM; the shutdown hook must drain within the close timeout.
 * </ul>
 */
public final class JournalChild {
  private JournalChild() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    S3Client s3 = S3Client.builder().endpointOverride(URI.create(args[1])).region(Region.US_EAST_1)
        .forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
            LocalAws.DEFAULT_ACCESS_KEY_ID, LocalAws.DEFAULT_SECRET_ACCESS_KEY)))
        .build();
    S3Tier mid = S3Tier.midBuilder().s3(s3).bucket(args[2]).directory(Path.of(args[3]))
        .segmentBytes(64 << 10).segmentAge(Duration.ofMillis(150)).ringBytes(1 << 20)
        .fsync(FsyncPolicy.interval(Duration.ofMillis(10))).retry(Duration.ofMillis(10), Duration.ofMillis(100))
        .blockWhenFull(Duration.ofSeconds(2))
        .build();
    SplittableRandom random = new SplittableRandom(Long.parseLong(args[4]));
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    LogTiers tiers = LogTiers.builder().region("us-east-1").host("crash-box").mid(mid)
        .route("auction", Tier.MID).route("bid", Tier.MID).maxRecordBytes(16 << 10)
        .closeTimeout(Duration.ofSeconds(8)).closeOnShutdown(mode.equals("term")).build();
    String boot = Long.toHexString(tiers.boot());
    LogType[] types = {tiers.type("auction"), tiers.type("bid")};
    long n = 0;
    if (mode.equals("term")) {
      for (int i = 0; i < 5_000; i++) {
        append(types[i % 2], n++, random);
      }
      out.println("APPENDED " + boot + " " + n);
      Thread.sleep(Long.MAX_VALUE);
    }
    while (true) {
      int burst = 1 + random.nextInt(300);
      for (int i = 0; i < burst; i++) {
        append(types[random.nextInt(2)], n++, random);
      }
      if (tiers.awaitDurable(Duration.ofSeconds(5))) {
        out.println("ACK " + boot + " " + n);
      }
    }
  }

  private static void append(LogType type, long n, SplittableRandom random) {
    byte[] payload = new byte[16 + random.nextInt(400)];
    random.nextBytes(payload);
    AppendResult r = type.append(payload);
    if (r != AppendResult.ACCEPTED) {
      // The parent's bookkeeping assumes sequence n is the n-th append; a refusal would break it, so say so loudly.
      throw new IllegalStateException("append " + n + " was " + r);
    }
  }
}
