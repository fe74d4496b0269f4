package dev.hardway.credentials.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One response.
 *
 * @param status the status code
 * @param contentType the Content-Type
 * @param body the body
 * @param extraHeaders more headers as name, value, name, value...
 * @param close whether to close the connection after it
 */
public record HttpResponse(int status, String contentType, byte[] body, List<String> extraHeaders, boolean close) {

  /**
   * A text/plain response.
   *
   * @param status the status code
   * @param body the body
   * @return the response
   */
  public static HttpResponse text(int status, String body) {
    return new HttpResponse(status, "text/plain", body.getBytes(StandardCharsets.UTF_8), List.of(), false);
  }

  /**
   * An application/json response.
   *
   * @param status the status code
   * @param json the body
   * @return the response
   */
  public static HttpResponse json(int status, String json) {
    return new HttpResponse(status, "application/json", json.getBytes(StandardCharsets.UTF_8), List.of(), false);
  }

  /**
   * The same response, closing the connection after it.
   *
   * @return the response
   */
  public HttpResponse closing() {
    return new HttpResponse(status, contentType, body, extraHeaders, true);
  }

  /**
   * The same response with one more header.
   *
   * @param name the header name
   * @param value its value
   * @return the response
   */
  public HttpResponse withHeader(String name, String value) {
    List<String> h = new java.util.ArrayList<>(extraHeaders);
    h.add(name);
    h.add(value);
    return new HttpResponse(status, contentType, body, List.copyOf(h), close);
  }

  static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 413 -> "Content Too Large";
      case 500 -> "Internal Server Error";
      case 503 -> "Service Unavailable";
      default -> "Status";
    };
  }
}
