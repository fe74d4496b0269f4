package dev.hardway.testkit.fault;

import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * The faults switched on in one proxy, read by every connection's threads on every chunk, and its counters.
 *
 * <p>Settings are immutable values in volatile fields, swapped under a lock, so readers never lock. The random
 * generator is shared by all connections while common implementations ({@code SplittableRandom}) are not
 * thread-safe: it is used under its own lock.
 */
final class FaultState {

  final Counters counters = new Counters();
  final int chunkSize;
  final int queueCapacity;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ReentrantLock randomLock = new ReentrantLock();
  private final RandomGenerator random;
  private final CopyOnWriteArrayList<HttpFault> rules = new CopyOnWriteArrayList<>();
  private final AtomicLong ruleIds = new AtomicLong();
  private volatile LaneSettings upstream = LaneSettings.NONE;
  private volatile LaneSettings downstream = LaneSettings.NONE;
  private volatile boolean blackHole;
  private long cutGeneration;

  FaultState(RandomGenerator random, int chunkSize, int queueCapacity) {
    this.random = random;
    this.chunkSize = chunkSize;
    this.queueCapacity = queueCapacity;
  }

  LaneSettings settings(boolean upstreamLane) {
    return upstreamLane ? upstream : downstream;
  }

  void update(Direction direction, UnaryOperator<LaneSettings> change) {
    lock.lock();
    try {
      if (direction.includesUpstream()) {
        upstream = change.apply(upstream);
      }
      if (direction.includesDownstream()) {
        downstream = change.apply(downstream);
      }
    } finally {
      lock.unlock();
    }
  }

  void cutAfter(Direction direction, long bytes) {
    lock.lock();
    try {
      long generation = ++cutGeneration;
      update(direction, settings -> settings.withCut(bytes, generation));
    } finally {
      lock.unlock();
    }
  }

  /** The delay for bytes arriving now: the fixed latency plus a uniform jitter in [0, jitter]. */
  long sampleDelay(LaneSettings settings) {
    long jitter = settings.jitterNanos();
    if (jitter <= 0) {
      return settings.latencyNanos();
    }
    randomLock.lock();
    try {
      return settings.latencyNanos() + random.nextLong(jitter + 1);
    } finally {
      randomLock.unlock();
    }
  }

  String newRequestId() {
    byte[] bytes = new byte[16];
    randomLock.lock();
    try {
      random.nextBytes(bytes);
    } finally {
      randomLock.unlock();
    }
    String hex = HexFormat.of().withUpperCase().formatHex(bytes);
    return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
        + hex.substring(16, 20) + "-" + hex.substring(20);
  }

  boolean blackHole() {
    return blackHole;
  }

  void blackHole(boolean on) {
    lock.lock();
    try {
      blackHole = on;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Holds back the end of a stream while the black hole is on: a partitioned network does not deliver a FIN either,
   * and TCP retransmits it once the partition heals.
   */
  void awaitBlackHoleLifted() throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (blackHole) {
        changed.await();
      }
    } finally {
      lock.unlock();
    }
  }

  HttpFault addRule(HttpFault.Builder builder) {
    HttpFault fault = builder.build(ruleIds.incrementAndGet());
    rules.add(fault);
    return fault;
  }

  boolean removeRule(HttpFault fault) {
    return rules.remove(fault);
  }

  List<HttpFault> rules() {
    return List.copyOf(rules);
  }

  @Nullable HttpFault claimFault(RequestHead head) {
    for (HttpFault rule : rules) {
      if (rule.tryClaim(head)) {
        counters.httpFaultsInjected.increment();
        return rule;
      }
    }
    return null;
  }

  /** Everything off: TCP faults of both directions, the black hole and every HTTP rule. */
  void clear() {
    lock.lock();
    try {
      long generation = ++cutGeneration;
      upstream = LaneSettings.NONE.withCut(-1, generation);
      downstream = LaneSettings.NONE.withCut(-1, generation);
      blackHole = false;
      rules.clear();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
