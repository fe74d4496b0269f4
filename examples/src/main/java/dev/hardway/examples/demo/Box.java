package dev.hardway.examples.demo;

import dev.hardway.logtiers.AppendResult;
import dev.hardway.logtiers.LogTiers;
import dev.hardway.logtiers.LogType;
import dev.hardway.pacing.Budget;
import dev.hardway.pacing.Pacer;
import dev.hardway.pacing.PacerSync;
import dev.hardway.procache.Lookup;
import dev.hardway.procache.ProCache;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Recorder;

/**
 * One bidder box: its share of its region's auctions, each one looking up the user's profile through procache
 * within 20 ms, asking the pacer whether it may spend, and logging the auction to the tiers. A won auction's price is
 * spent through the pacer and logged to the mid tier; if the mid tier refuses the record, the spend is refunded, so
 * the batch recount over the mid tier's objects must equal the pacer's own count.
 */
final class Box implements AutoCloseable {
  final Site site;
  final String name;
  final double share;
  final Pacer pacer;
  final PacerSync sync;
  final ProCache<String, String> profiles;
  final LogTiers tiers;
  private final Budget budget;
  private final LogType auctions;
  private final LogType bids;
  private final Clock clock;
  private final int users;
  private final double peakPerSecond;
  private final Thread thread;
  private volatile boolean stopped;

  final AtomicLong auctionCount = new AtomicLong();
  final AtomicLong bidCount = new AtomicLong();
  final AtomicLong wins = new AtomicLong();
  final AtomicLong spentMicros = new AtomicLong();
  /** What the box would have spent had every opportunity with a profile been bid on: its demand. */
  final AtomicLong wantedMicros = new AtomicLong();
  final AtomicLong notLogged = new AtomicLong();
  final AtomicLong profileUnknown = new AtomicLong();
  /** procache get latency, µs. */
  final Recorder getLatency = new Recorder(60_000_000L, 2);

  /** The demo's clock: the fraction of the day gone, and the local hour in a region. */
  interface Clock {
    double dayFraction();
  }

  Box(Site site, String name, double share, Pacer pacer, PacerSync sync, ProCache<String, String> profiles,
      LogTiers tiers, String budgetId, Clock clock, int users, double peakPerSecond, long seed) {
    this.site = site;
    this.name = name;
    this.share = share;
    this.pacer = pacer;
    this.sync = sync;
    this.profiles = profiles;
    this.tiers = tiers;
    this.budget = pacer.budget(budgetId);
    this.auctions = tiers.type("auction");
    this.bids = tiers.type("bid");
    this.clock = clock;
    this.users = users;
    this.peakPerSecond = peakPerSecond;
    SplittableRandom random = new SplittableRandom(seed);
    this.thread = Thread.ofPlatform().name("demo-" + site.name() + "-" + name).daemon().unstarted(() -> run(random));
  }

  void start() {
    thread.start();
  }

  /** Traffic at a local hour, 0..1: quiet at 4 am, busiest in the evening. */
  static double curve(double localHour) {
    return 0.15 + 0.85 * (0.5 - 0.5 * Math.cos(2 * Math.PI * (localHour - 4) / 24));
  }

  static double localHour(double dayFraction, int utcOffsetHours) {
    return ((dayFraction * 24 + utcOffsetHours) % 24 + 24) % 24;
  }

  private void run(SplittableRandom random) {
    long tickNanos = 10_000_000L;
    long next = System.nanoTime();
    double carry = 0;
    while (!stopped) {
      double f = clock.dayFraction();
      if (f >= 1) {
        break;
      }
      double rate = peakPerSecond * share * curve(localHour(f, site.spec.utcOffsetHours()));
      carry += rate * tickNanos / 1e9;
      int n = (int) carry;
      carry -= n;
      for (int i = 0; i < n && !stopped; i++) {
        auction(random);
      }
      next += tickNanos;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      } else if (wait < -1_000_000_000L) {
        next = System.nanoTime();  // fell more than a second behind: do not try to catch up in a burst
      }
    }
  }

  private void auction(SplittableRandom random) {
    long id = auctionCount.incrementAndGet();
    // Skewed users: a few are seen very often, as on the open web.
    String user = "user-" + (int) (users * Math.pow(random.nextDouble(), 3));
    long start = System.nanoTime();
    Lookup<String> profile = profiles.get(user);
    getLatency.recordValue(Math.min(60_000_000L, (System.nanoTime() - start) / 1_000));
    long price = 0;
    boolean won = false;
    if (!profile.hasValue()) {
      profileUnknown.incrementAndGet();
    } else {
      long bid = 1_000 + random.nextInt(3_000);
      wantedMicros.addAndGet(bid);
      if (budget.shouldBid()) {
        bidCount.incrementAndGet();
        if (budget.trySpend(bid)) {
          won = true;
          price = bid;
        }
      }
    }
    String line = id + "\t" + site.name() + "\t" + name + "\t" + user + "\t" + (won ? 1 : 0) + "\t" + price + "\t"
        + profile.freshness();
    AppendResult r = auctions.append(line.getBytes(StandardCharsets.UTF_8));
    if (won) {
      if (r == AppendResult.REJECTED) {
        // The mid tier did not take the record: the spend is undone, so that nothing spent goes unlogged.
        budget.refund(price);
        notLogged.incrementAndGet();
      } else {
        wins.incrementAndGet();
        spentMicros.addAndGet(price);
        bids.append(line.getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  /** Stops the auctions and waits for the thread. */
  void stop() {
    stopped = true;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
    tiers.close();
    sync.close();
    pacer.close();
    profiles.close();
  }
}
