package dev.hardway.benchmarks.logtiers;

import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The latency of a single append at a steady rate the consumers keep up with (the bidder's case), for logtiers and
 * the two baselines of {@link LogAppendBenchmark}, set up identically: one thread appends 100-byte records at a fixed
 * rate (busy-waiting between appends on a schedule, so a slow call does not hide the ones it delays) for the warm-up
 * and then the measured period, timing every call with {@code System.nanoTime()} into an HdrHistogram. The timer's own
 * cost (~20 ns) is in every figure.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec
 * -Dbench.main=dev.hardway.benchmarks.logtiers.AppendLatencyBenchmark -Dbench.args="500000 10"} (appends per second,
 * measured seconds). Results are in {@code benchmarks/README.md}.
 */
public final class AppendLatencyBenchmark {
  private AppendLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    long rate = args.length > 0 ? Long.parseLong(args[0]) : 500_000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    String only = args.length > 2 ? args[2] : null;
    System.out.printf(Locale.ROOT, "%-14s %8s %8s %8s %8s %8s %10s %8s%n", "impl", "p50 ns", "p99", "p99.9",
        "p99.99", "max", "appends", "dropped");
    for (String impl : new String[] {"logtiers", "log4j2-async", "logback-async"}) {
      if (only != null && !only.equals(impl)) {
        continue;
      }
      LogAppendBenchmark b = new LogAppendBenchmark();
      b.impl = impl;
      b.setUp();
      try {
        LogAppendBenchmark.Outcomes outcomes = new LogAppendBenchmark.Outcomes();
        run(b, outcomes, rate, 3, null);
        outcomes.reset();
        Histogram h = new Histogram(60_000_000_000L, 3);
        run(b, outcomes, rate, seconds, h);
        System.out.printf(Locale.ROOT, "%-14s %8d %8d %8d %8d %8d %10d %8d%n", impl, h.getValueAtPercentile(50),
            h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getValueAtPercentile(99.99), h.getMaxValue(),
            h.getTotalCount(), outcomes.dropped);
      } finally {
        b.tearDown();
      }
    }
  }

  private static void run(LogAppendBenchmark b, LogAppendBenchmark.Outcomes outcomes, long rate, int seconds,
      Histogram h) {
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime();
    long end = start + seconds * 1_000_000_000L;
    long next = start;
    while (next < end) {
      while (System.nanoTime() < next) {
        Thread.onSpinWait();
      }
      long t0 = System.nanoTime();
      b.append(outcomes);
      long t1 = System.nanoTime();
      if (h != null) {
        h.recordValue(t1 - t0);
      }
      next += interval;
    }
  }
}
