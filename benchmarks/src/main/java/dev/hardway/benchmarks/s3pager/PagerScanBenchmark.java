package dev.hardway.benchmarks.s3pager;

import dev.hardway.s3pager.PagedObject;
import dev.hardway.s3pager.PagerStats;
import dev.hardway.s3pager.S3Pager;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The S3 pager end to end on the test kit's S3 behind the fault proxy (a fixed latency on every byte toward the
 * client, so each GET waits that long for its first byte, and a per-connection bandwidth limit), each figure beside its
 * baseline in the same run:
 *
 * <ol>
 *   <li><b>Sequential scan</b> through {@link PagedObject#segment()} against the raw ceiling: the same number of
 *       parallel 8 MiB ranged GETs into resident memory, no paging.</li>
 *   <li><b>Process while paging</b> against <b>download, then process</b>, with per-byte work calibrated to take about
 *       as long as the download.</li>
 *   <li><b>Time to first byte</b>: open and read the first byte, against one small ranged GET.</li>
 *   <li><b>Memory budget</b>: an object twice the budget scanned twice; the most resident bytes seen.</li>
 * </ol>
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.main=dev.hardway.benchmarks.s3pager.PagerScanBenchmark -Dbench.args="1024 8 20 100"} (object MiB, parallel
 * GETs, latency ms, MB/s per connection). Results are in {@code benchmarks/README.md}.
 */
public final class PagerScanBenchmark {
  private static final long CHUNK = 8L << 20;
  private static final long PAGE = 4096;

