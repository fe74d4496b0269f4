package dev.hardway.benchmarks.s3pager;

import dev.hardway.s3pager.PagedObject;
import dev.hardway.s3pager.PagerStats;
import dev.hardway.s3pager.S3Pager;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.fault.Direction;
import dev.hardway.testkit.fault.FaultProxy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
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
 *   <li><b>Time to safepoint</b>: a sequential scan while another thread calls {@code System.gc()} every 5 ms and a
 *       third allocates, from {@code -Xlog:safepoint}; against the same storm over resident memory.</li>
 * </ol>
 *
 * <p>The measurements run in reader JVMs this main starts: the test kit's S3 and fault proxy live in this JVM, and a
 * reader blocked on a page fault holds up its own JVM's safepoints, which would stop the very server its handler is
 * waiting on (real S3 is never in the reader's JVM).
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.main=dev.hardway.benchmarks.s3pager.PagerScanBenchmark -Dbench.args="1024 8 20 100"} (object MiB, parallel
 * GETs, latency ms, MB/s per connection, and optionally the pager's piece size in KiB and {@code storm} for the last
 * figure alone). Results are in {@code benchmarks/README.md}.
 */
public final class PagerScanBenchmark {
  private static final long CHUNK = 8L << 20;
  private static final long PAGE = 4096;
  private static final Pattern SAFEPOINT = Pattern.compile("^\\[(\\d+)ms\\].*Reaching safepoint: (\\d+) ns");

  private PagerScanBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--reader")) {
      reader(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("--storm")) {
      storm(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int latencyMs = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    int perConnectionMbps = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    String pieceKib = args.length > 4 ? args[4] : "256";
    boolean stormOnly = args.length > 5 && args[5].equals("storm");
    long size = (long) mib << 20;
    try (LocalAws aws = LocalAws.start(Service.S3)) {
      S3Client direct = aws.s3();
      direct.createBucket(b -> b.bucket("bench"));
      upload(direct, "object", size);
      upload(direct, "small", 8L << 20);
      FaultProxy proxy = aws.faults(Service.S3);
      proxy.latency(Direction.DOWNSTREAM, Duration.ofMillis(latencyMs));
      if (perConnectionMbps > 0) {
        proxy.bandwidth(Direction.DOWNSTREAM, perConnectionMbps * 1_000_000L);
      }
      System.out.printf(Locale.ROOT, "object %,d MiB; %d parallel GETs of 8 MiB; %d ms latency; %d MB/s per "
          + "connection; pieces of %s KiB%n", mib, connections, latencyMs, perConnectionMbps, pieceKib);
      String endpoint = proxy.uri().toString();
      String region = aws.region().id();
      if (!stormOnly) {
        child(List.of("-Xmx1g"), "--reader", endpoint, region, Long.toString(size), Integer.toString(connections),
            pieceKib);
      }
      Path log = Files.createTempFile("pager-safepoint", ".log");
      try {
        List<String> lines = child(List.of("-Xmx256m", "-XX:+UseG1GC",
            "-Xlog:safepoint=info:file=" + log + ":timemillis"), "--storm", endpoint, region, Long.toString(size),
            Integer.toString(connections), pieceKib);
        long[] paged = window(lines, "STORM_PAGED");
        long[] resident = window(lines, "STORM_RESIDENT");
        List<Long> pagedNanos = new ArrayList<>();
        List<String> slow = new ArrayList<>();
        List<Long> residentNanos = new ArrayList<>();
        for (String l : Files.readAllLines(log)) {
          Matcher m = SAFEPOINT.matcher(l);
          if (m.find()) {
            long at = Long.parseLong(m.group(1));
            long nanos = Long.parseLong(m.group(2));
            if (at >= paged[0] && at <= paged[1]) {
              pagedNanos.add(nanos);
              if (nanos > 20_000_000L) {
                slow.add(String.format(Locale.ROOT, "%.0f ms at +%d ms", nanos / 1e6, at - paged[0]));
              }
            } else if (at >= resident[0] && at <= resident[1]) {
              residentNanos.add(nanos);
            }
          }
        }
        long over = pagedNanos.stream().filter(n -> n > 20_000_000L).count();
        System.out.printf(Locale.ROOT, "%-44s p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms over %,d "
                + "safepoints, %d above 20 ms (baseline, resident memory: p99 %.2f ms over %,d)%n",
            "time to safepoint, scan under a GC storm", percentile(pagedNanos, 0.5) / 1e6,
            percentile(pagedNanos, 0.9) / 1e6, percentile(pagedNanos, 0.99) / 1e6, percentile(pagedNanos, 1.0) / 1e6,
            pagedNanos.size(), over, percentile(residentNanos, 0.99) / 1e6, residentNanos.size());
        System.out.printf(Locale.ROOT, "%-44s %s (scan of %,d ms)%n", "  safepoints above 20 ms", slow,
            paged[1] - paged[0]);
      } finally {
        Files.deleteIfExists(log);
      }
    }
  }

  /** Runs this class in a JVM of its own and relays its output; returns the lines. */
  private static List<String> child(List<String> jvmOptions, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED");
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(PagerScanBenchmark.class.getName());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String l; (l = out.readLine()) != null; ) {
        lines.add(l);
        if (!l.startsWith("STORM_")) {
          System.out.println(l);
        }
      }
    } finally {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    check(p.exitValue() == 0, "the reader JVM failed with exit code " + p.exitValue());
    return lines;
  }

