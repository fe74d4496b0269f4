package dev.hardway.testkit.fault;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Collects the head of one HTTP/1.x message (start line and headers, up to the empty line) as it arrives in pieces,
 * and parses it. Bare LF line ends are accepted, as RFC 9112 section 2.2 allows, and so are blank lines before a
 * request line.
 *
 * <p>It gives up early on bytes that cannot start an HTTP/1.x message (a TLS ClientHello, an HTTP/2 frame, garbage),
 * so that the proxy passes such streams through at once instead of waiting for a blank line that never comes.
 */
final class HeadBuffer {

  /** Longest head accepted; Jetty's default limit is 8 KiB, S3's is 8 KiB for the request line and headers. */
  static final int MAX_HEAD_BYTES = 64 * 1024;

  private static final byte[] HTTP_SLASH = "HTTP/".getBytes(StandardCharsets.US_ASCII);

  private final boolean request;
  private byte[] bytes = new byte[512];
  private int size;
  private int lineLength;
  private int firstTokenLength;
  private boolean firstTokenDone;
  private boolean sawLine;
  private boolean complete;
  private boolean invalid;

  HeadBuffer(boolean request) {
    this.request = request;
  }

  /**
   * Takes bytes until the head is complete or found invalid.
   *
   * @return how many bytes it took; they stay in this buffer
   */
  int append(byte[] input, int offset, int length) {
    for (int i = 0; i < length; i++) {
      byte b = input[offset + i];
      if (size == bytes.length) {
        if (size == MAX_HEAD_BYTES) {
          invalid = true;
          return i;
        }
        bytes = java.util.Arrays.copyOf(bytes, Math.min(MAX_HEAD_BYTES, size * 2));
      }
      bytes[size++] = b;
      if (!firstTokenDone && !(lineLength == 0 && (b == '\r' || b == '\n'))) {
        if (!acceptFirstToken(b)) {
          invalid = true;
          return i + 1;
        }
      }
      if (b == '\n') {
        if (lineLength == 0 && sawLine) {
          complete = true;
          return i + 1;
        }
        if (lineLength > 0) {
          sawLine = true;
          if (!firstTokenDone) {
            invalid = true;
            return i + 1;
          }
        }
        lineLength = 0;
      } else if (b != '\r') {
        lineLength++;
      }
    }
    return length;
  }

  private boolean acceptFirstToken(byte b) {
    if (b == ' ') {
      firstTokenDone = true;
      return firstTokenLength > (request ? 0 : HTTP_SLASH.length);
    }
    if (request) {
      firstTokenLength++;
      return HttpMatch.isTokenChar(b & 0xff) && firstTokenLength <= 32;
    }
    if (firstTokenLength < HTTP_SLASH.length && b != HTTP_SLASH[firstTokenLength]) {
      return false;
    }
    firstTokenLength++;
    return firstTokenLength <= 16 && b > ' ' && b < 0x7f;
  }

  boolean complete() {
    return complete;
  }

  boolean invalid() {
    return invalid;
  }

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  /** A copy of the bytes held, for the writer, which must not see this buffer reused. */
  byte[] copy() {
    return java.util.Arrays.copyOf(bytes, size);
  }

  void reset() {
    if (bytes.length > 4096) {
      bytes = new byte[512];
    }
    size = 0;
    lineLength = 0;
    firstTokenLength = 0;
    firstTokenDone = false;
    sawLine = false;
    complete = false;
    invalid = false;
  }

  /**
   * The start line split on spaces, and the headers.
   *
   * @param startLine three parts: method, target, version, or version, status, reason (maybe empty)
   * @param headers values by lower-case name
   */
  record Parsed(String[] startLine, Map<String, List<String>> headers) { }

  /** Parses a complete head; null when it is not a well-formed HTTP/1.x head. */
  @Nullable Parsed parse() {
    String text = new String(bytes, 0, size, StandardCharsets.ISO_8859_1);
    List<String> lines = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      String trimmed = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
      if (trimmed.isEmpty()) {
        if (lines.isEmpty()) {
          continue;
        }
        break;
      }
      lines.add(trimmed);
    }
    if (lines.isEmpty()) {
      return null;
    }
    String[] start = lines.get(0).split(" ", 3);
    if (start.length < (request ? 3 : 2)) {
      return null;
    }
    String version = request ? start[2] : start[0];
    if (!version.startsWith("HTTP/1.")) {
      return null;
    }
    Map<String, List<String>> headers = new LinkedHashMap<>();
    @Nullable String lastName = null;
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
        // Obsolete line folding (RFC 9112 section 5.2): the line continues the previous header's value.
        if (lastName == null) {
          return null;
        }
        List<String> values = headers.get(lastName);
        values.set(values.size() - 1, values.get(values.size() - 1) + " " + line.strip());
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        return null;
      }
      String name = line.substring(0, colon);
      if (!HttpMatch.isToken(name)) {
        return null;
      }
      lastName = name.toLowerCase(Locale.ROOT);
      headers.computeIfAbsent(lastName, k -> new ArrayList<>()).add(line.substring(colon + 1).strip());
    }
    return new Parsed(start, headers);
  }
}
