package dev.hardway.pacing;

import java.util.regex.Pattern;

/** Checks shared by the public types, with messages that name the value received. */
final class Values {
  private static final Pattern BUDGET_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private Values() {}

  static String quote(String value) {
    StringBuilder sb = new StringBuilder("\"");
    int n = Math.min(value.length(), 120);
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
    if (value.length() > n) {
      sb.append("... (").append(value.length()).append(" characters)");
    }
    return sb.toString();
  }

  static String budgetId(String id) {
    if (!BUDGET_ID.matcher(id).matches()) {
      throw new IllegalArgumentException("budget id must be 1-128 of letters, digits and ._:-, got " + quote(id));
    }
    return id;
  }

  static long nonNegative(long v, String what) {
    if (v < 0) {
      throw new IllegalArgumentException(what + " must be >= 0, got " + v);
    }
    return v;
  }
}
