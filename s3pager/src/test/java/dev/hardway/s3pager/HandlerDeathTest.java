package dev.hardway.s3pager;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * SIGKILL of the handler process mid-scan: direct readers get InternalError on pages that never arrived, explicit
 * readers the module's exception naming the dead process; nobody hangs, nobody reads a wrong byte (zeros included).
 */
@LocalAwsTest({Service.S3})
class HandlerDeathTest {

  @Test
  void sigkillOfTheHandler_failsReadersCleanly_neverHangsNorReadsZeros(LocalAws aws, S3Client s3, Fresh fresh)
      throws Exception {
    String bucket = fresh.bucket();
    int size = 24 << 20;
    byte[] expected = Objects3.put(s3, bucket, "victim", size);
    FaultProxy proxy = aws.faults(Service.S3);
    // Slow enough that the scan is far from done when the handler dies.
    proxy.bandwidth(Direction.DOWNSTREAM, 4L << 20);
    try (S3Pager pager = Objects3.pager(aws, proxy.uri()).readahead(1, 2).build();
         PagedObject object = pager.open(bucket, "victim")) {
      MemorySegment segment = object.segment();
      AtomicLong directChecked = new AtomicLong();
      AtomicLong explicitChecked = new AtomicLong();
      CopyOnWriteArrayList<Throwable> outcomes = new CopyOnWriteArrayList<>();
      Thread direct = Thread.ofPlatform().name("direct-reader").start(() -> {
        try {
          for (int i = 0; i < size; i++) {
            byte b = segment.get(JAVA_BYTE, i);
            if (b != expected[i]) {
              throw new AssertionError("byte " + i + " is " + b + ", expected " + expected[i]);
            }
            directChecked.incrementAndGet();
          }
        } catch (Throwable t) {
          outcomes.add(t);
        }
      });
      Thread explicit = Thread.ofPlatform().name("explicit-reader").start(() -> {
        try {
          byte[] buffer = new byte[64 << 10];
          for (int offset = size - buffer.length; offset >= 0; offset -= buffer.length) {
            object.read(offset, buffer, 0, buffer.length);
            for (int i = 0; i < buffer.length; i++) {
              if (buffer[i] != expected[offset + i]) {
                throw new AssertionError("byte " + (offset + i) + " is " + buffer[i]);
              }
            }
            explicitChecked.addAndGet(buffer.length);
          }
        } catch (Throwable t) {
          outcomes.add(t);
        }
      });
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (directChecked.get() < (2 << 20) && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(directChecked.get()).isGreaterThanOrEqualTo(2 << 20).isLessThan(size);
      ProcessHandle handler = ProcessHandle.of(object.handlerPid()).orElseThrow();
      handler.destroyForcibly();
      long killed = System.nanoTime();
      direct.join(Duration.ofSeconds(15));
      explicit.join(Duration.ofSeconds(15));
      assertThat(direct.isAlive()).as("direct reader still waiting").isFalse();
      assertThat(explicit.isAlive()).as("explicit reader still waiting").isFalse();
      assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(10));
      assertThat(outcomes).hasSize(2).allSatisfy(t -> assertThat(t).isNotInstanceOf(AssertionError.class));
      assertThat(outcomes).anySatisfy(t -> assertThat(t).isInstanceOf(InternalError.class));
      assertThat(outcomes).anySatisfy(t -> assertThat(t).isInstanceOf(S3PagerException.class)
          .hasMessageContaining("handler process " + handler.pid()).hasMessageContaining("died"));
      // Pages that arrived before the death stay readable and right.
      assertThat(segment.get(JAVA_BYTE, 0)).isEqualTo(expected[0]);
    } finally {
      proxy.clearFaults();
    }
  }
}
