package dev.hardway.examples.demo;

import dev.hardway.logtiers.Tier;
import dev.hardway.logtiers.TierStats;
import dev.hardway.pacing.BudgetStats;
import dev.hardway.procache.ProCacheStats;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** The report after the day: invariants, then a table per capability, in the terminal and as an HTML page. */
final class Report {
  private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"};

  private Report() {}

  static String dollars(long micros) {
    return String.format(Locale.ROOT, "$%,.2f", micros / 1e6);
  }

  /** A table: a header row and rows, rendered as aligned text or as HTML. */
  record Table(String title, List<String> header, List<List<String>> rows) {
    String text() {
      int[] w = new int[header.size()];
      for (int i = 0; i < w.length; i++) {
        w[i] = header.get(i).length();
        for (List<String> r : rows) {
          w[i] = Math.max(w[i], r.get(i).length());
        }
      }
      StringBuilder sb = new StringBuilder("\n").append(title).append('\n');
      line(sb, header, w);
      StringBuilder rule = new StringBuilder();
      for (int x : w) {
        rule.append("-".repeat(x)).append("  ");
      }
      sb.append(rule.toString().stripTrailing()).append('\n');
      rows.forEach(r -> line(sb, r, w));
      return sb.toString();
    }

    private static void line(StringBuilder sb, List<String> cells, int[] w) {
      StringBuilder l = new StringBuilder();
      for (int i = 0; i < cells.size(); i++) {
        String c = cells.get(i);
        boolean number = !c.isEmpty() && "0123456789$+-".indexOf(c.charAt(0)) >= 0;
        l.append(i == 0 || !number ? c + " ".repeat(w[i] - c.length()) : " ".repeat(w[i] - c.length()) + c)
            .append("  ");
      }
      sb.append(l.toString().stripTrailing()).append('\n');
    }