  private PagerScanBenchmark() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int latencyMs = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    int perConnectionMbps = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    long size = (long) mib << 20;
    try (LocalAws aws = LocalAws.start(Service.S3)) {
      S3Client direct = aws.s3();
      direct.createBucket(b -> b.bucket("bench"));
      upload(direct, "object", size);
      upload(direct, "small", 64L << 20);
      FaultProxy proxy = aws.faults(Service.S3);
      proxy.latency(Direction.DOWNSTREAM, Duration.ofMillis(latencyMs));
      proxy.bandwidth(Direction.DOWNSTREAM, perConnectionMbps * 1_000_000L);
      System.out.printf(Locale.ROOT, "object %,d MiB; %d parallel GETs of 8 MiB; %d ms latency; %d MB/s per "
          + "connection%n", mib, connections, latencyMs, perConnectionMbps);
      try (S3Client s3 = aws.configure(S3Client.builder(), proxy.uri())
          .httpClientBuilder(Apache5HttpClient.builder().maxConnections(connections * 2)).build();
          Arena arena = Arena.ofShared()) {
        S3Pager.Builder pagers = S3Pager.builder().region(aws.region().id()).endpoint(proxy.uri()).pathStyle(true)
            .credentialsProvider(aws.credentialsProvider()).fetchThreads(connections);

        // 1. The raw ceiling, into memory touched beforehand (no page faults while timing).
        MemorySegment resident = arena.allocate(size, PAGE);
        for (long o = 0; o < size; o += PAGE) {
          resident.set(ValueLayout.JAVA_BYTE, o, (byte) 0);
        }
        long ceilingNanos = download(s3, "object", size, connections, resident);
        double ceilingMbps = size / 1e6 / (ceilingNanos / 1e9);
        long checksum = sum(resident, size);

        long scanNanos;
        long scanSum;
        PagerStats scanStats;
        try (S3Pager pager = pagers.build(); PagedObject o = pager.open("bench", "object")) {
          long start = System.nanoTime();
          scanSum = sum(o.segment(), size);
          scanNanos = System.nanoTime() - start;
          scanStats = o.stats();
        }
        check(scanSum == checksum, "the pager's bytes differ from the object's");
        double scanMbps = size / 1e6 / (scanNanos / 1e9);
        System.out.printf(Locale.ROOT, "%-44s %8.1f MB/s%n", "raw ceiling (parallel ranged GETs, resident)",
            ceilingMbps);
        System.out.printf(Locale.ROOT, "%-44s %8.1f MB/s  = %.0f %% of the ceiling (faults %,d, stalls %,d, "
            + "marker hits %,d, fetches %,d)%n", "pager sequential scan", scanMbps, 100.0 * scanMbps / ceilingMbps,
            scanStats.faults(), scanStats.stalls(), scanStats.markerHits(), scanStats.fetches());

        // 2. Work per byte calibrated to take about as long as the download.
        int rounds = calibrate(resident, size, ceilingNanos);
        long workStart = System.nanoTime();
        long workSum = work(resident, size, rounds);
        long workNanos = System.nanoTime() - workStart;
        long pagedWorkNanos;
        long pagedWorkSum;
        try (S3Pager pager = pagers.build()) {
          long start = System.nanoTime();
          try (PagedObject o = pager.open("bench", "object")) {
            pagedWorkSum = work(o.segment(), size, rounds);
          }
          pagedWorkNanos = System.nanoTime() - start;
        }
        check(pagedWorkSum == workSum, "the work over paged bytes differs from the work over downloaded bytes");
        long downloadThenProcess = ceilingNanos + workNanos;
        System.out.printf(Locale.ROOT, "%-44s %8.2f s (download %.2f s + work %.2f s, %d rounds per long)%n",
            "download, then process", downloadThenProcess / 1e9, ceilingNanos / 1e9, workNanos / 1e9, rounds);
        System.out.printf(Locale.ROOT, "%-44s %8.2f s  = %.2f x download-then-process%n", "process while paging",
            pagedWorkNanos / 1e9, (double) pagedWorkNanos / downloadThenProcess);

        // 3. Time to first byte.
        long getNanos = Long.MAX_VALUE;
        long pagerNanos = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
          long start = System.nanoTime();
          try (InputStream in = s3.getObject(b -> b.bucket("bench").key("small").range("bytes=0-4095"))) {
            check(in.read() >= 0, "empty GET");
          }
          getNanos = Math.min(getNanos, System.nanoTime() - start);
        }
        try (S3Pager pager = pagers.build()) {
          for (int i = 0; i < 5; i++) {
            long start = System.nanoTime();
            try (PagedObject o = pager.open("bench", "small")) {
              o.segment().get(ValueLayout.JAVA_BYTE, 0);
              pagerNanos = Math.min(pagerNanos, System.nanoTime() - start);
            }
          }
        }
        System.out.printf(Locale.ROOT, "%-44s %8.1f ms (one 4 KiB GET: %.1f ms; goal: GET + 10 ms)%n",
            "time to first byte (open + first read), best of 5", pagerNanos / 1e6, getNanos / 1e6);

        // 4. An object twice the budget, scanned twice.
        long budget = size / 2;
        try (S3Pager pager = pagers.memoryBudget(budget).build(); PagedObject o = pager.open("bench", "object")) {
          check(sum(o.segment(), size) == checksum, "first budgeted scan differs");
          check(sum(o.segment(), size) == checksum, "second budgeted scan differs");
          PagerStats s = o.stats();
          System.out.printf(Locale.ROOT, "%-44s %,d MiB most resident for a %,d MiB budget (%,d evictions)%n",
              "memory budget, object twice the budget", s.maxResidentBytes() >> 20, budget >> 20, s.evictions());
        }
      }
    }
  }

  /** The object's bytes: a deterministic function of the offset, so any copy can be checked. */
  private static void upload(S3Client s3, String key, long size) {
    String id = s3.createMultipartUpload(b -> b.bucket("bench").key(key)).uploadId();
    List<CompletedPart> parts = new ArrayList<>();
    ByteBuffer part = ByteBuffer.allocate((int) CHUNK);
    for (long off = 0, n = 1; off < size; off += CHUNK, n++) {
      int len = (int) Math.min(CHUNK, size - off);
      part.clear();
      for (int i = 0; i < len; i += 8) {
        part.putLong(i, mix(off + i));
      }
      byte[] bytes = new byte[len];
      part.get(0, bytes);
      int number = (int) n;
      String etag = s3.uploadPart(b -> b.bucket("bench").key(key).uploadId(id).partNumber(number),
          RequestBody.fromBytes(bytes)).eTag();
      parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
    }
    s3.completeMultipartUpload(b -> b.bucket("bench").key(key).uploadId(id)
        .multipartUpload(m -> m.parts(parts)));
  }

  private static long mix(long x) {
    long z = x * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    return z ^ (z >>> 31);
  }

  /** {@code connections} ranged GETs of 8 MiB at a time into {@code into}; returns the wall time. */
  private static long download(S3Client s3, String key, long size, int connections, MemorySegment into)
      throws Exception {
    AtomicLong next = new AtomicLong();
    long start = System.nanoTime();
    try (ExecutorService pool = Executors.newFixedThreadPool(connections)) {
      List<Future<?>> all = new ArrayList<>();
      for (int t = 0; t < connections; t++) {
        all.add(pool.submit(() -> {
          byte[] buf = new byte[1 << 16];
          for (long off = next.getAndAdd(CHUNK); off < size; off = next.getAndAdd(CHUNK)) {
            long end = Math.min(size, off + CHUNK) - 1;
            String range = "bytes=" + off + "-" + end;
            long at = off;
            try (InputStream in = s3.getObject(b -> b.bucket("bench").key(key).range(range))) {
              for (int n; (n = in.read(buf)) > 0; at += n) {
                MemorySegment.copy(buf, 0, into, ValueLayout.JAVA_BYTE, at, n);
              }
            }
            check(at == end + 1, "short GET at " + off);
          }
          return null;
        }));
      }
      for (Future<?> f : all) {
        f.get();
      }
    }
    return System.nanoTime() - start;
  }

  /** Touches every long in order: the scan. */
  private static long sum(MemorySegment s, long size) {
    long h = 0;
    for (long o = 0; o + 8 <= size; o += 8) {
      h += s.get(ValueLayout.JAVA_LONG_UNALIGNED, o);
    }
    return h;
  }

  /** The per-byte work: {@code rounds} multiply-xor steps per long. */
  private static long work(MemorySegment s, long size, int rounds) {
    long h = 0;
    for (long o = 0; o + 8 <= size; o += 8) {
      long v = s.get(ValueLayout.JAVA_LONG_UNALIGNED, o);
      for (int r = 0; r < rounds; r++) {
        v = (v ^ (v >>> 29)) * 0xBF58476D1CE4E5B9L;
      }
      h += v;
    }
    return h;
  }

  /** The rounds per long that make {@link #work} over the resident copy take about {@code targetNanos}. */
  private static int calibrate(MemorySegment resident, long size, long targetNanos) {
    long sample = Math.min(size, 64L << 20);
    work(resident, sample, 8);
    long start = System.nanoTime();
    work(resident, sample, 8);
    double nanosPerRound = (System.nanoTime() - start) / 8.0 * size / sample;
    return (int) Math.max(1, Math.round(targetNanos / nanosPerRound));
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException(what);
    }
  }
}
