package dev.hardway.testkit.fault;

import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * Which HTTP requests an {@link HttpFault} applies to. A match looks at the request line and the headers only, so the
 * proxy decides before the request body arrives; matches combine with {@link #and}, {@link #or} and {@link #negate}.
 *
 * <p>Paths and queries are compared as sent, still percent-encoded; header names ignore case, header values do not.
 * Instances are immutable and thread-safe.
 *
 * <pre>{@code
 * HttpMatch putIntoBucket = HttpMatch.method("PUT").and(HttpMatch.pathStartsWith("/bucket/"));
 * HttpMatch kinesisPut = HttpMatch.header("X-Amz-Target", "Kinesis_20131202.PutRecords");
 * HttpMatch completeUpload = HttpMatch.method("POST").and(HttpMatch.queryParameter("uploadId"));
 * }</pre>
 */
public final class HttpMatch {

  private static final HttpMatch ANY = new HttpMatch("any()", head -> true);

  private final String description;
  private final Predicate<RequestHead> predicate;

  private HttpMatch(String description, Predicate<RequestHead> predicate) {
    this.description = description;
    this.predicate = predicate;
  }

  /**
   * Every request.
   *
   * @return a match that always holds
   */
  public static HttpMatch any() {
    return ANY;
  }

  /**
   * Requests with this method. Methods are compared ignoring case, although clients send them in upper case.
   *
   * @param method e.g. {@code "PUT"}
   * @return the match
   * @throws IllegalArgumentException when the method is not an HTTP token
   */
  public static HttpMatch method(String method) {
    requireToken("method", method);
    return new HttpMatch("method(" + method + ")", head -> head.method().equalsIgnoreCase(method));
  }

  /**
   * Requests whose path, without the query, equals this one.
   *
   * @param path e.g. {@code "/bucket/key"}, percent-encoded as the client sends it
   * @return the match
   */
  public static HttpMatch path(String path) {
    Objects.requireNonNull(path, "path");
    return new HttpMatch("path(" + path + ")", head -> head.path().equals(path));
  }

  /**
   * Requests whose path, without the query, starts with this prefix.
   *
   * @param prefix e.g. {@code "/bucket"}; {@code "/bucket"} also matches {@code "/bucket-2/key"}, so end it with a
   *     slash to mean one bucket
   * @return the match
   */
  public static HttpMatch pathStartsWith(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    return new HttpMatch("pathStartsWith(" + prefix + ")", head -> head.path().startsWith(prefix));
  }

  /**
   * Requests whose whole path, without the query, matches a regular expression.
   *
   * @param regex a {@link Pattern} that must match the whole path
   * @return the match
   * @throws IllegalArgumentException when the expression does not compile
   */
  public static HttpMatch pathMatches(String regex) {
    Objects.requireNonNull(regex, "regex");
    Pattern pattern;
    try {
      pattern = Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("pathMatches: not a regular expression, got " + regex, e);
    }
    return new HttpMatch("pathMatches(" + regex + ")", head -> pattern.matcher(head.path()).matches());
  }

  /**
   * Requests whose query has this parameter, with or without a value ({@code ?uploads}, {@code ?uploadId=…}).
   *
   * @param name the parameter name, percent-encoded as sent
   * @return the match
   * @throws IllegalArgumentException when the name is empty
   */
  public static HttpMatch queryParameter(String name) {
    requireNonEmpty("queryParameter name", name);
    return new HttpMatch("queryParameter(" + name + ")", head -> queryValue(head.query(), name) != null);
  }

  /**
   * Requests whose query has this parameter with this value (the first occurrence counts).
   *
   * @param name the parameter name, percent-encoded as sent
   * @param value the value, percent-encoded as sent; empty for {@code ?name} or {@code ?name=}
   * @return the match
   * @throws IllegalArgumentException when the name is empty
   */
  public static HttpMatch queryParameter(String name, String value) {
    requireNonEmpty("queryParameter name", name);
    Objects.requireNonNull(value, "value");
    return new HttpMatch("queryParameter(" + name + "=" + value + ")",
        head -> value.equals(queryValue(head.query(), name)));
  }

  /**
   * Requests with a header of this name (any case) that has exactly this value (surrounding blanks aside).
   *
   * @param name e.g. {@code "X-Amz-Target"}
   * @param value e.g. {@code "DynamoDB_20120810.PutItem"}
   * @return the match
   * @throws IllegalArgumentException when the name is not an HTTP token
   */
  public static HttpMatch header(String name, String value) {
    requireToken("header name", name);
    Objects.requireNonNull(value, "value");
    String trimmed = value.strip();
    return new HttpMatch("header(" + name + ": " + value + ")",
        head -> head.values(name).stream().anyMatch(trimmed::equals));
  }

  /**
   * Requests that carry a header of this name (any case), whatever its value.
   *
   * @param name e.g. {@code "Content-MD5"}
   * @return the match
   * @throws IllegalArgumentException when the name is not an HTTP token
   */
  public static HttpMatch headerPresent(String name) {
    requireToken("header name", name);
    return new HttpMatch("headerPresent(" + name + ")", head -> !head.values(name).isEmpty());
  }

  /**
   * Requests that this match and the other both accept.
   *
   * @param other the other match
   * @return the conjunction
   */
  public HttpMatch and(HttpMatch other) {
    Objects.requireNonNull(other, "other");
    return new HttpMatch("(" + this + " and " + other + ")", predicate.and(other.predicate));
  }

  /**
   * Requests that this match or the other accepts.
   *
   * @param other the other match
   * @return the disjunction
   */
  public HttpMatch or(HttpMatch other) {
    Objects.requireNonNull(other, "other");
    return new HttpMatch("(" + this + " or " + other + ")", predicate.or(other.predicate));
  }

  /**
   * Requests that this match does not accept.
   *
   * @return the negation
   */
  public HttpMatch negate() {
    return new HttpMatch("not " + this, predicate.negate());
  }

  boolean test(RequestHead head) {
    return predicate.test(head);
  }

  /**
   * A readable form, as used in {@link HttpFault#toString()}.
   *
   * @return e.g. {@code "(method(PUT) and pathStartsWith(/bucket))"}
   */
  @Override
  public String toString() {
    return description;
  }

  private static @Nullable String queryValue(String query, String name) {
    int start = 0;
    while (start <= query.length()) {
      int end = query.indexOf('&', start);
      if (end < 0) {
        end = query.length();
      }
      int equals = query.indexOf('=', start);
      boolean hasValue = equals >= 0 && equals < end;
      String key = query.substring(start, hasValue ? equals : end);
      if (key.equals(name)) {
        return hasValue ? query.substring(equals + 1, end) : "";
      }
      start = end + 1;
    }
    return null;
  }

  static void requireToken(String option, String value) {
    Objects.requireNonNull(value, option);
    if (!isToken(value)) {
      throw new IllegalArgumentException(option + " must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~), got \""
          + value + "\"");
    }
  }

  private static void requireNonEmpty(String option, String value) {
    Objects.requireNonNull(value, option);
    if (value.isEmpty()) {
      throw new IllegalArgumentException(option + " must not be empty, got \"\"");
    }
  }

  static boolean isToken(String value) {
    if (value.isEmpty()) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      if (!isTokenChar(value.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  static boolean isTokenChar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
