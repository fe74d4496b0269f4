package dev.hardway.logtiers;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one path format of the S3 tiers, Hive-style so that Athena, Presto, Glue and Spark discover the partitions:
 *
 * <pre>
 * [prefix]&lt;type&gt;/dt=YYYY-MM-DD/hr=HH/&lt;region&gt;_&lt;host&gt;_&lt;boot&gt;_&lt;segment&gt;.&lt;zst|gz&gt;
 * e.g. auction/dt=2026-11-28/hr=16/us-east-1_bidder-7_3f9a0c1d2e4b5a69_000000000042.zst
 * </pre>
 *
 * <p>Date and hour are UTC, from the time the segment was opened, and never contain {@code :} (which breaks partition
 * discovery). The boot (16 hex digits) and the segment number (12 digits) make the key unique per writer even when
 * the wall clock steps backwards, and deterministic: an upload retried after a crash writes the same key. Fields are
 * separated by {@code _}, which neither AWS region names nor host names contain; other characters outside
 * {@code [A-Za-z0-9.-]} in a host name are written as {@code -}.
 */
public final class ObjectKeys {
  private static final Pattern KEY = Pattern.compile(
      "(.*?)([^/]+)/dt=(\\d{4}-\\d{2}-\\d{2})/hr=(\\d{2})/([a-z0-9-]+)_([A-Za-z0-9.-]+)_([0-9a-f]{16})_(\\d{12})\\.(zst|gz)");
  private static final Pattern REGION = Pattern.compile("[a-z0-9-]{1,64}");

  private ObjectKeys() {}

  /**
   * The parts of a key.
   *
   * @param prefix the tier's prefix ({@code ""} when none, else ending in {@code /})
   * @param type the log type
   * @param hour the UTC hour the segment was opened in
   * @param region the writer's region
   * @param host the writer's host, as written in the key
   * @param boot the writer's boot id
   * @param segment the segment number within the boot
   * @param compression the compression
   */
  public record Key(String prefix, String type, Instant hour, String region, String host, long boot, long segment,
      Compression compression) {}

  /**
   * Builds a key.
   *
   * @param prefix {@code ""} or a prefix ending in {@code /}
   * @param type the log type
   * @param openedAt when the segment was opened
   * @param region the writer's region, e.g. {@code us-east-1}
   * @param host the writer's host
   * @param boot the writer's boot id
   * @param segment the segment number
   * @param compression the compression
   * @return the key
   */
  public static String key(String prefix, String type, Instant openedAt, String region, String host, long boot,
      long segment, Compression compression) {
    LocalDateTime t = LocalDateTime.ofInstant(openedAt, ZoneOffset.UTC);
    return String.format(Locale.ROOT, "%s%s/dt=%04d-%02d-%02d/hr=%02d/%s_%s_%016x_%012d.%s", prefix, type,
        t.getYear(), t.getMonthValue(), t.getDayOfMonth(), t.getHour(), region, hostForKey(host), boot, segment,
        compression.extension());
  }

  /**
   * The prefix of every key of one type and UTC hour: what a job lists to read that hour.
   *
   * @param prefix the tier's prefix
   * @param type the log type
   * @param hour any instant in the hour
   * @return the partition prefix, ending in {@code /}
   */
  public static String hourPrefix(String prefix, String type, Instant hour) {
    LocalDateTime t = LocalDateTime.ofInstant(hour, ZoneOffset.UTC);
    return String.format(Locale.ROOT, "%s%s/dt=%04d-%02d-%02d/hr=%02d/", prefix, type, t.getYear(),
        t.getMonthValue(), t.getDayOfMonth(), t.getHour());
  }

  /**
   * Parses a key written by {@link #key}.
   *
   * @param key the key
   * @return its parts
   * @throws IllegalArgumentException when the key is not in this format, naming it
   */
  public static Key parse(String key) {
    Matcher m = KEY.matcher(key);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a logtiers object key: '" + key + "'");
    }
    Instant hour = LocalDateTime.parse(m.group(3) + "T" + m.group(4) + ":00:00").toInstant(ZoneOffset.UTC);
    return new Key(m.group(1), m.group(2), hour, m.group(5), m.group(6), Long.parseUnsignedLong(m.group(7), 16),
        Long.parseLong(m.group(8)), Compression.ofExtension(m.group(9)));
  }

  /**
   * The host name as it appears in keys: characters outside {@code [A-Za-z0-9.-]} become {@code -}.
   *
   * @param host the host name
   * @return the key-safe form
   */
  public static String hostForKey(String host) {
    StringBuilder b = new StringBuilder(host.length());
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      boolean safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      b.append(safe ? c : '-');
    }
    return b.toString();
  }

  static String checkRegion(String region) {
    if (!REGION.matcher(region).matches()) {
      throw new IllegalArgumentException("region must be 1-64 characters of [a-z0-9-], got '" + region + "'");
    }
    return region;
  }

  static String checkPrefix(String prefix) {
    if (!prefix.isEmpty() && (!prefix.endsWith("/") || prefix.startsWith("/") || prefix.contains("//"))) {
      throw new IllegalArgumentException("prefix must be empty or end with '/' (no leading '/', no '//'), got '"
          + prefix + "'");
    }
    return prefix;
  }

  static String checkType(String type) {
    int bytes = type.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes == 0 || bytes > LogRecords.MAX_NAME_BYTES || !type.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("log type must be 1-255 characters of [A-Za-z0-9._-], got '" + type + "'");
    }
    return type;
  }
}