    String html() {
      StringBuilder sb = new StringBuilder("<h2>").append(escape(title)).append("</h2>\n<table>\n<tr>");
      header.forEach(h -> sb.append("<th>").append(escape(h)).append("</th>"));
      sb.append("</tr>\n");
      for (List<String> r : rows) {
        sb.append("<tr>");
        r.forEach(c -> sb.append("<td>").append(escape(c)).append("</td>"));
        sb.append("</tr>\n");
      }
      return sb.append("</table>\n").toString();
    }
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  static DemoResult write(PrintStream out, DemoOptions o, Demo.World world, Timeline timeline, Recount recount,
      boolean midDelivered, Map<String, Map<Tier, TierStats>> tiers, String roleAtStart, String roleAtEnd,
      long stsCalls, long chainRefreshes, long credentialsServed) throws IOException {
    List<Table> tables = new ArrayList<>();
    long budget = world.budgetMicros;

    // ---- invariants ----
    long pacerSpent = 0;
    long boxSpent = 0;
    long auctions = 0;
    long notLogged = 0;
    for (Box b : world.boxes) {
      BudgetStats s = b.pacer.budget(Demo.BUDGET).stats();
      pacerSpent += s.spentMicros() - s.refundedMicros();
      boxSpent += b.spentMicros.get();
      auctions += b.auctionCount.get();
      notLogged += b.notLogged.get();
    }
    long midAppended = 0;
    long midDelivered2 = 0;
    long midDropped = 0;
    for (Map<Tier, TierStats> m : tiers.values()) {
      TierStats mid = m.get(Tier.MID);
      midAppended += mid.appended();
      midDelivered2 += mid.delivered();
      midDropped += mid.droppedTotal();
    }
    List<String> broken = new ArrayList<>();
    if (pacerSpent > budget) {
      broken.add("overspend: the pacers spent " + dollars(pacerSpent) + " of a " + dollars(budget) + " budget");
    }
    if (!midDelivered || midDropped > 0 || midDelivered2 != midAppended) {
      broken.add("the mid tier did not deliver every record it accepted: appended " + midAppended + ", delivered "
          + midDelivered2 + ", dropped " + midDropped);
    }
    if (recount.distinct() != midAppended) {
      broken.add("lost mid-tier records: the mid tier accepted " + midAppended + " auction records, the main bucket "
          + "holds " + recount.distinct() + " distinct ones");
    }
    if (recount.spentMicros() != pacerSpent || boxSpent != pacerSpent) {
      broken.add("recount mismatch: the batch recount found " + dollars(recount.spentMicros()) + " ("
          + recount.spentMicros() + " µ$), the pacers counted " + dollars(pacerSpent) + " (" + pacerSpent
          + " µ$), the bidders " + boxSpent + " µ$");
    }
    tables.add(new Table("Invariants", List.of("invariant", "held", "figures"), List.of(
        List.of("no overspend", yes(pacerSpent <= budget), dollars(pacerSpent) + " of " + dollars(budget)),
        List.of("no lost mid-tier record", yes(recount.distinct() == midAppended && midDropped == 0),
            String.format(Locale.ROOT, "%,d accepted, %,d in s3://logs-main (%,d wins refunded: not logged)",
                midAppended, recount.distinct(), notLogged)),
        List.of("recount = pacer", yes(recount.spentMicros() == pacerSpent),
            dollars(recount.spentMicros()) + " = " + dollars(pacerSpent)))));

    // ---- spend ----
    List<List<String>> spendRows = new ArrayList<>();
    long fixedSplit = 0;
    long fixedShare = budget / world.boxes.size();
    for (Box b : world.boxes) {
      spendRows.add(List.of(b.site.name() + "/" + b.name, String.format(Locale.ROOT, "%.0f%%", b.share * 100),
          String.format(Locale.ROOT, "%,d", b.auctionCount.get()), String.format(Locale.ROOT, "%,d", b.wins.get()),
          dollars(b.wantedMicros.get()), dollars(b.spentMicros.get()),
          String.format(Locale.ROOT, "%.1f%%", 100.0 * b.spentMicros.get() / budget),
          dollars(Math.min(b.wantedMicros.get(), fixedShare))));
      fixedSplit += Math.min(b.wantedMicros.get(), fixedShare);
    }
    spendRows.add(List.of("all", "", String.format(Locale.ROOT, "%,d", auctions), "", "", dollars(boxSpent),
        String.format(Locale.ROOT, "%.1f%%", 100.0 * boxSpent / budget), dollars(fixedSplit)));
    tables.add(new Table("Spend per box (budget " + dollars(budget) + "; demand = what every opportunity with a "
        + "profile would have bid; fixed split = budget / boxes, no reallocation)",
        List.of("box", "traffic", "auctions", "wins", "demand", "spent", "of budget", "fixed split"), spendRows));

    List<List<String>> curveRows = new ArrayList<>();
    for (double q : new double[] {0.25, 0.5, 0.75, 1.0}) {
      Timeline.Sample s = at(timeline.samples, q);
      curveRows.add(List.of(Timeline.clock(q), dollars(s.spentMicros()), dollars(s.targetMicros()),
          off(s.spentMicros(), s.targetMicros()), dollars(s.fixedSplitMicros()),
          off(s.fixedSplitMicros(), s.targetMicros())));
    }
    tables.add(new Table("Spend against the target curve (the day's traffic, summed over the regions' local hours), "
        + "paced and with a fixed split", List.of("time", "paced", "target", "off by", "fixed split", "off by"),
        curveRows));

    // ---- cache ----
    Map<String, long[]> cache = new LinkedHashMap<>();
    Map<String, Histogram> latency = new LinkedHashMap<>();
    for (Box b : world.boxes) {
      ProCacheStats s = b.profiles.stats();
      long[] c = cache.computeIfAbsent(b.site.name(), k -> new long[7]);
      c[0] += s.localHits();
      c[1] += s.redisHits();
      c[2] += s.homeHits();
      c[3] += s.staleAnswers();
      c[4] += s.unknownAnswers();
      c[5] += s.homeLoads();
      c[6] += s.deadlineMisses();
      latency.computeIfAbsent(b.site.name(), k -> new Histogram(60_000_000L, 2)).add(b.getLatency.getIntervalHistogram());
    }
    List<List<String>> cacheRows = new ArrayList<>();
    for (var e : cache.entrySet()) {
      long[] c = e.getValue();
      long all = c[0] + c[1] + c[2] + c[3] + c[4];
      Histogram h = latency.get(e.getKey());
      cacheRows.add(List.of(e.getKey(), pct(c[0], all), pct(c[1], all), pct(c[2], all), pct(c[3], all),
          pct(c[4], all), pct(c[0] + c[1] + c[3], all), String.format(Locale.ROOT, "%,d", c[5]),
          ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(99)), ms(h.getMaxValue())));
    }
    tables.add(new Table("Profiles through procache (20 ms deadline)", List.of("region", "in-process", "Redis",
        "home", "stale", "unknown", "hit rate", "home reads", "get p50", "get p99", "get max"), cacheRows));

