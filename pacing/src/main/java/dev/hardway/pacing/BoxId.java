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
