package dev.hardway.credentials;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;

/** Sends bytes exactly as written, which no HTTP client library would, and reads one response. */
final class RawHttp {
  record Response(int status, String head, String body) {}

  private RawHttp() {}

  static Response send(int port, String request) throws IOException {
    return send(port, request.getBytes(StandardCharsets.ISO_8859_1));
  }

  static Response send(int port, byte[] request) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      s.setSoTimeout(10_000);
      try {
        s.getOutputStream().write(request);
        s.getOutputStream().flush();
      } catch (SocketException closedEarly) {
        // The server may answer and close before reading everything; the answer is still there to read.
      }
      return read(s.getInputStream());
    }
  }

  static Response read(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    int state = 0;
    while (state < 4 && (b = in.read()) >= 0) {
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
    String h = head.toString(StandardCharsets.ISO_8859_1);
    if (h.isEmpty()) {
      return new Response(-1, "", "");
    }
    int status = Integer.parseInt(h.substring(9, 12));
    int len = 0;
    for (String line : h.split("\r\n")) {
      if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        len = Integer.parseInt(line.substring(15).strip());
      }
    }
    byte[] body = in.readNBytes(len);
    return new Response(status, h, new String(body, StandardCharsets.UTF_8));
  }

  static String get(int port, String path, String... headers) {
    StringBuilder sb = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1:").append(port)
        .append("\r\n");
    for (String h : headers) {
      sb.append(h).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  static String putToken(int port, String... headers) {
    StringBuilder sb = new StringBuilder("PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1:").append(port)
        .append("\r\n");
    for (String h : headers) {
      sb.append(h).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }
}
