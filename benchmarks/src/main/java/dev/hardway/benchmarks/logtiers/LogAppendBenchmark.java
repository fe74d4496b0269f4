package dev.hardway.benchmarks.logtiers;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AsyncAppenderBase;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import dev.hardway.logtiers.AppendResult;
import dev.hardway.logtiers.LogTiers;
import dev.hardway.logtiers.LogType;
import dev.hardway.logtiers.S3Tier;
import dev.hardway.logtiers.Tier;
import dev.hardway.logtiers.TierStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The append hot path: one 100-byte record into a logtiers ring ({@code LogType.append}, default 1 ms timestamp
 * resolution), beside Log4j2's async logger (LMAX Disruptor, 256 Ki slots; with its default clock, and with its
 * {@code CachedClock}, the same kind of clock as logtiers' default) and Logback's {@code AsyncAppender} (256 Ki slots,
 * never discarding) logging a 100-character message, in the same run. Every consumer does the same work: it writes the records to a rolling
 * local file that keeps one old file (for logtiers: the high tier's spool with a 256 MiB budget; its S3 endpoint
 * refuses connections, so uploads wait in backoff and the spool discards its oldest segments).
 *
 * <p>The baselines block when their queue is full (their defaults); logtiers drops the newest and counts it. The
 * auxiliary counters {@code accepted} and {@code dropped} say how many appends each outcome had, so a throughput
 * figure that includes drops is never mistaken for delivered records.
 *
 * <p>{@code append} runs flat out, so its figure is bound by the consumer once the queue is full; {@code burst}
 * appends 10,000 records into a queue the consumer has caught up with, which is the producer's own cost.
 *
 * <p>Goal: at least 2x Log4j2's throughput and p99.9 at most 1 µs, 0 B/op. Run:
 * {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec -Dbench.args="LogAppendBenchmark
 * -t 1 -bm thrpt -prof gc"} (then {@code -t 2}, and {@code -bm sample} for percentiles). Results are in
 * {@code benchmarks/README.md}.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class LogAppendBenchmark {
  private static final String MESSAGE = "a".repeat(100);
  private static final byte[] RECORD = MESSAGE.getBytes(StandardCharsets.UTF_8);

  @Param({"logtiers", "log4j2-async", "log4j2-async-cachedclock", "logback-async"})
  public String impl;

  private Path dir;
  private LogTiers tiers;
  private LogType type;
  private S3Client s3;
  private Logger log4j;
  private LoggerContext logback;
  private ch.qos.logback.classic.Logger logbackLogger;
  private org.apache.logging.log4j.core.jmx.RingBufferAdmin log4jRing;
  private AsyncAppenderBase<ILoggingEvent> logbackQueue;

  /** How each append ended (logtiers drops the newest when its ring is full; the baselines block instead). */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Outcomes {
    public long accepted;
    public long dropped;

    @Setup(Level.Iteration)
    public void reset() {
      accepted = 0;
      dropped = 0;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("log-append-bench");
    switch (impl) {
      case "logtiers" -> {
        s3 = S3Client.builder().region(Region.US_EAST_1).endpointOverride(URI.create("http://127.0.0.1:9"))
            .credentialsProvider(AnonymousCredentialsProvider.create()).forcePathStyle(true).build();
        tiers = LogTiers.builder().region("us-east-1").host("bench")
            .high(S3Tier.highBuilder().s3(s3).bucket("bench-logs").directory(dir).segmentBytes(64 << 20)
                .diskQuotaBytes(256 << 20).retry(Duration.ofSeconds(30), Duration.ofMinutes(5)).build())
            .route("auction", Tier.HIGH).closeTimeout(Duration.ofSeconds(1)).build();
        type = tiers.type("auction");
      }
      case "log4j2-async", "log4j2-async-cachedclock" -> {
        if (impl.endsWith("cachedclock")) {
          // Log4j2's own cached clock (a thread updating the time every millisecond), like logtiers' default.
          System.setProperty("log4j2.clock", "CachedClock");
        }
        System.setProperty("log4j2.contextSelector",
            "org.apache.logging.log4j.core.async.AsyncLoggerContextSelector");
        System.setProperty("log4j2.asyncLoggerRingBufferSize", Integer.toString(256 * 1024));
        System.setProperty("log4j2.configurationFile", "log4j2-bench.xml");
        System.setProperty("bench.log.dir", dir.toString());
        log4j = LogManager.getLogger("bench");
        org.apache.logging.log4j.core.async.AsyncLoggerContext context =
            (org.apache.logging.log4j.core.async.AsyncLoggerContext) LogManager.getContext(false);
        log4jRing = context.createRingBufferAdmin();
      }
      case "logback-async" -> {
        logback = new LoggerContext();
        // A context built by hand has no MDC adapter; without one every event pays for an exception.
        logback.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        logback.start();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(logback);
        encoder.setPattern("%msg%n");
        encoder.start();
        RollingFileAppender<ILoggingEvent> file = new RollingFileAppender<>();
        file.setContext(logback);
        file.setFile(dir.resolve("logback.log").toString());
        file.setEncoder(encoder);
        file.setImmediateFlush(false);
        FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
        rolling.setContext(logback);
        rolling.setParent(file);
        rolling.setFileNamePattern(dir.resolve("logback-%i.log").toString());
        rolling.setMinIndex(1);
        rolling.setMaxIndex(1);
        rolling.start();
        SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
        trigger.setContext(logback);
        trigger.setMaxFileSize(FileSize.valueOf("64MB"));
        trigger.start();
        file.setRollingPolicy(rolling);
        file.setTriggeringPolicy(trigger);
        file.start();
        AsyncAppenderBase<ILoggingEvent> async = new ch.qos.logback.classic.AsyncAppender();
        async.setContext(logback);
        async.setQueueSize(256 * 1024);
        async.setDiscardingThreshold(0);
        async.addAppender(file);
        async.start();
        logbackLogger = logback.getLogger("bench");
        logbackLogger.setAdditive(false);
        logbackLogger.addAppender(async);
        logbackQueue = async;
      }
      default -> throw new IllegalArgumentException("impl must be logtiers, log4j2-async, log4j2-async-cachedclock or "
          + "logback-async, got " + impl);
    }
  }

  /** Before each burst, waits until the consumer has caught up, so that the burst measures the producer only. */
  @State(Scope.Thread)
  public static class Drained {
    @Setup(Level.Invocation)
    public void awaitRoom(LogAppendBenchmark b) throws InterruptedException {
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!b.hasRoom() && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
    }
  }

  static final int BURST = 10_000;

  boolean hasRoom() {
    return switch (impl) {
      case "logtiers" -> tiers.stats().tier(Tier.HIGH).orElseThrow().queuedBytes() < (1 << 20);
      case "log4j2-async", "log4j2-async-cachedclock" -> log4jRing.getRemainingCapacity() > 200_000;
      default -> logbackQueue.getNumberOfElementsInQueue() < 50_000;
    };
  }

  /**
   * Bursts of 10,000 appends into a queue with room: the producer's own cost, without the consumer's speed in it
   * (the consumer still runs, on the same two cores).
   */
  @Benchmark
  @OperationsPerInvocation(BURST)
  public void burst(Drained drained, Outcomes outcomes) {
    for (int i = 0; i < BURST; i++) {
      append(outcomes);
    }
  }

  @Benchmark
  public void append(Outcomes outcomes) {
    switch (impl) {
      case "logtiers" -> {
        if (type.append(RECORD) == AppendResult.ACCEPTED) {
          outcomes.accepted++;
        } else {
          outcomes.dropped++;
        }
      }
      case "log4j2-async", "log4j2-async-cachedclock" -> {
        log4j.info(MESSAGE);
        outcomes.accepted++;
      }
      default -> {
        logbackLogger.info(MESSAGE);
        outcomes.accepted++;
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (tiers != null) {
      TierStats stats = tiers.stats().tier(Tier.HIGH).orElseThrow();
      System.out.printf("%nlogtiers high tier: appended=%d dropped=%s%n", stats.appended(), stats.dropped());
      tiers.close();
      s3.close();
    }
    if (log4j != null) {
      LogManager.shutdown();
    }
    if (logback != null) {
      logback.stop();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
