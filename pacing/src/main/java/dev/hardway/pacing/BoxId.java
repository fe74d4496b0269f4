package dev.hardway.pacing;

import java.util.regex.Pattern;

/**
 * One bidder box: its region and its name in that region.
 *
 * @param region e.g. {@code us-east}
 * @param name e.g. {@code box-1}
 */
public record BoxId(String region, String name) implements Comparable<BoxId> {
  private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /**
   * Checks the parts.
   *
   * @throws IllegalArgumentException when a part has characters outside its pattern
   */
  public BoxId {
    if (!REGION.matcher(region).matches()) {
      throw new IllegalArgumentException("region must be 1-32 of a-z, 0-9 and -, got " + Values.quote(region));
    }
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("box name must be 1-64 of letters, digits and ._-, got "
          + Values.quote(name));
    }
  }

  /**
   * Parses {@code region/name}.
   *
   * @param text the text
   * @return the box
   * @throws IllegalArgumentException when it is not {@code region/name}
   */
  public static BoxId parse(String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("a box is region/name, got " + Values.quote(text));
    }
    return new BoxId(text.substring(0, slash), text.substring(slash + 1));
  }

  /**
   * A box id for this process alone: the name with a random suffix, e.g. {@code box-1-k3x9q2a}. Use it unless the
   * box keeps its spend across restarts: reports merge by maximum and grants are cumulative, so a restarted process
   * that reused the id of its previous run could make the whole grant spendable a second time. A new id makes the
   * coordinator see a new box, and reclaim the old one's grant once its lease has stopped.
   *
   * @param region the region
   * @param name the box's stable name, at most 56 characters
   * @return a fresh id
   */
  public static BoxId forThisProcess(String region, String name) {
    if (name.length() > 56) {
      throw new IllegalArgumentException("box name for forThisProcess must be at most 56 characters (8 go to the "
          + "suffix), got " + Values.quote(name));
    }
    long r = java.util.concurrent.ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36 * 36 * 36);
    StringBuilder suffix = new StringBuilder(Long.toString(r, 36));
    while (suffix.length() < 7) {
      suffix.insert(0, '0');
    }
    return new BoxId(region, name + "-" + suffix);
  }

  @Override
  public int compareTo(BoxId o) {
    int c = region.compareTo(o.region);
    return c != 0 ? c : name.compareTo(o.name);
  }

  @Override
  public String toString() {
    return region + "/" + name;
  }
}
