package dev.hardway.testkit.fault;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The request line and headers of one HTTP/1.x request, as {@link HttpMatch} sees them.
 *
 * @param method the method as sent
 * @param target the request target as sent, still percent-encoded
 * @param path the path part of the target: without the query, and without scheme and authority in absolute form
 * @param query the query without its {@code ?}, still percent-encoded; empty when absent
 * @param headers header values by lower-case name, in the order received
 */
record RequestHead(String method, String target, String path, String query, Map<String, List<String>> headers) {

  RequestHead {
    headers = Map.copyOf(headers);
  }

  static RequestHead of(String method, String target, Map<String, List<String>> headers) {
    String withoutScheme = target;
    String lower = target.toLowerCase(Locale.ROOT);
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
      // Absolute form, as sent to forward proxies: the path starts at the first slash after the authority.
      int authority = target.indexOf("://") + 3;
      int slash = target.indexOf('/', authority);
      int question = target.indexOf('?', authority);
      if (slash < 0 || (question >= 0 && question < slash)) {
        withoutScheme = "/" + (question >= 0 ? target.substring(question) : "");
      } else {
        withoutScheme = target.substring(slash);
      }
    }
    int question = withoutScheme.indexOf('?');
    String path = question < 0 ? withoutScheme : withoutScheme.substring(0, question);
    String query = question < 0 ? "" : withoutScheme.substring(question + 1);
    return new RequestHead(method, target, path, query, headers);
  }

  /** All values of a header, empty when absent. */
  List<String> values(String name) {
    return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
  }

  /** The first value of a header, or null. */
  @Nullable String first(String name) {
    List<String> values = values(name);
    return values.isEmpty() ? null : values.get(0);
  }
}
