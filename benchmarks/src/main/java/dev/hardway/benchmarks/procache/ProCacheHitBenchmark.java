package dev.hardway.benchmarks.procache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.hardway.procache.Lookup;
import dev.hardway.procache.ProCache;
import dev.hardway.procache.ValueCodec;
import dev.hardway.procache.Versioned;
import java.time.Duration;
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

/**
 * The in-process hit: {@code ProCache.get} of a key its in-process tier holds fresh, beside a bare Caffeine
 * {@code getIfPresent} on a cache of the same size and keys, in the same run. 64 Ki keys, every one present, read in
 * a fixed scrambled order.
 *
 * <p>Goal: at most 50 ns/op, 0 B/op, and at least 80 % of the bare Caffeine throughput. Run:
 * {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl benchmarks exec:exec -Dbench.args="ProCacheHitBenchmark
 * -prof gc"}. Results are in {@code benchmarks/README.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ProCacheHitBenchmark {
  private static final int KEYS = 1 << 16;
  private final Long[] keys = new Long[KEYS];
  private ProCache<Long, String> cache;
  private Cache<Long, String> caffeine;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    cache = ProCache.<Long, String>builder(ValueCodec.utf8()).localMaximumSize(KEYS * 2L)
        .refreshAfter(Duration.ofDays(1)).build();
    caffeine = Caffeine.newBuilder().maximumSize(KEYS * 2L).build();
    for (int i = 0; i < KEYS; i++) {
      // A fixed scramble (an odd multiplier mod 2^16) so that consecutive reads do not walk the table in order.
      long k = (i * 40_503L) & (KEYS - 1);
      keys[i] = k;
      cache.apply(k, Versioned.of("v" + k, 1, 1)).join();
      caffeine.put(k, "v" + k);
    }
    // apply() only updates keys the in-process tier holds; a get fills it (absent at home: no home loader) and the
    // push then lands.
    for (int i = 0; i < KEYS; i++) {
      cache.get(keys[i]);
      cache.apply(keys[i], Versioned.of("v" + keys[i], 2, 1)).join();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cache.close();
  }

  @Benchmark
  public Lookup<String> proCacheGet() {
    return cache.get(keys[next++ & (KEYS - 1)]);
  }

  @Benchmark
  public String caffeineGetIfPresent() {
    return caffeine.getIfPresent(keys[next++ & (KEYS - 1)]);
  }
}
