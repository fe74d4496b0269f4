package dev.hardway.pacing.sim;

import dev.hardway.pacing.Degradation;
import dev.hardway.pacing.sim.Scenario.Crash;
import dev.hardway.pacing.sim.Scenario.Edit;
import dev.hardway.pacing.sim.Scenario.Join;
import dev.hardway.pacing.sim.Scenario.Leave;
import dev.hardway.pacing.sim.Scenario.Mode;
import dev.hardway.pacing.sim.Scenario.Outage;
import dev.hardway.pacing.sim.Scenario.Partition;
import dev.hardway.pacing.sim.Scenario.Skew;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the pacing scenarios and prints their figures as a Markdown table: the target (5 regions x 4 boxes, one box per
 * region with 70 % of the region's connections, supply 1.5 x the budget, 10 s sync), each fault on its own, all
 * faults together, and the baselines (a fixed split per box; leases without a safe mode; boxes that spend freely
 * during an outage).
 *
 * <p>Every scenario simulates two days of a daily budget (UTC) in 1 s steps and measures the second, so that the
 * coordinator has learned the day's traffic curve from the first; fault times are on the second day. Runs are
 * deterministic: the same scenario gives the same figures (only the wall time varies).
 *
 * <pre>{@code
 * java -cp <class path> dev.hardway.pacing.sim.Simulator              # every scenario
 * java -cp <class path> dev.hardway.pacing.sim.Simulator target zipf-skew   # some, by name or slug
 * }</pre>
 */
public final class Simulator {
  private static final long H = 3_600;

  private Simulator() {}

  /**
   * Runs the named scenarios (every one without arguments) and prints the table.
   *
   * @param args scenario names or their {@linkplain #slug(String) slugs}, see {@link #scenarioNames()}
   * @throws IllegalArgumentException when a name is unknown
   */
  public static void main(String[] args) {
    List<String> names = args.length == 0 ? scenarioNames() : List.of(args);
    System.out.println(SimulationReport.header());
    for (String name : names) {
      System.out.println(run(name).row());
    }
  }

  /**
   * The scenarios {@link #run(String)} knows, in the order {@link #main(String[])} prints them.
   *
   * @return the names
   */
  public static List<String> scenarioNames() {
    return new ArrayList<>(catalogue().keySet());
  }

  /**
   * Runs one scenario.
   *
   * @param name its name or its {@linkplain #slug(String) slug}
   * @return its figures
   * @throws IllegalArgumentException when the name is unknown
   */
  public static SimulationReport run(String name) {
    Scenario s = catalogue().get(name);
    if (s == null) {
      for (Scenario candidate : catalogue().values()) {
        if (slug(candidate.name).equals(name)) {
          s = candidate;
        }
      }
    }
    if (s == null) {
      throw new IllegalArgumentException("unknown scenario " + name + "; known: " + scenarioNames());
    }
    return new Simulation(s).run();
  }

  /**
   * A scenario's name as a command-line word: lower case, runs of other characters than letters and digits as one
   * {@code -}; {@link #run(String)} takes either.
   *
   * @param name the name
   * @return e.g. {@code coordinator-outage-2-h-day-end} for {@code coordinator outage 2 h day end}
   */
  public static String slug(String name) {
    return name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
  }

  static Map<String, Scenario> catalogue() {
    Map<String, Scenario> m = new LinkedHashMap<>();
    Scenario t = Scenario.target();
    add(m, t);
    add(m, t.copy("supply 1.1x").supply(1.1));
    add(m, t.copy("supply 3x").supply(3.0));
    add(m, t.copy("zipf skew").skew(Skew.ZIPF));
    add(m, t.copy("even connections").skew(Skew.EVEN));
    add(m, t.copy("box joins 12:00, box leaves 15:00").with(new Join(12 * H, 1, 0.25), new Leave(15 * H, 2, 1)));
    add(m, t.copy("region partition 30 min").with(new Partition(14 * H, 14 * H + 1_800, 0)));
    add(m, t.copy("coordinator outage 2 h midday").with(new Outage(11 * H, 13 * H)));
    add(m, t.copy("coordinator outage 2 h day end").with(new Outage(22 * H, 24 * H)));
    add(m, t.copy("coordinator outage 2 h day end, 3x").supply(3.0).with(new Outage(22 * H, 24 * H)));
    add(m, t.copy("coordinator fail-over 1 min").with(new Outage(12 * H, 12 * H + 60)));
    add(m, t.copy("report delay 10 s").delay(10));
    add(m, t.copy("report delay 60 s").delay(60));
    add(m, t.copy("1 % loss, 1 % duplication").lossy(0.01, 0.01));
    add(m, t.copy("clock skew +-2 s").clockSkew(2_000));
    add(m, t.copy("box crash, unreported spend").with(new Crash(10 * H, 3, 0, 600)));
    add(m, t.copy("budget cut to 60 % at 12:00").with(new Edit(12 * H, 0.6)));
    add(m, t.copy("all faults").delay(10).lossy(0.01, 0.01).clockSkew(2_000).with(new Join(9 * H, 1, 0.25),
        new Leave(15 * H, 2, 1), new Crash(10 * H, 3, 0, 600), new Partition(14 * H, 14 * H + 1_800, 0),
        new Outage(17 * H, 19 * H)));
    add(m, t.copy("baseline: fixed split per box").mode(Mode.FIXED_SPLIT));
    add(m, t.copy("baseline: fixed split per box, 1.1x").mode(Mode.FIXED_SPLIT).supply(1.1));
    add(m, t.copy("baseline: leases without safe mode, outage day end").degradation(Degradation.STOP)
        .with(new Outage(22 * H, 24 * H)));
    add(m, t.copy("baseline: free spending in outage day end").mode(Mode.FREE_DURING_OUTAGE)
        .with(new Outage(22 * H, 24 * H)));
    add(m, t.copy("baseline: free spending in outage day end, 3x").mode(Mode.FREE_DURING_OUTAGE).supply(3.0)
        .with(new Outage(22 * H, 24 * H)));
    return m;
  }

  private static void add(Map<String, Scenario> m, Scenario s) {
    m.put(s.name, s);
  }
}
