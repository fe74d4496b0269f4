package dev.hardway.logtiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Child JVMs killed with SIGKILL at random points while appending, syncing, rolling and uploading; then a restart
 * recovers. Every acknowledged record must be in S3 exactly once, every frame valid. And SIGTERM drains.
 */
@LocalAwsTest({Service.S3})
class MidTierCrashTest {
  @TempDir Path journal;

  private static Process child(String mode, LocalAws aws, String bucket, Path dir, long seed) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return new ProcessBuilder(java.toString(), "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        JournalChild.class.getName(), mode, aws.endpoint(Service.S3).toString(), bucket, dir.toString(),
        Long.toString(seed))
        .redirectError(ProcessBuilder.Redirect.appendTo(Path.of("target", "journal-child-" + mode + ".err").toFile()))
        .start();
  }

  @Test
  void sigkillAtRandomPoints_losesNoAcknowledgedRecord_andDuplicatesNone(LocalAws aws, S3Client s3, Fresh fresh)
      throws Exception {
    String bucket = fresh.bucket();
    SplittableRandom random = new SplittableRandom(20261128);
    Map<Long, Long> acknowledged = new ConcurrentHashMap<>();
    int rounds = 6;
    for (int round = 0; round < rounds; round++) {
      Process p = child("crash", aws, bucket, journal, random.nextLong());
      Thread reader = Thread.ofPlatform().daemon().start(() -> readAcks(p, acknowledged));
      try {
        // Kill somewhere between the first appends and several rolls and uploads later.
        Thread.sleep(400 + random.nextInt(1_600));
      } finally {
        p.destroyForcibly();
      }
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      reader.join(5_000);
    }
    assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(rounds - 1);
    // The restart: recovery seals what was open and uploads everything left.
    try (LogTiers tiers = LogTiers.builder().region("us-east-1").host("crash-box")
        .mid(S3Tier.midBuilder().s3(s3).bucket(bucket).directory(journal).retry(Duration.ofMillis(10),
            Duration.ofMillis(100)).build())
        .route("auction", Tier.MID).build()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> onlyLockLeft(journal));
      assertThat(tiers.stats().tier(Tier.MID).orElseThrow().alarms()).isEmpty();
    }
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    assertThat(contents.duplicates()).isEmpty();
    assertThat(contents.corruptBytes()).isZero();
    Map<String, Integer> found = contents.identities();
    long checked = 0;
    for (Map.Entry<Long, Long> ack : acknowledged.entrySet()) {
      for (long seq = 0; seq < ack.getValue(); seq++) {
        String identity = "crash-box/" + Long.toHexString(ack.getKey()) + "/" + seq;
        assertThat(found.get(identity)).as("acknowledged record %s", identity).isEqualTo(1);
        checked++;
      }
    }
    assertThat(checked).isPositive();
  }

  @Test
  void sigterm_drainsEverythingAppended_withinTheCloseTimeout(LocalAws aws, S3Client s3, Fresh fresh)
      throws Exception {
    String bucket = fresh.bucket();
    Process p = child("term", aws, bucket, journal, 7);
    String line;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      line = out.readLine();
      assertThat(line).startsWith("APPENDED ");
      long started = System.nanoTime();
      p.destroy();
      assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(12));
    } finally {
      // A child that waits for SIGTERM must never outlive a failed assertion.
      p.destroyForcibly();
    }
    String[] parts = line.split(" ");
    long boot = Long.parseUnsignedLong(parts[1], 16);
    long appended = Long.parseLong(parts[2]);
    S3Logs.Contents contents = S3Logs.read(s3, bucket);
    assertThat(contents.records()).hasSize((int) appended);
    assertThat(contents.duplicates()).isEmpty();
    assertThat(contents.records()).allSatisfy(r -> assertThat(r.boot()).isEqualTo(boot));
    assertThat(onlyLockLeft(journal)).isTrue();
  }

  private static void readAcks(Process p, Map<Long, Long> acknowledged) {
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        String[] parts = line.split(" ");
        if (parts.length == 3 && parts[0].equals("ACK")) {
          acknowledged.merge(Long.parseUnsignedLong(parts[1], 16), Long.parseLong(parts[2]), Math::max);
        }
      }
    } catch (IOException ignored) {
      // The child was killed mid-line: what was read so far counts.
    }
  }

  private static boolean onlyLockLeft(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      List<String> names = new ArrayList<>(files.map(f -> f.getFileName().toString()).toList());
      names.remove(".lock");
      return names.isEmpty();
    }
  }
}
