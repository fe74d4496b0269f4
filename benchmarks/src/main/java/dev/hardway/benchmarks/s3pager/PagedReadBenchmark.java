package dev.hardway.benchmarks.s3pager;

import dev.hardway.s3pager.PagedObject;
import dev.hardway.s3pager.S3Pager;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * The hot paths over resident pages, each beside plain off-heap memory: a 64 KiB {@code read(...)} (the explicit,
 * safepoint-safe path: an await round trip to the handler, a pin, a copy) against {@code MemorySegment.copy}, and a
 * direct scan of one 4 KiB page through {@code segment()} against the same scan of plain memory.
 *
 * <p>The whole object is made resident (parked, through {@code awaitResident}) before measuring, so no fault happens
 * while the test kit's S3 shares this JVM (see the s3pager README on why that matters).
 *
 * <p>Run: {@code ./mvnw -q -pl benchmarks exec:exec -Dbench.args="PagedReadBenchmark -prof gc"}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class PagedReadBenchmark {
  private static final int SIZE = 64 << 20;
  private static final int BLOCK = 64 << 10;
  private static final int OFFSETS = 1024;

  private LocalAws aws;
  private S3Pager pager;
  private PagedObject object;
  private Arena arena;
  private MemorySegment paged;
  private MemorySegment plain;
  private final byte[] dst = new byte[BLOCK];
  private final long[] offsets = new long[OFFSETS];
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    aws = LocalAws.start(Service.S3);
    aws.s3().createBucket(b -> b.bucket("bench"));
    byte[] bytes = new byte[SIZE];
    new SplittableRandom(1).nextBytes(bytes);
    aws.s3().putObject(b -> b.bucket("bench").key("object"), RequestBody.fromBytes(bytes));
    pager = S3Pager.builder().region(aws.region().id()).endpoint(aws.endpoint(Service.S3)).pathStyle(true)
        .credentialsProvider(aws.credentialsProvider()).build();
    object = pager.open("bench", "object");
    object.prefetch(0, SIZE);
    if (!object.awaitResident(0, SIZE, Duration.ofMinutes(2))) {
      throw new IllegalStateException("the object did not become resident");
    }
    paged = object.segment();
    arena = Arena.ofShared();
    plain = arena.allocate(SIZE, 4096);
    MemorySegment.copy(paged, 0, plain, 0, SIZE);
    SplittableRandom r = new SplittableRandom(2);
    for (int i = 0; i < OFFSETS; i++) {
      offsets[i] = (long) r.nextInt(SIZE / 4096 - BLOCK / 4096) * 4096;
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    object.close();
    pager.close();
    arena.close();
    aws.close();
  }

  private long nextOffset() {
    next = (next + 1) & (OFFSETS - 1);
    return offsets[next];
  }

  /** The explicit path: 64 KiB through {@code read(...)}. */
  @Benchmark
  public byte[] explicitRead64k() {
    object.read(nextOffset(), dst, 0, BLOCK);
    return dst;
  }

  /** Baseline: 64 KiB copied from plain off-heap memory. */
  @Benchmark
  public byte[] plainCopy64k() {
    MemorySegment.copy(plain, ValueLayout.JAVA_BYTE, nextOffset(), dst, 0, BLOCK);
    return dst;
  }

  /** Direct reads of one resident 4 KiB page through the paged segment. */
  @Benchmark
  public long pagedScan4k() {
    return scan(paged, nextOffset());
  }

  /** Baseline: the same scan of plain memory. */
  @Benchmark
  public long plainScan4k() {
    return scan(plain, nextOffset());
  }

  private static long scan(MemorySegment s, long from) {
    long h = 0;
    for (long o = from; o < from + 4096; o += 8) {
      h += s.get(ValueLayout.JAVA_LONG_UNALIGNED, o);
    }
    return h;
  }
}
