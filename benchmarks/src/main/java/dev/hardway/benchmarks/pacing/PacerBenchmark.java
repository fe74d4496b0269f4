package dev.hardway.benchmarks.pacing;

import dev.hardway.pacing.Allocation;
import dev.hardway.pacing.BoxId;
import dev.hardway.pacing.Budget;
import dev.hardway.pacing.Degradation;
import dev.hardway.pacing.Lease;
import dev.hardway.pacing.Pacer;
import dev.hardway.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pacing hot path: {@code Budget.trySpend} (a compare-and-set on the box's spendable balance), beside the
 * baseline of a bare {@code AtomicLong} compare-and-set doing the same check-and-decrement, on one thread and on two
 * threads sharing the budget; plus the by-id path ({@code Pacer.trySpend(String, long)}, a map lookup first) and the
 * throttle ({@code shouldBid}). The balance is fed so large that no spend is refused during a run.
 *
 * <p>Goal: {@code trySpend} at most 15 ns/op on one thread and 0 B/op. Run: {@code ./mvnw -q install -DskipTests &&
 * ./mvnw -q -pl benchmarks exec:exec -Dbench.args="PacerBenchmark -prof gc"}. Results are in
 * {@code benchmarks/README.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PacerBenchmark {
  private static final long HUGE = Long.MAX_VALUE / 4;
  private Pacer pacer;
  private Budget budget;
  private final AtomicLong baseline = new AtomicLong(HUGE);

  @Setup(Level.Trial)
  public void setUp() {
    BoxId box = new BoxId("us-east", "bench");
    TestClock clock = TestClock.at(Instant.parse("2026-11-28T00:00:00Z"));
    pacer = Pacer.builder().box(box).clock(clock).backgroundTick(false).build();
    budget = pacer.budget("campaign");
    long now = clock.millis();
    Lease lease = new Lease(1, HUGE, HUGE / 1000, HUGE, now + Duration.ofDays(1).toMillis(),
        now + Duration.ofDays(2).toMillis());
    pacer.apply(new Allocation(1, 1, now, Map.of("campaign", new Allocation.BudgetLeases(1,
        now + Duration.ofDays(1).toMillis(), Degradation.LAST_RATE, Map.of(box, lease)))));
    pacer.tick();
    clock.advance(Duration.ofSeconds(1000));
    pacer.tick();
    if (!budget.trySpend(1)) {
      throw new IllegalStateException("the benchmark budget was not fed");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (budget.stats().refusals() != 0) {
      throw new IllegalStateException("spends were refused: the run measured refusals, not spends");
    }
    pacer.close();
  }

  private boolean casBaseline(long micros) {
    long have;
    do {
      have = baseline.get();
      if (have < micros) {
        return false;
      }
    } while (!baseline.compareAndSet(have, have - micros));
    return true;
  }

  @Benchmark
  @Threads(1)
  public boolean trySpend() {
    return budget.trySpend(1);
  }

  @Benchmark
  @Threads(1)
  public boolean atomicLongCas() {
    return casBaseline(1);
  }

  @Benchmark
  @Threads(2)
  public boolean trySpend2Threads() {
    return budget.trySpend(1);
  }

  @Benchmark
  @Threads(2)
  public boolean atomicLongCas2Threads() {
    return casBaseline(1);
  }

  @Benchmark
  @Threads(1)
  public boolean trySpendById() {
    return pacer.trySpend("campaign", 1);
  }

  @Benchmark
  @Threads(1)
  public boolean shouldBid() {
    return budget.shouldBid();
  }
}
