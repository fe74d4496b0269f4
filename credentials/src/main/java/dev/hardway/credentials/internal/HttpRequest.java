package dev.hardway.credentials.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One parsed request. Header names are kept lower-cased; the target is the raw request-target, never decoded, so
 * that encoded traversal cannot slip past a check.
 *
 * @param method the method token
 * @param target the raw request-target
 * @param headerNames lower-cased header names, in order
 * @param headerValues header values, trimmed, in order
 * @param peer the client's address
 */
public record HttpRequest(String method, String target, List<String> headerNames, List<String> headerValues,
    InetAddress peer) {

  /** Copies the header lists. */
  public HttpRequest {
    headerNames = List.copyOf(headerNames);
    headerValues = List.copyOf(headerValues);
  }

  /**
   * The first value of a header.
   *
   * @param name the header name, any case
   * @return the value, or null when absent
   */
  public @Nullable String header(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (int i = 0; i < headerNames.size(); i++) {
      if (headerNames.get(i).equals(n)) {
        return headerValues.get(i);
      }
    }
    return null;
  }

  /**
   * All values of a header.
   *
   * @param name the header name, any case
   * @return the values, possibly none
   */
  public List<String> headers(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    List<String> out = new ArrayList<>(1);
    for (int i = 0; i < headerNames.size(); i++) {
      if (headerNames.get(i).equals(n)) {
        out.add(headerValues.get(i));
      }
    }
    return out;
  }
}
