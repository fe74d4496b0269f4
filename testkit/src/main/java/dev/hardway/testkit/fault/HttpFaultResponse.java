package dev.hardway.testkit.fault;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * An HTTP response that a {@link FaultProxy} sends instead of forwarding a request, with ready-made answers in the
 * shapes AWS services use, so that SDK clients parse them into the exceptions they would meet in production.
 *
 * <p>On the wire every injected response also carries a fresh request ID (as both {@code x-amzn-RequestId} and
 * {@code x-amz-request-id}), its {@code Content-Length} and {@code Connection: close}; the proxy then closes that
 * client connection, because the client may or may not have sent the request body, and the bytes it did send must
 * not be read as the next request. Instances are immutable and thread-safe.
 *
 * <table>
 *   <caption>Ready-made answers</caption>
 *   <tr><th>Factory</th><th>Status</th><th>Body</th><th>How SDK clients see it</th></tr>
 *   <tr><td>{@link #s3SlowDown()}</td><td>503</td><td>S3 XML, code {@code SlowDown}</td>
 *       <td>throttling: retried with the throttling backoff</td></tr>
 *   <tr><td>{@link #internalError()}</td><td>500</td><td>XML, code {@code InternalError}</td>
 *       <td>retried</td></tr>
 *   <tr><td>{@link #serviceUnavailable()}</td><td>503</td><td>XML, code {@code ServiceUnavailable}</td>
 *       <td>retried</td></tr>
 *   <tr><td>{@link #throttling(String)}</td><td>400</td><td>JSON {@code __type} and {@code x-amzn-ErrorType}</td>
 *       <td>the named modelled exception of DynamoDB or Kinesis (JSON and CBOR clients alike)</td></tr>
 *   <tr><td>{@link #stsThrottling()}</td><td>400</td><td>awsQuery XML, code {@code Throttling}</td>
 *       <td>STS throttling, retried</td></tr>
 * </table>
 */
public final class HttpFaultResponse {

  /** Headers the proxy writes itself; a response may not set them. */
  private static final Set<String> RESERVED = Set.of(
      "content-length", "transfer-encoding", "connection", "x-amzn-requestid", "x-amz-request-id");

  private final int status;
  private final Map<String, String> headers;
  private final Function<String, byte[]> body;

  private HttpFaultResponse(int status, Map<String, String> headers, Function<String, byte[]> body) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /**
   * A response of your own.
   *
   * @param status the status, 200 to 599 (an interim 1xx would break the exchange)
   * @param headers headers to send, in iteration order; {@code Content-Length}, {@code Transfer-Encoding},
   *     {@code Connection} and the request-ID headers are the proxy's
   * @param body the body, copied
   * @return the response
   * @throws IllegalArgumentException when the status is out of range or a header is malformed or reserved
   */
  public static HttpFaultResponse of(int status, Map<String, String> headers, byte[] body) {
    Objects.requireNonNull(body, "body");
    byte[] copy = body.clone();
    return new HttpFaultResponse(requireStatus(status), copyHeaders(headers), id -> copy);
  }

  /**
   * A response of your own with a text body, sent as UTF-8.
   *
   * @param status the status, 200 to 599
   * @param headers headers to send, as for {@link #of(int, Map, byte[])}
   * @param body the body text
   * @return the response
   * @throws IllegalArgumentException when the status is out of range or a header is malformed or reserved
   */
  public static HttpFaultResponse of(int status, Map<String, String> headers, String body) {
    Objects.requireNonNull(body, "body");
    return of(status, headers, body.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * 500 with an XML {@code InternalError} body, as S3 and the awsQuery services answer it.
   *
   * @return the response
   */
  public static HttpFaultResponse internalError() {
    return xmlError(500, "InternalError", "We encountered an internal error. Please try again.");
  }

  /**
   * 503 with an XML {@code ServiceUnavailable} body.
   *
   * @return the response
   */
  public static HttpFaultResponse serviceUnavailable() {
    return xmlError(503, "ServiceUnavailable", "Service is unable to handle request.");
  }

  /**
   * 503 {@code SlowDown}, S3's answer when a prefix takes more requests than it can serve.
   *
   * @return the response
   */
  public static HttpFaultResponse s3SlowDown() {
    return xmlError(503, "SlowDown", "Please reduce your request rate.");
  }

  /**
   * 400 with a JSON error of this type, as DynamoDB and Kinesis answer when they throttle.
   *
   * <p>The type goes into the body's {@code __type} and into the {@code x-amzn-ErrorType} header: the Kinesis client
   * speaks CBOR by default and cannot parse a JSON body, but it reads the error type from that header.
   *
   * @param awsJsonErrorType e.g. {@code "ProvisionedThroughputExceededException"}, {@code "ThrottlingException"},
   *     {@code "RequestLimitExceeded"}, {@code "LimitExceededException"}
   * @return the response
   * @throws IllegalArgumentException when the type is not an HTTP token
   */
  public static HttpFaultResponse throttling(String awsJsonErrorType) {
    return throttling(awsJsonErrorType, "Rate exceeded");
  }

  /**
   * 400 with a JSON error of this type and message, as {@link #throttling(String)}.
   *
   * @param awsJsonErrorType the error type, an HTTP token such as {@code "ThrottlingException"}
   * @param message the message the SDK exception will carry
   * @return the response
   * @throws IllegalArgumentException when the type is not an HTTP token
   */
  public static HttpFaultResponse throttling(String awsJsonErrorType, String message) {
    HttpMatch.requireToken("awsJsonErrorType", awsJsonErrorType);
    Objects.requireNonNull(message, "message");
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/x-amz-json-1.0");
    headers.put("x-amzn-ErrorType", awsJsonErrorType);
    byte[] json = ("{\"__type\":\"" + awsJsonErrorType + "\",\"message\":\"" + jsonEscape(message) + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    return new HttpFaultResponse(400, Collections.unmodifiableMap(headers), id -> json);
  }

  /**
   * 400 {@code Throttling} in STS's awsQuery shape: {@code ErrorResponse/Error} with type {@code Sender} and message
   * {@code Rate exceeded}.
   *
   * @return the response
   */
  public static HttpFaultResponse stsThrottling() {
    return new HttpFaultResponse(400, Map.of("Content-Type", "text/xml"), id -> utf8(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            + "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
            + "<RequestId>" + id + "</RequestId></ErrorResponse>"));
  }

  /**
   * This response with one more header, e.g. {@code Retry-After}.
   *
   * @param name the header name
   * @param value the header value, without line breaks
   * @return a new response
   * @throws IllegalArgumentException when the header is malformed or reserved
   */
  public HttpFaultResponse withHeader(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(headers);
    more.put(name, value);
    return new HttpFaultResponse(status, copyHeaders(more), body);
  }

  /**
   * The status.
   *
   * @return e.g. 503
   */
  public int status() {
    return status;
  }

  /**
   * The headers of this response; the proxy adds the ones named in the class description.
   *
   * @return an unmodifiable map in sending order
   */
  public Map<String, String> headers() {
    return headers;
  }

  /**
   * The body sent with a given request ID: the ready-made XML answers name the request ID in the body as AWS does,
   * bodies from {@code of} do not change.
   *
   * @param requestId the request ID
   * @return a copy of the body
   */
  public byte[] body(String requestId) {
    Objects.requireNonNull(requestId, "requestId");
    return body.apply(requestId).clone();
  }

  /** The whole response as sent on the wire; a response to HEAD has its headers only. */
  byte[] render(String requestId, boolean headRequest) {
    byte[] payload = body.apply(requestId);
    StringBuilder head = new StringBuilder(256);
    head.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
    headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    head.append("x-amzn-RequestId: ").append(requestId).append("\r\n");
    head.append("x-amz-request-id: ").append(requestId).append("\r\n");
    head.append("Content-Length: ").append(payload.length).append("\r\n");
    head.append("Connection: close\r\n\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    if (headRequest) {
      return headBytes;
    }
    byte[] all = new byte[headBytes.length + payload.length];
    System.arraycopy(headBytes, 0, all, 0, headBytes.length);
    System.arraycopy(payload, 0, all, headBytes.length, payload.length);
    return all;
  }

  /**
   * A readable form.
   *
   * @return e.g. {@code "503 Service Unavailable"}
   */
  @Override
  public String toString() {
    return status + " " + reason(status);
  }

  private static HttpFaultResponse xmlError(int status, String code, String message) {
    return new HttpFaultResponse(status, Map.of("Content-Type", "application/xml"), id -> utf8(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message
            + "</Message><RequestId>" + id + "</RequestId></Error>"));
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static int requireStatus(int status) {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status must be 200..599, got " + status);
    }
    return status;
  }

  private static Map<String, String> copyHeaders(Map<String, String> headers) {
    Objects.requireNonNull(headers, "headers");
    Map<String, String> copy = new LinkedHashMap<>();
    headers.forEach((name, value) -> {
      HttpMatch.requireToken("header name", name);
      Objects.requireNonNull(value, "header value");
      if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("header " + name + " is written by the proxy; got it with value \""
            + value + "\"");
      }
      if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("header " + name + " must not contain a line break, got \""
            + value.replace("\r", "\\r").replace("\n", "\\n") + "\"");
      }
      copy.put(name, value);
    });
    return Collections.unmodifiableMap(copy);
  }

  private static String jsonEscape(String text) {
    StringBuilder out = new StringBuilder(text.length() + 8);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 201 -> "Created";
      case 204 -> "No Content";
      case 400 -> "Bad Request";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "Status " + status;
    };
  }
}
