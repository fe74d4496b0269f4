package dev.hardway.s3pager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The hazard itself, in a child JVM: a safepoint waits for a reader blocked on a fault, and the handler dies. Only
 * a process outside the JVM can unblock it: with the guardian the JVM recovers (the reader gets InternalError), without
 * it the JVM stays stuck.
 */
@LocalAwsTest({Service.S3})
class SafepointTest {

  @Test
  void handlerDeath_duringAStuckSafepoint_isResolvedByTheGuardian_andHangsWithoutIt(LocalAws aws, S3Client s3,
      Fresh fresh) throws Exception {
    String bucket = fresh.bucket();
    Objects3.put(s3, bucket, "stuck", 16 << 20);
    FaultProxy proxy = aws.faults(Service.S3);
    // Only the second 8 MiB chunk is slow: open() warms the handler up on the first.
    proxy.addHttpFault(HttpFault.when(HttpMatch.method("GET").and(HttpMatch.header("Range", "bytes=8388608-16777215")))
        .delay(Duration.ofSeconds(6)));
    try {
      List<String> withGuardian = runAndKillHandler(aws, proxy, bucket, true, Duration.ofSeconds(15));
      assertThat(withGuardian).contains("GC_STARTING", "GC_DONE", "EXIT");
      assertThat(withGuardian).anySatisfy(l -> assertThat(l).startsWith("INTERNAL_ERROR"));
      List<String> without = runAndKillHandler(aws, proxy, bucket, false, Duration.ofSeconds(4));
      assertThat(without).contains("GC_STARTING").doesNotContain("GC_DONE", "EXIT");
    } finally {
      proxy.clearFaults();
    }
  }

  private static List<String> runAndKillHandler(LocalAws aws, FaultProxy proxy, String bucket, boolean guardian,
      Duration wait) throws Exception {
    Process child = ChildJvm.start(StuckSafepointMain.class, List.of("-XX:+UseG1GC"), proxy.uri().toString(),
        aws.region().id(), bucket, "stuck", Boolean.toString(guardian));
    List<String> lines = new CopyOnWriteArrayList<>();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      Thread reader = Thread.ofPlatform().daemon().start(() -> {
        try {
          String line;
          while ((line = out.readLine()) != null) {
            lines.add(line);
          }
        } catch (java.io.IOException e) {
          // Killed.
        }
      });
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!lines.contains("GC_STARTING") && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(lines).contains("GC_STARTING");
      // Let the safepoint begin and wait on the blocked reader, then kill the handler from outside.
      Thread.sleep(500);
      long handlerPid = Long.parseLong(lines.get(0).substring("HANDLER ".length()));
      ProcessHandle.of(handlerPid).ifPresent(ProcessHandle::destroyForcibly);
      child.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS);
      reader.join(200);
      return List.copyOf(lines);
    } finally {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