    // ---- logs ----
    List<List<String>> logRows = new ArrayList<>();
    for (Tier t : Tier.values()) {
      long appended = 0;
      long delivered = 0;
      long dropped = 0;
      long p50 = 0;
      long p99 = 0;
      long max = 0;
      for (Map<Tier, TierStats> m : tiers.values()) {
        TierStats s = m.get(t);
        if (s == null) {
          continue;
        }
        appended += s.appended();
        delivered += s.delivered();
        dropped += s.droppedTotal();
        p50 = Math.max(p50, s.deliveryLatency().p50Micros());
        p99 = Math.max(p99, s.deliveryLatency().p99Micros());
        max = Math.max(max, s.deliveryLatency().maxMicros());
      }
      logRows.add(List.of(t.name().toLowerCase(Locale.ROOT), String.format(Locale.ROOT, "%,d", appended),
          String.format(Locale.ROOT, "%,d", delivered), String.format(Locale.ROOT, "%,d", dropped), ms(p50),
          ms(p99), ms(max)));
    }
    tables.add(new Table("Log delivery (latency: the worst box's figure)", List.of("tier", "appended", "delivered",
        "dropped", "p50", "p99", "max"), logRows));

    // ---- the batch job ----
    tables.add(new Table("The batch recount of the day's spend from the mid tier's objects, mapped with the s3pager ("
        + recount.mode() + ")", List.of("objects", "compressed bytes", "records", "distinct", "damaged regions",
        "spend", "took", "throughput", "first byte p50", "first byte max"), List.of(
        List.of(String.format(Locale.ROOT, "%,d", recount.objects()), String.format(Locale.ROOT, "%,d",
            recount.bytes()), String.format(Locale.ROOT, "%,d", recount.records()),
            String.format(Locale.ROOT, "%,d", recount.distinct()), Long.toString(recount.damaged()),
            dollars(recount.spentMicros()), String.format(Locale.ROOT, "%.2f s", recount.took().toNanos() / 1e9),
            String.format(Locale.ROOT, "%.2f MB/s, %.0f objects/s", recount.bytes() / 1e6 / Math.max(1e-9,
                recount.took().toNanos() / 1e9), recount.objects() / Math.max(1e-9, recount.took().toNanos() / 1e9)),
            String.format(Locale.ROOT, "%.1f ms", recount.firstByteP50().toNanos() / 1e6),
            String.format(Locale.ROOT, "%.1f ms", recount.firstByteMax().toNanos() / 1e6)))));

    // ---- credentials ----
    tables.add(new Table("Credentials (every client above signs with the metadata imitator's role credentials)",
        List.of("role at dawn", "role at night", "STS calls", "chain refreshes", "served by the imitator"),
        List.of(List.of(roleAtStart, roleAtEnd, Long.toString(stsCalls), Long.toString(chainRefreshes),
            Long.toString(credentialsServed)))));

    List<List<String>> eventRows = new ArrayList<>();
    timeline.events.forEach(e -> eventRows.add(List.of(Timeline.clock(e.fraction()), e.what())));
    tables.add(new Table("Trouble on purpose", List.of("time", "what"), eventRows));

    StringBuilder text = new StringBuilder();
    tables.forEach(t -> text.append(t.text()));
    text.append(broken.isEmpty() ? "\nEvery invariant held.\n" : "\nBROKEN:\n  " + String.join("\n  ", broken)
        + "\n");
    out.print(text);
    Path textFile = o.out().resolve("report.txt");
    Files.writeString(textFile, text, StandardCharsets.UTF_8);
    Path html = o.out().resolve("report.html");
    Files.writeString(html, html(tables, timeline, budget, broken), StandardCharsets.UTF_8);
    out.println("report: " + html.toAbsolutePath().toUri());
    return new DemoResult(List.copyOf(broken), budget, pacerSpent, recount.spentMicros(), auctions, midAppended,
        recount.distinct(), textFile, html);
  }

