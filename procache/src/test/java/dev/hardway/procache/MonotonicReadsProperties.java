package dev.hardway.procache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * For any interleaving of home writes, pushed deliveries (duplicated, reordered, late), invalidations, clock steps
 * and reads, the cache never answers a key with a version older than one it has already answered for that key.
 */
class MonotonicReadsProperties {

  /** One step: 0 write at home, 1 deliver a past version, 2 read, 3 drop the local entry, 4 let time pass. */
  record Step(int kind, int key, int pick) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    return Arbitraries.integers().between(0, 4).flatMap(kind -> Arbitraries.integers().between(0, 2)
            .flatMap(key -> Arbitraries.integers().between(0, 1_000).map(pick -> new Step(kind, key, pick))))
        .list().ofMinSize(1).ofMaxSize(120);
  }

  @Property(tries = 400)
  void readsNeverGoBackInVersion(@ForAll("steps") List<Step> steps) {
    Map<String, Long> homeVersion = new ConcurrentHashMap<>();
    AtomicLong now = new AtomicLong();
    Map<String, Long> lastAnswered = new HashMap<>();
    try (ProCache<String, String> cache = ProCache.<String, String>builder(ValueCodec.utf8())
        .ticker(now::get).refreshAfter(Duration.ofMillis(10)).deadline(Duration.ofSeconds(5))
        .home(k -> {
          Long v = homeVersion.get(k);
          return v == null ? Versioned.absent(0, 0) : Versioned.of(k + "@" + v, v, v);
        }).build()) {
      for (Step s : steps) {
        String key = "k" + s.key();
        switch (s.kind()) {
          case 0 -> homeVersion.merge(key, 1L, Long::sum);
          case 1 -> {
            long newest = homeVersion.getOrDefault(key, 0L);
            if (newest > 0) {
              long v = 1 + s.pick() % newest;   // any version written so far: duplicates and reordering
              cache.apply(key, Versioned.of(key + "@" + v, v, v)).join();
            }
          }
          case 2 -> {
            Lookup<String> answer = cache.get(key);
            if (answer.freshness() != Lookup.Freshness.UNKNOWN) {
              long previous = lastAnswered.getOrDefault(key, -1L);
              assertThat(answer.version()).as("%s after %s", key, previous).isGreaterThanOrEqualTo(previous);
              if (answer.value() != null) {
                assertThat(answer.value()).isEqualTo(key + "@" + answer.version());
              }
              lastAnswered.put(key, answer.version());
            }
          }
          case 3 -> cache.invalidateLocal(key);
          default -> now.addAndGet(Duration.ofMillis(1 + s.pick() % 50).toNanos());
        }
      }
    }
  }
}
