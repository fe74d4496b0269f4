package dev.hardway.s3pager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * SIGKILL of the handler process mid-scan: direct readers get InternalError on pages that never arrived, explicit
 * readers the module's exception naming the dead process; nobody hangs, nobody reads a wrong byte (zeros included);
 * the pager starts another handler for the next object.
 */
@LocalAwsTest({Service.S3})
class HandlerDeathTest {
  private static final Duration T = Duration.ofSeconds(60);

  @Test
  void sigkillOfTheHandler_failsReadersCleanly_neverHangsNorReadsZeros_andAReplacementServesNewObjects(LocalAws aws,
      S3Client s3, Fresh fresh) throws Exception {
    String bucket = fresh.bucket();
    int size = 24 << 20;
    Objects3.put(s3, bucket, "victim", size);
    FaultProxy proxy = aws.faults(Service.S3);
    // Slow enough that the scan is far from done when the handler dies.
    proxy.bandwidth(Direction.DOWNSTREAM, 4L << 20);
    try (Reader reader = Reader.open(proxy.uri(), aws.region().id(), bucket, "victim", size, "readahead=1,2")) {
      reader.ok("start direct", T);
      reader.ok("start explicit", T);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      long checked = 0;
      while (checked < (2 << 20) && System.nanoTime() < deadline) {
        Thread.sleep(20);
        checked = Long.parseLong(reader.ok("progress", T));
      }
      assertThat(checked).isGreaterThanOrEqualTo(2 << 20).isLessThan(size);
      ProcessHandle handler = ProcessHandle.of(reader.handlerPid()).orElseThrow();
      handler.destroyForcibly();
      long killed = System.nanoTime();
      String outcomes = reader.ok("join 15", Duration.ofSeconds(30));
      assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(10));
      assertThat(outcomes).doesNotContain("still-waiting").doesNotContain("AssertionError")
          .contains("direct=InternalError")
          .contains("explicit=S3PagerException").contains("handler_process_" + handler.pid()).contains("died");
      // Pages that arrived before the death stay readable and right.
      assertThat(reader.ok("scan 0 65536", T)).isEqualTo("65536");
      proxy.clearFaults();
      // The next object gets a new handler.
      String reopened = reader.ok("reopen", T);
      assertThat(reopened).startsWith(size + " ");
      String[] f = reopened.split(" ");
      assertThat(Long.parseLong(f[1])).isNotEqualTo(handler.pid());
      assertThat(f[2]).isEqualTo("2");
    } finally {
      proxy.clearFaults();
    }
  }
}
