package dev.hardway.examples.demo;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The demo's flags.
 *
 * @param day how long the simulated day lasts
 * @param boxesPerRegion bidder boxes per region (the first holds most connections)
 * @param faults the trouble injected on purpose
 * @param out where the report is written
 * @param auctionsPerSecond auctions a second at the busiest hour, all regions together
 * @param users profiles in the home table
 */
public record DemoOptions(Duration day, int boxesPerRegion, Set<Fault> faults, Path out, int auctionsPerSecond,
    int users) {

  /** Trouble on purpose. */
  public enum Fault {
    /** The pacing coordinator goes away from 30 % to 42 % of the day, then a new one takes over. */
    COORDINATOR,
    /** ap-south is cut off from the other regions from 50 % to 62 % of the day. */
    REGION,
    /** eu-west's Redis is lost from 70 % to 80 % of the day. */
    REDIS
  }

  static final String USAGE = """
      usage: demo [--day 60s] [--boxes 2] [--faults all|none|coordinator,region,redis] [--rate 400] [--users 20000]
                  [--out target/demo]
        --day     length of the simulated day (e.g. 8s, 60s, 2m); default 60s
        --boxes   bidder boxes per region, 1 to 8; default 2
        --faults  trouble to inject; default all
        --rate    auctions a second at the busiest hour, all regions together, 10 to 20000; default 400
        --users   user profiles in the home table, 100 to 1000000; default 20000
        --out     folder for report.html and report.txt; default target/demo
      """;

  /**
   * Parses the command line.
   *
   * @param args the arguments
   * @return the options
   * @throws IllegalArgumentException naming the flag and the value received
   */
  public static DemoOptions parse(String... args) {
    Duration day = Duration.ofSeconds(60);
    int boxes = 2;
    Set<Fault> faults = EnumSet.allOf(Fault.class);
    Path out = Path.of("target", "demo");
    int rate = 400;
    int users = 20_000;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--help") || flag.equals("-h")) {
        throw new IllegalArgumentException(USAGE);
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("flag " + flag + " needs a value\n" + USAGE);
      }
      String value = args[++i];
      switch (flag) {
        case "--day" -> day = duration(value);
        case "--boxes" -> boxes = integer(flag, value, 1, 8);
        case "--faults" -> faults = faults(value);
        case "--rate" -> rate = integer(flag, value, 10, 20_000);
        case "--users" -> users = integer(flag, value, 100, 1_000_000);
        case "--out" -> out = Path.of(value);
        default -> throw new IllegalArgumentException("unknown flag " + flag + "\n" + USAGE);
      }
    }
    return new DemoOptions(day, boxes, faults, out, rate, users);
  }

  private static Duration duration(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    Duration d;
    try {
      if (v.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      } else if (v.endsWith("s")) {
        d = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
      } else if (v.endsWith("m")) {
        d = Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
      } else {
        d = Duration.ofSeconds(Long.parseLong(v));
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--day must be a duration such as 8s, 60s or 2m, got \"" + value + "\"");
    }
    if (d.compareTo(Duration.ofSeconds(4)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("--day must be between 4s and 1h, got " + value);
    }
    return d;
  }

  private static int integer(String flag, String value, int min, int max) {
    int n;
    try {
      n = Integer.parseInt(value.trim().replace("_", "").replace(",", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a whole number, got \"" + value + "\"");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(flag + " must be between " + min + " and " + max + ", got " + n);
    }
    return n;
  }

  private static Set<Fault> faults(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("all")) {
      return EnumSet.allOf(Fault.class);
    }
    Set<Fault> set = EnumSet.noneOf(Fault.class);
    if (v.equals("none") || v.isEmpty()) {
      return set;
    }
    for (String f : v.split(",")) {
      try {
        set.add(Fault.valueOf(f.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--faults takes all, none or a list of coordinator, region, redis; got \""
            + f.trim() + "\"");
      }
    }
    return set;
  }
}
