package dev.hardway.s3pager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpFaultResponse;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * S3 misbehaving through the fault proxy: the pager retries what is transient and fails fast on what is not. Direct
 * reads happen in a {@link ReaderMain} JVM, away from the test kit's servers in this one.
 */
@LocalAwsTest({Service.S3})
class FetchFailureTest {
  private static final Duration T = Duration.ofSeconds(60);
  private static final String[] OPTIONS = {"chunk=1048576", "piece=65536", "retries=30"};

  private LocalAws aws;
  private S3Client s3;
  private FaultProxy proxy;
  private String bucket;

  @BeforeEach
  void setUp(LocalAws aws, S3Client s3, Fresh fresh) {
    this.aws = aws;
    this.s3 = s3;
    this.bucket = fresh.bucket();
    this.proxy = aws.faults(Service.S3);
  }

  @AfterEach
  void clear() {
    proxy.clearFaults();
  }

  private Reader reader(String key, int size, String... more) {
    String[] options = Arrays.copyOf(OPTIONS, OPTIONS.length + more.length);
    System.arraycopy(more, 0, options, OPTIONS.length, more.length);
    return Reader.open(proxy.uri(), aws.region().id(), bucket, key, size, options);
  }

  @Test
  void slowDowns_resetsMidBody_andTruncatedBodies_areRetried_andEveryByteIsRight() {
    int size = 6 * (1 << 20) + 5;
    Objects3.put(s3, bucket, "flaky", size);
    try (Reader reader = reader("flaky", size)) {
      HttpFault slowDown = proxy.addHttpFault(HttpFault.when(HttpMatch.method("GET"))
          .respond(HttpFaultResponse.s3SlowDown()).times(4));
      HttpFault truncated = proxy.addHttpFault(HttpFault.when(HttpMatch.method("GET")).truncateBody(150_000)
          .times(4));
      // Every connection is reset once it has carried 400 kB: a 1 MiB chunk needs several GETs, each resuming
      // where the last one's installed pieces ended.
      proxy.cutAfter(Direction.DOWNSTREAM, 400_000);
      assertThat(reader.ok("scan 0 " + size, T)).isEqualTo(Integer.toString(size));
      assertThat(reader.ok("read 0 " + size, T)).isEqualTo(Integer.toString(size));
      String stats = reader.ok("stats", T);
      assertThat(slowDown.matched()).isEqualTo(4);
      assertThat(truncated.matched()).isEqualTo(4);
      assertThat(Reader.stat(stats, "retries")).as(stats).isGreaterThanOrEqualTo(8 + 5);
      assertThat(Reader.stat(stats, "bytes")).as("retried bytes are not counted twice: " + stats).isEqualTo(size);
      assertThat(proxy.stats().connectionsCut()).isPositive();
    }
  }

  @Test
  void objectReplacedMidScan_failsTheRest_with412_neverMixesVersions() {
    int size = 4 << 20;
    Objects3.put(s3, bucket, "replaced", size);
    try (Reader reader = reader("replaced", size, "readahead=0,0")) {
      assertThat(reader.ok("scan 0 " + (1 << 20), T)).isEqualTo(Integer.toString(1 << 20));
      s3.putObject(r -> r.bucket(bucket).key("replaced"), RequestBody.fromBytes(Objects3.bytes(size, 99)));
      assertThat(reader.call("touch " + (2 << 20), T)).startsWith("ERR InternalError");
      assertThat(reader.call("read " + (3 << 20) + " 100", T)).startsWith("ERR S3PagerException")
          .contains("412").contains("s3://" + bucket + "/replaced").contains("changed since it was opened");
      // What arrived before the change is the pinned version's and stays readable, directly and explicitly.
      assertThat(reader.ok("scan 0 " + (1 << 20), T)).isEqualTo(Integer.toString(1 << 20));
      assertThat(reader.ok("read 0 " + (1 << 20), T)).isEqualTo(Integer.toString(1 << 20));
    }
  }

  @Test
  void sixtyFourThreads_touchingOneChunk_causeOneGet() {
    int size = 4 << 20;
    Objects3.put(s3, bucket, "crowd", size);
    try (Reader reader = reader("crowd", size, "readahead=0,0")) {
      // Chunk 2 is slow, so that every thread arrives while its one GET is in flight.
      HttpFault chunk2 = proxy.addHttpFault(HttpFault.when(HttpMatch.method("GET")
          .and(HttpMatch.header("Range", "bytes=2097152-3145727"))).delay(Duration.ofMillis(300)));
      assertThat(reader.ok("crowd " + (2 << 20) + " 64 16000", T)).isEqualTo("64");
      assertThat(chunk2.matched()).isEqualTo(1);
      assertThat(Reader.stat(reader.ok("stats", T), "fetches")).isEqualTo(2);
    }
  }

  @Test
  void missingObject_andForbiddenOpen_failAtOpen_namingTheObject() {
    try (S3Pager pager = Objects3.pager(aws, proxy.uri()).build()) {
      assertThatThrownBy(() -> pager.open(bucket, "nope")).isInstanceOf(S3PagerException.class)
          .hasMessageContaining("s3://" + bucket + "/nope").hasMessageContaining("404")
          .satisfies(e -> assertThat(((S3PagerException) e).retryable()).isFalse());
      Objects3.put(s3, bucket, "pinned", 1000);
      assertThatThrownBy(() -> pager.open(bucket, "pinned", null, "\"not-its-etag\""))
          .isInstanceOf(S3PagerException.class).hasMessageContaining("412").hasMessageContaining("not-its-etag");
    }
  }
}
