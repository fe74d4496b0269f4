package dev.hardway.s3pager;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import org.agrona.DirectBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.s3.S3Client;

/** Objects of every awkward size, read through every view, every byte checked. */
@LocalAwsTest({Service.S3})
class PagedObjectTest {

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 4096, 3 * 4096 + 123, 5 * (256 << 10) + 4097})
  void everyByte_throughEveryView_isTheObjectsByte(int size, LocalAws aws, S3Client s3, Fresh fresh) {
    String bucket = fresh.bucket();
    byte[] expected = Objects3.put(s3, bucket, "obj-" + size, size);
    try (S3Pager pager = Objects3.pager(aws).build();
         PagedObject object = pager.open(bucket, "obj-" + size)) {
      assertThat(object.size()).isEqualTo(size);
      assertThat(object.mode()).isEqualTo(PagingMode.USERFAULTFD);
      MemorySegment segment = object.segment();
      assertThat(segment.byteSize()).isEqualTo(size);
      assertThat(segment.isReadOnly()).isTrue();
      // Direct access: every page faults into the handler process.
      for (int i = 0; i < size; i++) {
        if (segment.get(JAVA_BYTE, i) != expected[i]) {
          assertThat(segment.get(JAVA_BYTE, i)).as("byte %d", i).isEqualTo(expected[i]);
        }
      }
      DirectBuffer buffer = object.directBuffer();
      assertThat(buffer.capacity()).isEqualTo(size);
      byte[] viaAgrona = new byte[size];
      buffer.getBytes(0, viaAgrona);
      assertThat(viaAgrona).isEqualTo(expected);
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
        assertThat(stats.faults()).isPositive();
        assertThat(stats.timeToFirstByte()).isPresent();
      }
    }
  }
}
