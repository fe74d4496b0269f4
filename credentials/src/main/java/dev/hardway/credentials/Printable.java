package dev.hardway.credentials;

/** Echoing untrusted input in error messages without letting it forge lines or flood a log. */
final class Printable {
  private static final int MAX = 120;

  private Printable() {}

  /** The value in double quotes, control characters escaped, cut to 120 characters with its full length named. */
  static String quote(String value) {
    StringBuilder sb = new StringBuilder(Math.min(value.length(), MAX) + 16).append('"');
    int n = Math.min(value.length(), MAX);
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
    if (value.length() > MAX) {
      sb.append("... (").append(value.length()).append(" characters)");
    }
    return sb.toString();
  }
}
