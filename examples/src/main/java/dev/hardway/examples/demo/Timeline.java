package dev.hardway.examples.demo;

import dev.hardway.credentials.RoleBroker;
import dev.hardway.pacing.BudgetStats;
import dev.hardway.pacing.CoordinatorService;
import dev.hardway.procache.ProCacheStats;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The day as it runs: the faults switched on and off at their hour, the role switched at noon, samples of spend
 * against the target curve for the report, and a progress line.
 */
final class Timeline {
  /**
   * One sample: the day's fraction, cumulative spend in all and per region, the target curve's spend, and what a
   * fixed split (the budget divided equally among the boxes up front, each spending on its own opportunities until
   * its share runs out) would have spent by then.
   */
  record Sample(double fraction, long spentMicros, long targetMicros, Map<String, Long> spentByRegion,
      long fixedSplitMicros) {}

  /** Something that happened, at a fraction of the day. */
  record Event(double fraction, String what) {}

  private final Demo.World world;
  private final PrintStream out;
  private final RoleBroker broker;
  final List<Sample> samples = new ArrayList<>();
  final List<Event> events = new ArrayList<>();
  private final double[] cumulativeTarget = new double[1001];
  private String trouble = "none";

  Timeline(Demo.World world, PrintStream out, RoleBroker broker) {
    this.world = world;
    this.out = out;
    this.broker = broker;
    // The target: spend follows the day's traffic, summed over the regions' local hours.
    double sum = 0;
    for (int i = 1; i <= 1000; i++) {
      double f = (i - 0.5) / 1000;
      for (Site.Spec r : Site.REGIONS) {
        sum += Box.curve(Box.localHour(f, r.utcOffsetHours()));
      }
      cumulativeTarget[i] = sum;
    }
    for (int i = 0; i <= 1000; i++) {
      cumulativeTarget[i] /= sum;
    }
  }

  /** The share of the day's budget the target curve has spent by this fraction of the day. */
  double targetShare(double fraction) {
    return cumulativeTarget[(int) Math.round(Math.max(0, Math.min(1, fraction)) * 1000)];
  }

  void runUntilEndOfDay() throws InterruptedException {
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread writer = Thread.ofPlatform().name("demo-home-writes").daemon()
        .start(() -> world.writeProfiles(writing));
    boolean coordinatorAway = false;
    boolean coordinatorBack = false;
    boolean regionCut = false;
    boolean regionBack = false;
    boolean redisLost = false;
    boolean redisBack = false;
    boolean roleSwitched = false;
    long nextProgress = 0;
    try {
      while (true) {
        double f = world.dayFraction();
        if (world.o.faults().contains(DemoOptions.Fault.COORDINATOR)) {
          if (!coordinatorAway && f >= 0.30) {
            coordinatorAway = true;
            world.coordinator.close();
            event(f, "the pacing coordinator goes away (boxes keep their leases, then their last rate)");
            trouble = "coordinator away";
          }
          if (!coordinatorBack && f >= 0.42) {
            coordinatorBack = true;
            world.coordinator = world.coordinator("banker-2");
            event(f, "a new pacing coordinator takes over from the last committed snapshot");
            trouble = "none";
          }
        }
        if (!roleSwitched && f >= 0.5) {
          roleSwitched = true;
          broker.use(Demo.BIDDER_V2_ROLE);
          event(f, "`use bidder-v2`: the metadata imitator switches role; clients follow at their next refresh");
        }
        if (world.o.faults().contains(DemoOptions.Fault.REGION)) {
          if (!regionCut && f >= 0.50) {
            regionCut = true;
            site("ap-south").cutOff(true);
            event(f, "ap-south is cut off from the main region (logs queue on disk, pacing runs on its lease)");
            trouble = "ap-south cut off";
          }
          if (!regionBack && f >= 0.62) {
            regionBack = true;
            site("ap-south").cutOff(false);
            event(f, "ap-south is back");
            trouble = "none";
          }
        }
        if (world.o.faults().contains(DemoOptions.Fault.REDIS)) {
          if (!redisLost && f >= 0.70) {
            redisLost = true;
            site("eu-west").loseRedis(true);
            event(f, "eu-west loses its Redis tier (bidders serve in-process, misses go home, bounded)");
            trouble = "eu-west Redis lost";
          }
          if (!redisBack && f >= 0.80) {
            redisBack = true;
            site("eu-west").loseRedis(false);
            event(f, "eu-west's Redis is back");
            trouble = "none";
          }
        }
        sample(Math.min(1, f));
        long now = System.nanoTime();
        if (now >= nextProgress) {
          progress(Math.min(1, f));
          nextProgress = now + 1_000_000_000L;
        }
        if (f >= 1) {
          break;
        }
        Thread.sleep(200);
      }
    } finally {
      writing.set(false);
      writer.join(2_000);
    }
  }

