package dev.hardway.s3pager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * An object twice the memory budget, scanned twice from start to end (directly in a reader JVM, or through read()):
 * every byte right both times, chunks evicted and fetched again, and never more resident than the budget plus one
 * readahead window (the chunks ahead of the reader, and the one it is in): eviction is asynchronous (the handler asks,
 * the application drops the pages), so chunks of the window may complete before the pages of older ones are gone.
 */
@LocalAwsTest({Service.S3})
class MemoryBudgetTest {
  private static final Duration T = Duration.ofSeconds(120);
  private static final int CHUNK = 256 << 10;
  private static final int WINDOW = 4;

  @ParameterizedTest
  @ValueSource(strings = {"scan", "read"})
  void anObjectTwiceTheBudget_scannedTwice_staysWithinBudgetPlusOneWindow(String how, LocalAws aws, S3Client s3,
      Fresh fresh) {
    String bucket = fresh.bucket();
    int size = 16 << 20;
    long budget = size / 2;
    Objects3.put(s3, bucket, "big", size);
    try (Reader reader = Reader.open(aws.endpoint(Service.S3), aws.region().id(), bucket, "big", size,
        "chunk=" + CHUNK, "budget=" + budget, "readahead=2," + WINDOW)) {
      for (int pass = 0; pass < 2; pass++) {
        assertThat(reader.ok(how + " 0 " + size, T)).isEqualTo(Integer.toString(size));
      }
      String stats = reader.ok("stats", T);
      assertThat(Reader.stat(stats, "maxResident")).as(stats).isLessThanOrEqualTo(budget + (WINDOW + 1L) * CHUNK)
          .isGreaterThan(budget / 2);
      // The second pass found the start evicted and fetched it again.
      assertThat(Reader.stat(stats, "evictions")).as(stats).isGreaterThanOrEqualTo((size - budget) / CHUNK);
      // Each pass fetches every byte once: no chunk is dropped and fetched again within a pass.
      assertThat(Reader.stat(stats, "bytes")).as(stats).isEqualTo(2L * size);
      assertThat(Reader.stat(stats, "resident")).as(stats).isLessThanOrEqualTo(budget + (WINDOW + 1L) * CHUNK);
    }
  }
}
