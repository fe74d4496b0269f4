package dev.hardway.credentials.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A small, strict HTTP/1.1 server for the metadata imitator: one virtual thread per connection, keep-alive,
 * {@code TCP_NODELAY} on every socket (the JDK's own HttpServer without it adds ~130 ms per SDK fetch through
 * Nagle's algorithm and delayed ACKs), bounded heads, bodies, time and connections. It refuses anything ambiguous
 * rather than guessing: obsolete line folding, bare LF, Transfer-Encoding, several Content-Length headers.
 */
public final class StrictHttpServer implements AutoCloseable {
  /** Largest request head (request line and headers) read; beyond it the request is refused unread. */
  public static final int MAX_HEAD_BYTES = 16 * 1024;
  /** Largest body read (and discarded); beyond it: 413 and close. */
  public static final int MAX_BODY_BYTES = 1024 * 1024;
  private static final int MAX_HEADERS = 64;

  private final ServerSocket listener;
  private final Function<HttpRequest, HttpResponse> handler;
  private final Predicate<InetAddress> peerAllowed;
  private final int overflowStatus;
  private final int requestTimeoutMillis;
  private final int idleTimeoutMillis;
  private final Semaphore connections;
  private final Semaphore refusals = new Semaphore(64);
  private final ThreadFactory connectionThreads;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private final LongAdder refusedPeers = new LongAdder();
  private final LongAdder refusedOverCapacity = new LongAdder();
  private final LongAdder timedOut = new LongAdder();
  private volatile boolean closed;

  /**
   * Binds and starts accepting.
   *
   * @param bind address and port (0 for any free port) to listen on
   * @param handler answers each request; must not throw
   * @param peerAllowed which client addresses may talk at all; others get 403 and a closed socket
   * @param overflowStatus status for a head larger than {@link #MAX_HEAD_BYTES}
   * @param requestTimeout how long a client may take to send one request once it started
   * @param idleTimeout how long a kept-alive connection may sit idle
   * @param maxConnections connections served at once; more are closed at once and counted
   * @param name thread name prefix
   * @throws IOException when the address cannot be bound
   */
  public StrictHttpServer(InetSocketAddress bind, Function<HttpRequest, HttpResponse> handler,
      Predicate<InetAddress> peerAllowed, int overflowStatus, Duration requestTimeout, Duration idleTimeout,
      int maxConnections, String name) throws IOException {
    this.handler = handler;
    this.peerAllowed = peerAllowed;
    this.overflowStatus = overflowStatus;
    this.requestTimeoutMillis = Math.toIntExact(requestTimeout.toMillis());
    this.idleTimeoutMillis = Math.toIntExact(idleTimeout.toMillis());
    this.connections = new Semaphore(maxConnections);
    this.connectionThreads = Thread.ofVirtual().name(name + "-conn-", 0).factory();
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(bind, 128);
    this.listener = s;
    this.acceptor = Thread.ofPlatform().daemon().name(name + "-accept").unstarted(this::acceptLoop);
    acceptor.start();
  }

  /**
   * The bound port.
   *
   * @return the port
   */
  public int port() {
    return listener.getLocalPort();
  }

  /**
   * The bound address.
   *
   * @return the address
   */
  public InetAddress address() {
    return listener.getInetAddress();
  }

  /**
   * Connections refused because the peer was not allowed.
   *
   * @return the count
   */
  public long refusedPeers() {
    return refusedPeers.sum();
  }

  /**
   * Connections closed because {@code maxConnections} were already open.
   *
   * @return the count
   */
  public long refusedOverCapacity() {
    return refusedOverCapacity.sum();
  }

  /**
   * Requests dropped because the client was too slow.
   *
   * @return the count
   */
  public long timedOut() {
    return timedOut.sum();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket socket;
      try {
        socket = listener.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      if (!peerAllowed.test(socket.getInetAddress())) {
        refusedPeers.increment();
        refuse(socket, 403);
        continue;
      }
      if (!connections.tryAcquire()) {
        refusedOverCapacity.increment();
        refuse(socket, 503);
        continue;
      }
      open.add(socket);
      Thread t = connectionThreads.newThread(() -> {
        try {
          serve(socket);
        } finally {
          open.remove(socket);
          closeQuietly(socket);
          connections.release();
        }
      });
      t.start();
    }
  }

  private void refuse(Socket socket, int status) {
    if (!refusals.tryAcquire()) {
      closeQuietly(socket);
      return;
    }
    // Answer, then read what the client sent before closing: closing with unread input makes the kernel send a
    // reset, which can destroy the answer before the client reads it.
    connectionThreads.newThread(() -> {
      try (socket) {
        socket.setSoTimeout(1000);
        OutputStream out = socket.getOutputStream();
        out.write(head(status, "text/plain", 0, true));
        out.flush();
        socket.shutdownOutput();
        socket.getInputStream().readNBytes(MAX_HEAD_BYTES);
      } catch (IOException ignored) {
        // The peer is refused either way.
      } finally {
        refusals.release();
      }
    }).start();
  }

  private void serve(Socket socket) {
    try {
      socket.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 8192);
      byte[] head = new byte[MAX_HEAD_BYTES];
      while (!closed) {
        socket.setSoTimeout(idleTimeoutMillis);
        int first;
        try {
          first = in.read();
        } catch (SocketTimeoutException idle) {
          return;
        }
        if (first < 0) {
          return;
        }
        long deadline = System.nanoTime() + requestTimeoutMillis * 1_000_000L;
        int len = readHead(socket, in, head, first, deadline);
        HttpResponse response;
        boolean consumed = true;
        if (len == -1) {
          timedOut.increment();
          write(out, HttpResponse.text(408, "Request timeout\n").closing());
          return;
        } else if (len == -2) {
          response = HttpResponse.text(overflowStatus, "Request head larger than " + MAX_HEAD_BYTES + " bytes\n")
              .closing();
          consumed = false;
        } else if (len == -3) {
          return;
        } else {
          Parsed p = parse(head, len, socket.getInetAddress());
          if (p.error != null) {
            response = p.error.closing();
            consumed = false;
          } else {
            response = readBody(socket, in, p, deadline);
            if (response == null) {
              HttpRequest request = p.request;
              response = handler.apply(request);
              if (p.closeAfter) {
                response = response.closing();
              }
            } else {
              consumed = false;
            }
          }
        }
        write(out, consumed ? response : response.closing());
        if (response.close() || !consumed) {
          return;
        }
      }
    } catch (IOException e) {
      // The client went away or was too slow; nothing to answer.
    }
  }

  /** Reads until CRLFCRLF; returns its length, -1 on timeout, -2 when too large, -3 on end of stream. */
  private int readHead(Socket socket, InputStream in, byte[] buf, int first, long deadline) throws IOException {
    buf[0] = (byte) first;
    int n = 1;
    while (true) {
      if (n >= 4 && buf[n - 4] == '\r' && buf[n - 3] == '\n' && buf[n - 2] == '\r' && buf[n - 1] == '\n') {
        return n;
      }
      if (n == buf.length) {
        return -2;
      }
      if (in.available() == 0) {
        // Only a read that may block needs the remaining time as its timeout.
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
          return -1;
        }
        socket.setSoTimeout((int) Math.max(1, left));
      }
      int b;
      try {
        b = in.read();
      } catch (SocketTimeoutException e) {
        return -1;
      }
      if (b < 0) {
        return -3;
      }
      buf[n++] = (byte) b;
    }
  }

  private static final class Parsed {
    HttpRequest request;
    HttpResponse error;
    boolean closeAfter;
    long contentLength;
  }

  private static Parsed parse(byte[] head, int len, InetAddress peer) {
    Parsed p = new Parsed();
    // ISO-8859-1 maps every byte to one char, so non-ASCII bytes survive to be refused below.
    String text = new String(head, 0, len - 4, StandardCharsets.ISO_8859_1);
    String[] lines = text.split("\r\n", -1);
    for (String line : lines) {
      if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
        p.error = HttpResponse.text(400, "Bare CR or LF in request head\n");
        return p;
      }
    }
    String[] parts = lines[0].split(" ", -1);
    if (parts.length != 3 || !parts[0].matches("[A-Z]{1,16}") || parts[1].isEmpty()) {
      p.error = HttpResponse.text(400, "Malformed request line\n");
      return p;
    }
    if (!parts[2].equals("HTTP/1.1") && !parts[2].equals("HTTP/1.0")) {
      p.error = HttpResponse.text(400, "Unsupported protocol version\n");
      return p;
    }
    if (lines.length - 1 > MAX_HEADERS) {
      p.error = HttpResponse.text(400, "More than " + MAX_HEADERS + " headers\n");
      return p;
    }
    List<String> names = new ArrayList<>(lines.length);
    List<String> values = new ArrayList<>(lines.length);
    boolean close = parts[2].equals("HTTP/1.0");
    int contentLengths = 0;
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      int colon = line.indexOf(':');
      if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
        p.error = HttpResponse.text(400, "Malformed header line\n");
        return p;
      }
      String name = line.substring(0, colon);
      if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        p.error = HttpResponse.text(400, "Malformed header name\n");
        return p;
      }
      String value = line.substring(colon + 1).strip();
      for (int k = 0; k < value.length(); k++) {
        char c = value.charAt(k);
        if (c < 0x20 && c != '\t' || c == 0x7f) {
          p.error = HttpResponse.text(400, "Control character in a header value\n");
          return p;
        }
      }
      String lower = name.toLowerCase(Locale.ROOT);
      switch (lower) {
        case "transfer-encoding" -> {
          p.error = HttpResponse.text(400, "Transfer-Encoding is not accepted\n");
          return p;
        }
        case "content-length" -> {
          contentLengths++;
          if (contentLengths > 1 || !value.matches("\\d{1,10}")) {
            p.error = HttpResponse.text(400, "Invalid Content-Length\n");
            return p;
          }
          p.contentLength = Long.parseLong(value);
        }
        case "connection" -> {
          if (value.toLowerCase(Locale.ROOT).contains("close")) {
            close = true;
          } else if (value.toLowerCase(Locale.ROOT).contains("keep-alive")) {
            close = false;
          }
        }
        default -> { }
      }
      names.add(lower);
      values.add(value);
    }
    p.closeAfter = close;
    p.request = new HttpRequest(parts[0], parts[1], names, values, peer);
    return p;
  }

  /** Reads and discards a body; returns an error response when it is refused, else null. */
  private static HttpResponse readBody(Socket socket, InputStream in, Parsed p, long deadline) throws IOException {
    if (p.contentLength == 0) {
      return null;
    }
    if (p.contentLength > MAX_BODY_BYTES) {
      return HttpResponse.text(413, "Body larger than " + MAX_BODY_BYTES + " bytes\n");
    }
    long left = p.contentLength;
    byte[] sink = new byte[(int) Math.min(8192, left)];
    while (left > 0) {
      long ms = (deadline - System.nanoTime()) / 1_000_000L;
      if (ms <= 0) {
        return HttpResponse.text(408, "Request timeout\n");
      }
      socket.setSoTimeout((int) Math.max(1, ms));
      int r;
      try {
        r = in.read(sink, 0, (int) Math.min(sink.length, left));
      } catch (SocketTimeoutException e) {
        return HttpResponse.text(408, "Request timeout\n");
      }
      if (r < 0) {
        throw new IOException("end of stream in body");
      }
      left -= r;
    }
    return null;
  }

  private static void write(OutputStream out, HttpResponse r) throws IOException {
    byte[] head = head(r.status(), r.contentType(), r.body().length, r.close(), r.extraHeaders());
    out.write(head);
    out.write(r.body());
    out.flush();
  }

  private static byte[] head(int status, String contentType, int length, boolean close) {
    return head(status, contentType, length, close, List.of());
  }

  private static byte[] head(int status, String contentType, int length, boolean close, List<String> extra) {
    StringBuilder sb = new StringBuilder(160);
    sb.append("HTTP/1.1 ").append(status).append(' ').append(HttpResponse.reason(status)).append("\r\n");
    sb.append("Content-Type: ").append(contentType).append("\r\n");
    sb.append("Content-Length: ").append(length).append("\r\n");
    sb.append("Server: EC2ws\r\n");
    for (int i = 0; i + 1 < extra.size(); i += 2) {
      sb.append(extra.get(i)).append(": ").append(extra.get(i + 1)).append("\r\n");
    }
    sb.append(close ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
    sb.append("\r\n");
    return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // Closing a socket that failed is best effort.
    }
  }

  /** Stops accepting and closes every connection; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // Already closed.
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
    try {
      acceptor.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
