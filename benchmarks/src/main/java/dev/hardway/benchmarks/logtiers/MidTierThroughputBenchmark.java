package dev.hardway.benchmarks.logtiers;

import com.github.luben.zstd.Zstd;
import dev.hardway.logtiers.AppendResult;
import dev.hardway.logtiers.FsyncPolicy;
import dev.hardway.logtiers.LogTiers;
import dev.hardway.logtiers.LogType;
import dev.hardway.logtiers.S3Tier;
import dev.hardway.logtiers.Tier;
import dev.hardway.logtiers.TierStats;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The mid tier end to end into the test kit's S3 (in memory, in this JVM): ad-log-like TSV records (~200 bytes)
 * appended as fast as the tier takes them (appends wait up to 5 s for ring space), until S3 confirmed every one. For
 * each fsync policy it reports wall-clock MB/s (uncompressed), the CPU seconds of the tier's own threads (writer and
 * uploader: CRC, write, sync, read back, zstd level 1, PUT) as MB per CPU-second, and the compression ratio. The
 * baseline, in the same run, is the least any uploader must do: compress the same bytes with zstd level 1 in 64 MiB
 * chunks and PUT them, with no journal at all.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.main=dev.hardway.benchmarks.logtiers.MidTierThroughputBenchmark -Dbench.args="256"} (MiB per policy).
 * Results are in {@code benchmarks/README.md}.
 */
public final class MidTierThroughputBenchmark {
  private MidTierThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    long megabytes = args.length > 0 ? Long.parseLong(args[0]) : 256;
    byte[][] records = records(20_000);
    try (LocalAws aws = LocalAws.start(Service.S3)) {
      S3Client s3 = aws.s3();
      System.out.printf(Locale.ROOT, "%-28s %10s %12s %10s %8s%n", "run", "MB/s", "MB/cpu-s", "cpu-s", "ratio");
      // A first run of each kind warms the JIT up; its figures are not reported.
      baseline(s3, records, Math.max(16, megabytes / 4), false);
      run(s3, records, Math.max(16, megabytes / 4), FsyncPolicy.never(), "warm-up", false);
      baseline(s3, records, megabytes, true);
      for (FsyncPolicy policy : new FsyncPolicy[] {FsyncPolicy.never(), FsyncPolicy.interval(Duration.ofMillis(100)),
          FsyncPolicy.everyBatch()}) {
        run(s3, records, megabytes, policy, policy.toString(), true);
      }
    }
  }

  private static void run(S3Client s3, byte[][] records, long megabytes, FsyncPolicy policy, String name,
      boolean print) throws Exception {
    String bucket = "mid-" + name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "-").replaceAll("-+$", "");
    s3.createBucket(b -> b.bucket(bucket));
    Path journal = Files.createTempDirectory("mid-bench");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long target = megabytes << 20;
    long bytes = 0;
    long count = 0;
    long started = System.nanoTime();
    long cpu;
    // Each tier thread adds its own CPU time when it ends (close() stops them all).
    java.util.concurrent.atomic.LongAdder tierCpu = new java.util.concurrent.atomic.LongAdder();
    LogTiers tiers = LogTiers.builder().region("us-east-1").host("bench")
        .threadFactory(r -> new Thread(() -> {
          try {
            r.run();
          } finally {
            tierCpu.add(threads.getCurrentThreadCpuTime());
          }
        }))
        .mid(S3Tier.midBuilder().s3(s3).bucket(bucket).directory(journal).fsync(policy)
            .blockWhenFull(Duration.ofSeconds(5)).segmentBytes(64 << 20).build())
        .route("auction", Tier.MID).closeTimeout(Duration.ofMinutes(2)).build();
    LogType type = tiers.type("auction");
    while (bytes < target) {
      byte[] r = records[(int) (count % records.length)];
      if (type.append(r) != AppendResult.ACCEPTED) {
        throw new IllegalStateException("append refused after 5 s: " + tiers.stats());
      }
      bytes += r.length;
      count++;
    }
    // close() drains the ring, seals the last segment and waits for its upload.
    tiers.close();
    TierStats stats = tiers.stats().tier(Tier.MID).orElseThrow();
    if (stats.delivered() != count) {
      throw new IllegalStateException("delivered " + stats.delivered() + " of " + count + ": " + stats);
    }
    cpu = tierCpu.sum();
    double seconds = (System.nanoTime() - started) / 1e9;
    long stored = stored(s3, bucket);
    if (print) {
      report("mid tier, fsync " + policy, bytes, seconds, cpu / 1e9, (double) bytes / stored);
    }
  }

  private static void baseline(S3Client s3, byte[][] records, long megabytes, boolean print) {
    String bucketName = print ? "baseline" : "baseline-warm-up";
    s3.createBucket(b -> b.bucket(bucketName));
    long target = megabytes << 20;
    long bytes = 0;
    long count = 0;
    int part = 0;
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long cpuStart = threads.getCurrentThreadCpuTime();
    long started = System.nanoTime();
    ByteArrayOutputStream chunk = new ByteArrayOutputStream(64 << 20);
    while (bytes < target) {
      byte[] r = records[(int) (count++ % records.length)];
      chunk.write(r, 0, r.length);
      bytes += r.length;
      if (chunk.size() >= (64 << 20) || bytes >= target) {
        byte[] compressed = Zstd.compress(chunk.toByteArray(), 1);
        String key = "part-" + part++;
        s3.putObject(b -> b.bucket(bucketName).key(key), RequestBody.fromBytes(compressed));
        chunk.reset();
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    double cpu = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
    if (print) {
      report("baseline: zstd-1 + PUT", bytes, seconds, cpu, (double) bytes / stored(s3, bucketName));
    }
  }

  private static long stored(S3Client s3, String bucket) {
    long sum = 0;
    for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) {
      sum += o.size();
    }
    return sum;
  }

  private static void report(String run, long bytes, double seconds, double cpuSeconds, double ratio) {
    double mb = bytes / 1e6;
    System.out.printf(Locale.ROOT, "%-28s %10.1f %12.1f %10.2f %8.2f%n", run, mb / seconds, mb / cpuSeconds,
        cpuSeconds, ratio);
  }

  /** Tab-separated auction lines with realistic repetition: ids, a few exchanges and sizes, prices, a user agent. */
  private static byte[][] records(int n) {
    SplittableRandom random = new SplittableRandom(70_000_000_000L);
    String[] exchanges = {"adx", "appnexus", "rubicon", "openx", "pubmatic", "index"};
    String[] sizes = {"300x250", "728x90", "320x50", "160x600", "300x600"};
    String[] agents = {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)", "Mozilla/5.0 (Windows NT 10.0; "
        + "Win64; x64) Chrome/131.0", "Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile"};
    byte[][] out = new byte[n][];
    for (int i = 0; i < n; i++) {
      String line = String.join("\t", Long.toHexString(random.nextLong()), exchanges[random.nextInt(exchanges.length)],
          sizes[random.nextInt(sizes.length)], "us-east-1", Integer.toString(random.nextInt(5_000)),
          String.format(Locale.ROOT, "%.4f", random.nextDouble() * 5), agents[random.nextInt(agents.length)],
          "user-" + random.nextInt(1_000_000), random.nextBoolean() ? "won" : "lost");
      out[i] = line.getBytes(StandardCharsets.UTF_8);
    }
    return out;
  }
}
