package dev.hardway.s3pager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.s3.S3Client;

/** The safepoint-safe explicit path, in both modes; explicit-only mode forced as where userfaultfd is refused. */
@LocalAwsTest({Service.S3})
class ExplicitPathTest {

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void randomReads_prefetch_andAwaitResident_returnTheObjectsBytes(boolean userfaultfd, LocalAws aws, S3Client s3,
      Fresh fresh) {
    String bucket = fresh.bucket();
    int size = 3 * (1 << 20) + 777;
    byte[] expected = Objects3.put(s3, bucket, "explicit", size);
    try (S3Pager pager = Objects3.pager(aws).userfaultfd(userfaultfd).build();
         PagedObject object = pager.open(bucket, "explicit")) {
      assertThat(object.mode()).isEqualTo(userfaultfd ? PagingMode.USERFAULTFD : PagingMode.EXPLICIT_ONLY);
      assertThat(object.handlerPid() > 0).isEqualTo(userfaultfd);
      SplittableRandom random = new SplittableRandom(7);
      for (int i = 0; i < 200; i++) {
        int offset = random.nextInt(size);
        int length = random.nextInt(Math.min(size - offset, 600_000) + 1);
        byte[] got = new byte[length];
        object.read(offset, got, 0, length);
        assertThat(got).as("read(%d, %d)", offset, length)
            .isEqualTo(Arrays.copyOfRange(expected, offset, offset + length));
      }
      object.prefetch(0, size);
      assertThat(object.awaitResident(0, size, Duration.ofSeconds(20))).isTrue();
      byte[] all = new byte[size];
      object.read(0, all, 0, size);
      assertThat(all).isEqualTo(expected);
      PagerStats stats = object.stats();
      assertThat(stats.mode()).isEqualTo(object.mode());
      assertThat(stats.bytesFetched()).isGreaterThanOrEqualTo(size);
      // Nothing read through read() ever faulted: it waits parked, then copies resident pages.
      assertThat(stats.stalls()).isZero();
      if (!userfaultfd) {
        assertThatThrownBy(object::segment).isInstanceOf(S3PagerException.class)
            .hasMessageContaining("EXPLICIT_ONLY").hasMessageContaining("read(");
        assertThatThrownBy(object::directBuffer).isInstanceOf(S3PagerException.class);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void closedObject_refusesReads_withTheObjectsName(boolean userfaultfd, LocalAws aws, S3Client s3, Fresh fresh) {
    String bucket = fresh.bucket();
    Objects3.put(s3, bucket, "closing", 100_000);
    PagedObject closed;
    try (S3Pager pager = Objects3.pager(aws).userfaultfd(userfaultfd).build()) {
      closed = pager.open(bucket, "closing");
      closed.close();
      closed.close();
    }
    assertThatThrownBy(() -> closed.read(0, new byte[10], 0, 10)).isInstanceOf(S3PagerException.class)
        .hasMessageContaining("closing").hasMessageContaining("closed");
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void missingObject_failsAtOpen_namingIt(boolean userfaultfd, LocalAws aws, Fresh fresh) {
    String bucket = fresh.bucket();
    try (S3Pager pager = Objects3.pager(aws).userfaultfd(userfaultfd).build()) {
      assertThatThrownBy(() -> pager.open(bucket, "nope")).isInstanceOf(S3PagerException.class)
          .hasMessageContaining("s3://" + bucket + "/nope").hasMessageContaining("404");
    }
  }
}
