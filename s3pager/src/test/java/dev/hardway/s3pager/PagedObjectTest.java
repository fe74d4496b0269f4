package dev.hardway.s3pager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Objects of every awkward size, read through every view, every byte checked: directly, through Agrona and through
 * Chronicle Bytes in a reader JVM (see {@link ReaderMain} for why not this one), through the explicit path in both.
 */
@LocalAwsTest({Service.S3})
class PagedObjectTest {
  private static final Duration T = Duration.ofSeconds(60);

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 4096, 3 * 4096 + 123, 65_536, 65_537, 256 << 10, 5 * (256 << 10) + 4097})
  void everyByte_throughEveryView_isTheObjectsByte(int size, LocalAws aws, S3Client s3, Fresh fresh) {
    String bucket = fresh.bucket();
    String key = "obj-" + size;
    byte[] expected = Objects3.put(s3, bucket, key, size);
    try (Reader reader = Reader.open(aws.endpoint(Service.S3), aws.region().id(), bucket, key, size)) {
      assertThat(reader.mode()).isEqualTo("USERFAULTFD");
      assertThat(reader.ok("scan 0 " + size, T)).isEqualTo(Integer.toString(size));
      assertThat(reader.ok("agrona 0 " + size, T)).isEqualTo(Integer.toString(size));
      assertThat(reader.ok("chronicle 0 " + size, T)).isEqualTo(Integer.toString(size));
      assertThat(reader.ok("read 0 " + size, T)).isEqualTo(Integer.toString(size));
      if (size > 0) {
        String stats = reader.ok("stats", T);
        assertThat(Reader.stat(stats, "bytes")).as(stats).isEqualTo(size);
        // Objects within the first GET are resident when open returns: nothing left to fault on.
        assertThat(Reader.stat(stats, "faults") > 0).as(stats).isEqualTo(size > 65_536);
      }
    }
    // The explicit path in this JVM: it waits parked, never in a fault, so the test kit's S3 here is no hazard.
    try (S3Pager pager = Objects3.pager(aws).build(); PagedObject object = pager.open(bucket, key)) {
      assertThat(object.size()).isEqualTo(size);
      assertThat(object.mode()).isEqualTo(PagingMode.USERFAULTFD);
      assertThat(object.segment().byteSize()).isEqualTo(size);
      assertThat(object.segment().isReadOnly()).isTrue();
      assertThat(object.directBuffer().capacity()).isEqualTo(size);
      byte[] viaRead = new byte[size];
      object.read(0, viaRead, 0, size);
      assertThat(viaRead).isEqualTo(expected);
      ByteBuffer direct = ByteBuffer.allocateDirect(size);
      object.read(0, direct);
      assertThat(direct.position()).isEqualTo(size);
      byte[] viaBuffer = new byte[size];
      direct.flip().get(viaBuffer);
      assertThat(viaBuffer).isEqualTo(expected);
      if (size > 0) {
        PagerStats stats = object.stats();
        assertThat(stats.bytesFetched()).isEqualTo(size);
        assertThat(stats.stalls()).isZero();
      }
    }
  }
}