  private static Timeline.Sample at(List<Timeline.Sample> samples, double fraction) {
    Timeline.Sample best = samples.get(0);
    for (Timeline.Sample s : samples) {
      if (s.fraction() <= fraction + 1e-9) {
        best = s;
      }
    }
    return best;
  }

  private static String off(long actual, long target) {
    return String.format(Locale.ROOT, "%+.1f%%", target == 0 ? 0 : 100.0 * (actual - target) / target);
  }

  private static String yes(boolean b) {
    return b ? "yes" : "NO";
  }

  private static String pct(long part, long all) {
    return all == 0 ? "-" : String.format(Locale.ROOT, "%.2f%%", 100.0 * part / all);
  }

  private static String ms(long micros) {
    return String.format(Locale.ROOT, "%.1f ms", micros / 1e3);
  }

  private static String html(List<Table> tables, Timeline timeline, long budget, List<String> broken) {
    StringBuilder sb = new StringBuilder("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Hardway demo: a day of bidding</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin-bottom: 1.5em; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        .ok { color: #2ca02c; } .broken { color: #d62728; }
        </style></head><body>
        <h1>Hardway demo: a day of bidding in five regions</h1>
        """);
    sb.append(broken.isEmpty() ? "<p class=\"ok\">Every invariant held.</p>\n"
        : "<p class=\"broken\">Broken: " + escape(String.join("; ", broken)) + "</p>\n");
    sb.append("<h2>Cumulative spend over the day</h2>\n").append(chart(timeline, budget));
    tables.forEach(t -> sb.append(t.html()));
    return sb.append("</body></html>\n").toString();
  }

  /** An SVG line chart: spend against the target curve and the budget, and each region's spend. */
  private static String chart(Timeline timeline, long budget) {
    int w = 720;
    int h = 320;
    int pad = 50;
    double max = budget * 1.05;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
        + "xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">%n", w, h, w, h));
    sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n", pad,
        h - pad, w - 10, h - pad));
    sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n", pad,
        pad, h - pad));
    double by = y(budget, max, h, pad);
    sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#d62728\" "
        + "stroke-dasharray=\"4 3\"/><text x=\"%d\" y=\"%.1f\" fill=\"#d62728\">budget %s</text>%n", pad, by,
        w - 10, by, pad + 4, by - 4, dollars(budget)));
    for (int i = 0; i <= 4; i++) {
      double x = pad + (w - 10 - pad) * i / 4.0;
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x,
          h - pad + 15, Timeline.clock(i / 4.0)));
    }
    sb.append(polyline(timeline.samples, s -> s.targetMicros(), max, w, h, pad, "#888", "4 3"));
    sb.append(polyline(timeline.samples, s -> s.fixedSplitMicros(), max, w, h, pad, "#bbb", "1 3"));
    sb.append(polyline(timeline.samples, s -> s.spentMicros(), max, w, h, pad, "#000", ""));
    int i = 0;
    List<String> regions = timeline.samples.isEmpty() ? List.of()
        : List.copyOf(timeline.samples.get(timeline.samples.size() - 1).spentByRegion().keySet());
    for (String r : regions) {
      String color = COLORS[i % COLORS.length];
      sb.append(polyline(timeline.samples, s -> s.spentByRegion().getOrDefault(r, 0L), max, w, h, pad, color, ""));
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>%n", w - 120, 20 + 14 * i,
          color, r));
      i++;
    }
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">all regions</text>%n", w - 120, 20 + 14 * i));
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#888\">target curve</text>%n", w - 120,
        34 + 14 * i));
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#999\">fixed split</text>%n", w - 120,
        48 + 14 * i));
    return sb.append("</svg>\n").toString();
  }

  private static double y(double value, double max, int h, int pad) {
    return h - pad - (h - pad - 10) * value / max;
  }

  private static String polyline(List<Timeline.Sample> samples, java.util.function.ToLongFunction<Timeline.Sample> f,
      double max, int w, int h, int pad, String color, String dash) {
    StringBuilder points = new StringBuilder();
    for (Timeline.Sample s : samples) {
      points.append(String.format(Locale.ROOT, "%.1f,%.1f ", pad + (w - 10 - pad) * s.fraction(),
          y(f.applyAsLong(s), max, h, pad)));
    }
    return String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"%s\"/>%n",
        color, dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"", points.toString().trim());
  }
}