  private Site site(String name) {
    return world.sites.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  private void event(double f, String what) {
    events.add(new Event(f, what));
    out.printf(Locale.ROOT, "%n%s  %s%n", clock(f), what);
  }

  static String clock(double f) {
    int minutes = (int) Math.round(Math.max(0, Math.min(1, f)) * 24 * 60);
    return String.format(Locale.ROOT, "%02d:%02d UTC", minutes / 60 % 24 + (minutes == 1440 ? 24 : 0),
        minutes % 60);
  }

  private void sample(double f) {
    long spent = 0;
    long fixed = 0;
    long share = world.budgetMicros / world.boxes.size();
    Map<String, Long> byRegion = new LinkedHashMap<>();
    for (Box b : world.boxes) {
      long s = b.spentMicros.get();
      spent += s;
      fixed += Math.min(share, b.wantedMicros.get());
      byRegion.merge(b.site.name(), s, Long::sum);
    }
    samples.add(new Sample(f, spent, Math.round(world.budgetMicros * targetShare(f)), byRegion, fixed));
  }

  private void progress(double f) {
    long auctions = 0;
    long spent = 0;
    long hits = 0;
    long answers = 0;
    for (Box b : world.boxes) {
      auctions += b.auctionCount.get();
      spent += b.spentMicros.get();
      ProCacheStats s = b.profiles.stats();
      hits += s.localHits() + s.redisHits() + s.staleAnswers();
      answers += s.localHits() + s.redisHits() + s.homeHits() + s.staleAnswers() + s.unknownAnswers();
    }
    Map<BudgetStats.Mode, Integer> modes = new java.util.EnumMap<>(BudgetStats.Mode.class);
    for (Box b : world.boxes) {
      modes.merge(b.pacer.budget(Demo.BUDGET).stats().mode(), 1, Integer::sum);
    }
    int filled = (int) (f * 20);
    out.printf(Locale.ROOT, "\r[%s%s] %3.0f%% %s | auctions %,d | spent %s of %s (target %s) | pacing %s | cache "
            + "hits %.2f%% | trouble: %s   ", "#".repeat(filled), ".".repeat(20 - filled), f * 100, clock(f),
        auctions, Report.dollars(spent), Report.dollars(world.budgetMicros),
        Report.dollars(Math.round(world.budgetMicros * targetShare(f))), modes,
        answers == 0 ? 0.0 : 100.0 * hits / answers, trouble);
    if (System.getenv("DEMO_DEBUG") != null) {
      CoordinatorService c = world.coordinator;
      out.printf(Locale.ROOT, "%n  coordinator %s %s%n", c == null ? "-" : c.stats(),
          c == null ? "-" : c.coordinatorStats().map(Object::toString).orElse("-"));
      for (Box b : world.boxes) {
        out.printf(Locale.ROOT, "  %s/%s %s %s%n", b.site.name(), b.name, b.sync.stats(),
            b.pacer.budget(Demo.BUDGET).stats());
      }
    }
    out.flush();
  }
}
