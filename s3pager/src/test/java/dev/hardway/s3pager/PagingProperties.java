package dev.hardway.s3pager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * For any object size, chunk size, memory budget (so any eviction schedule the engine picks), paging mode and
 * sequence of reads, prefetches and waits, the bytes read are the object's bytes. Reads go through the explicit path,
 * which never faults, so the test kit's S3 may share this JVM; direct reads are covered in a reader JVM by
 * {@link PagedObjectTest}, {@link FetchFailureTest} and {@link GcStormTest}.
 */
class PagingProperties {
  private static LocalAws aws;
  private static S3Client s3;
  private static final Map<Integer, byte[]> PUT = new ConcurrentHashMap<>();

  /** One step: 0 read, 1 prefetch, 2 await resident; at a fraction of the object, of a length. */
  record Op(int kind, double at, int length) {}

  @BeforeContainer
  static void start() {
    aws = LocalAws.start(Service.S3);
    s3 = aws.s3();
    s3.createBucket(b -> b.bucket("properties"));
  }

  @AfterContainer
  static void stop() {
    if (aws != null) {
      aws.close();
    }
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    return Arbitraries.integers().between(0, 5).flatMap(kind -> Arbitraries.doubles().between(0, 1)
            .flatMap(at -> Arbitraries.integers().between(1, 400_000).map(length -> new Op(kind % 3 == 0 ? 0
                : kind % 3, at, length))))
        .list().ofMinSize(1).ofMaxSize(40);
  }

  @Property(tries = 30)
  void theBytesReadAreAlwaysTheObjectsBytes(@ForAll @IntRange(min = 1, max = 1_500_000) int size,
      @ForAll @IntRange(min = 0, max = 2) int chunkShift, @ForAll @IntRange(min = 0, max = 4) int budgetChunks,
      @ForAll boolean userfaultfd, @ForAll("ops") List<Op> ops) {
    long chunk = (64L << 10) << chunkShift;
    String key = "object-" + size;
    byte[] expected = PUT.computeIfAbsent(size, n -> Objects3.put(s3, "properties", key, n));
    S3Pager.Builder builder = Objects3.pager(aws).chunkSize(chunk).pieceSize(64 << 10).readahead(1, 4)
        .userfaultfd(userfaultfd);
    if (budgetChunks > 0) {
      builder.memoryBudget(budgetChunks * chunk);
    }
    try (S3Pager pager = builder.build(); PagedObject object = pager.open("properties", key)) {
      for (Op op : ops) {
        int offset = (int) Math.min(size - 1, Math.floor(op.at() * size));
        int length = Math.min(op.length(), size - offset);
        switch (op.kind()) {
          case 0 -> {
            byte[] got = new byte[length];
            object.read(offset, got, 0, length);
            assertThat(got).as("read(%d, %d) of %d bytes in %d-byte chunks", offset, length, size, chunk)
                .isEqualTo(Arrays.copyOfRange(expected, offset, offset + length));
          }
          case 1 -> object.prefetch(offset, length);
          default -> assertThat(object.awaitResident(offset, length, Duration.ofSeconds(30))).isTrue();
        }
      }
      byte[] all = new byte[size];
      object.read(0, all, 0, size);
      assertThat(all).isEqualTo(expected);
      if (budgetChunks > 0 && size > (budgetChunks + 5) * chunk) {
        assertThat(object.stats().evictions()).as("an object larger than its budget and window").isPositive();
      }
    }
  }
}