  private static long[] window(List<String> lines, String tag) {
    String line = lines.stream().filter(l -> l.startsWith(tag + " ")).findFirst()
        .orElseThrow(() -> new IllegalStateException("no " + tag + " in " + lines));
    String[] f = line.split(" ");
    return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])};
  }

  private static long percentile(List<Long> values, double p) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get((int) Math.min(sorted.size() - 1, Math.max(0, Math.ceil(p * sorted.size()) - 1)));
  }

  private static S3Pager.Builder pagers(String endpoint, String region, int connections, String pieceKib) {
    return S3Pager.builder().region(region).endpoint(URI.create(endpoint)).pathStyle(true)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
            LocalAws.DEFAULT_ACCESS_KEY_ID, LocalAws.DEFAULT_SECRET_ACCESS_KEY)))
        .fetchThreads(connections).pieceSize(Long.parseLong(pieceKib) << 10);
  }

  private static S3Client client(String endpoint, String region, int connections) {
    return S3Client.builder().region(Region.of(region)).endpointOverride(URI.create(endpoint)).forcePathStyle(true)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
            LocalAws.DEFAULT_ACCESS_KEY_ID, LocalAws.DEFAULT_SECRET_ACCESS_KEY)))
        .httpClientBuilder(Apache5HttpClient.builder().maxConnections(connections * 2)).build();
  }

  /** Figures 1 to 4, in a reader JVM. */
  private static void reader(String[] args) throws Exception {
    String endpoint = args[0];
    String region = args[1];
    long size = Long.parseLong(args[2]);
    int connections = Integer.parseInt(args[3]);
    try (S3Client s3 = client(endpoint, region, connections); Arena arena = Arena.ofShared()) {
      S3Pager.Builder pagers = pagers(endpoint, region, connections, args[4]);
      // 1. The raw ceiling, into memory touched beforehand (no page faults while timing): the better of two runs, the
      // first of which also warms this JVM up.
      MemorySegment resident = arena.allocate(size, PAGE);
      for (long o = 0; o < size; o += PAGE) {
        resident.set(ValueLayout.JAVA_BYTE, o, (byte) 0);
      }
      long ceilingNanos = download(s3, "object", size, connections, resident);
      long[] cpu = cpuTicks();
      ceilingNanos = Math.min(ceilingNanos, download(s3, "object", size, connections, resident));
      double busyCores = busyCores(cpu, cpuTicks());
      double ceilingMbps = size / 1e6 / (ceilingNanos / 1e9);
      long checksum = sum(resident, size);

      long scanNanos;
      long scanSum;
      PagerStats scanStats;
      try (S3Pager pager = pagers.build()) {
        long start = System.nanoTime();
        try (PagedObject o = pager.open("bench", "object")) {
          scanSum = sum(o.segment(), size);
          scanNanos = System.nanoTime() - start;
          scanStats = o.stats();
        }
      }
      check(scanSum == checksum, "the pager's bytes differ from the object's");
      double scanMbps = size / 1e6 / (scanNanos / 1e9);
      System.out.printf(Locale.ROOT, "%-44s %8.1f MB/s (the machine's CPUs %.1f of %d busy meanwhile)%n",
          "raw ceiling (parallel ranged GETs, resident)", ceilingMbps, busyCores,
          Runtime.getRuntime().availableProcessors());
      System.out.printf(Locale.ROOT, "%-44s %8.1f MB/s  = %.0f %% of the ceiling (faults %,d, stalls %,d, "
          + "marker hits %,d, fetches %,d)%n", "pager sequential scan (open included)", scanMbps,
          100.0 * scanMbps / ceilingMbps, scanStats.faults(), scanStats.stalls(), scanStats.markerHits(),
          scanStats.fetches());

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

      // 3. Time to first byte: the pager is built (its handler started) beforehand, as in a job that opens objects.
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
      int window = 8;
      try (S3Pager pager = pagers.memoryBudget(budget).readahead(2, window).build();
          PagedObject o = pager.open("bench", "object")) {
        check(sum(o.segment(), size) == checksum, "first budgeted scan differs");
        check(sum(o.segment(), size) == checksum, "second budgeted scan differs");
        PagerStats s = o.stats();
        System.out.printf(Locale.ROOT, "%-44s %,d MiB most resident for a %,d MiB budget + %,d MiB window "
                + "(%,d evictions, %,d MiB fetched)%n", "memory budget, object twice the budget",
            s.maxResidentBytes() >> 20, budget >> 20, (window + 1) * CHUNK >> 20, s.evictions(),
            s.bytesFetched() >> 20);
      }
    }
  }

  /** The machine's busy and total CPU ticks from {@code /proc/stat}, or zeros where there is none. */
  private static long[] cpuTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total - idle, total};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  private static double busyCores(long[] before, long[] after) {
    long total = after[1] - before[1];
    return total == 0 ? 0 : (double) (after[0] - before[0]) / total * Runtime.getRuntime().availableProcessors();
  }

  /** Figure 5, in a reader JVM with -Xlog:safepoint: a GC storm over a paged scan, then over resident memory. */
  private static void storm(String[] args) throws Exception {
    String endpoint = args[0];
    String region = args[1];
    long size = Long.parseLong(args[2]);
    int connections = Integer.parseInt(args[3]);
    AtomicBoolean storming = new AtomicBoolean(true);
    Thread gc = Thread.ofPlatform().daemon().start(() -> {
      while (storming.get()) {
        System.gc();
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    Thread allocator = Thread.ofPlatform().daemon().start(() -> {
      Object[] keep = new Object[1024];
      SplittableRandom r = new SplittableRandom(1);
      while (storming.get()) {
        keep[r.nextInt(keep.length)] = new byte[r.nextInt(64 << 10)];
      }
    });
    try (S3Pager pager = pagers(endpoint, region, connections, args[4]).build();
        PagedObject o = pager.open("bench", "object");
        Arena arena = Arena.ofShared()) {
      long start = System.currentTimeMillis();
      long paged = sum(o.segment(), size);
      System.out.println("STORM_PAGED " + start + " " + System.currentTimeMillis());
      MemorySegment copy = arena.allocate(size, PAGE);
      MemorySegment.copy(o.segment(), 0, copy, 0, size);
      start = System.currentTimeMillis();
      long resident = sum(copy, size);
      System.out.println("STORM_RESIDENT " + start + " " + System.currentTimeMillis());
      check(paged == resident, "the storm scan's bytes differ");
    } finally {
      storming.set(false);
      gc.join();
      allocator.join();
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

  /**
   * The rounds per long that make {@link #work} over the resident copy take about {@code targetNanos}: a guess from a
   * sample, then corrected twice by timing the whole copy with the guess (the cost per round is not linear).
   */
  private static int calibrate(MemorySegment resident, long size, long targetNanos) {
    long sample = Math.min(size, 64L << 20);
    work(resident, sample, 8);
    long start = System.nanoTime();
    work(resident, sample, 8);
    double nanosPerRound = (System.nanoTime() - start) / 8.0 * size / sample;
    int rounds = (int) Math.max(1, Math.round(targetNanos / nanosPerRound));
    for (int i = 0; i < 2; i++) {
      start = System.nanoTime();
      work(resident, size, rounds);
      long took = System.nanoTime() - start;
      rounds = (int) Math.max(1, Math.round(rounds * (double) targetNanos / took));
    }
    return rounds;
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException(what);
    }
  }
}
