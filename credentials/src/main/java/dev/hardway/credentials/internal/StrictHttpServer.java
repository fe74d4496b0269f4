package dev.hardway.credentials.internal;

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
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

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
  private static final Pattern METHOD = Pattern.compile("[A-Z]{1,16}");
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private static final Pattern DIGITS = Pattern.compile("\\d{1,10}");

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
  private final LongAdder refusedRequests = new LongAdder();
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
   * Requests the server refused itself, before any handler saw them: too slow (408), malformed (400), a head or a
   * body too large.
   *
   * @return the count
   */
  public long refusedRequests() {
    return refusedRequests.sum();
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

  /** One connection's input: a window over a buffer, so that a pipelined next request is kept, not lost. */
  private final class Conn {
    final Socket socket;
    final InputStream in;
    final byte[] buf = new byte[MAX_HEAD_BYTES];
    int start;
    int end;

    Conn(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
    }

    /** Reads more bytes, waiting at most until the deadline (nanoTime), or the idle timeout when it is 0. */
    int fill(long deadline) throws IOException {
      if (start > 0) {
        System.arraycopy(buf, start, buf, 0, end - start);
        end -= start;
        start = 0;
      }
      if (end == buf.length) {
        return -2;
      }
      int timeout;
      if (deadline == 0) {
        timeout = idleTimeoutMillis;
      } else {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
          return -1;
        }
        timeout = (int) Math.max(1, left);
      }
      socket.setSoTimeout(timeout);
      int n;
      try {
        n = in.read(buf, end, buf.length - end);
      } catch (SocketTimeoutException e) {
        return -1;
      }
      if (n < 0) {
        return -3;
      }
      end += n;
      return n;
    }

    /** The length of the head at {@code start}, up to and including CRLFCRLF, or -1 when not all here yet. */
    int headLength() {
      for (int i = start + 3; i < end; i++) {
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
          return i + 1 - start;
        }
      }
      return -1;
    }
  }

  private void serve(Socket socket) {
    try {
      socket.setTcpNoDelay(true);
      Conn c = new Conn(socket);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 8192);
      while (!closed) {
        if (c.start == c.end) {
          int r = c.fill(0);
          if (r < 0) {
            return; // idle timeout or end of stream between requests
          }
        }
        long deadline = System.nanoTime() + requestTimeoutMillis * 1_000_000L;
        int len;
        int r = 0;
        while ((len = c.headLength()) < 0 && (r = c.fill(deadline)) >= 0) {
          // keep reading until the head is complete
        }
        HttpResponse response;
        boolean consumed = true;
        if (len < 0) {
          if (r == -1) {
            refusedRequests.increment();
            write(out, HttpResponse.text(408, "Request timeout\n").closing());
            return;
          } else if (r == -2) {
            response = HttpResponse.text(overflowStatus, "Request head larger than " + MAX_HEAD_BYTES
                + " bytes\n").closing();
            consumed = false;
          } else {
            return;
          }
        } else {
          Parsed p = parse(c.buf, c.start, len, socket.getInetAddress());
          c.start += len;
          if (p.error != null) {
            response = p.error.closing();
            consumed = false;
          } else {
            response = readBody(c, p, deadline);
            if (response == null) {
              response = handler.apply(p.request);
              if (p.closeAfter) {
                response = response.closing();
              }
            } else {
              consumed = false;
            }
          }
        }
        write(out, consumed ? response : response.closing());
        if (!consumed) {
          refusedRequests.increment();
          drain(socket);
          return;
        }
        if (response.close()) {
          return;
        }
      }
    } catch (IOException e) {
      // The client went away or was too slow; nothing to answer.
    }
  }

  /**
   * After refusing a request that was not read to its end: closing now, with input unread, would make the kernel
   * reset the connection and maybe destroy the answer before the client reads it. So stop sending, and read and
   * drop what still comes, for a bounded time and amount.
   */
  private static void drain(Socket socket) {
    try {
      socket.shutdownOutput();
      socket.setSoTimeout(1000);
      InputStream in = socket.getInputStream();
      byte[] sink = new byte[8192];
      long budget = 2L * MAX_BODY_BYTES;
      long deadline = System.nanoTime() + 1_000_000_000L;
      int n;
      while (budget > 0 && System.nanoTime() < deadline && (n = in.read(sink)) >= 0) {
        budget -= n;
      }
    } catch (IOException ignored) {
      // The connection is closed next either way.
    }
  }

  private static final class Parsed {
    @Nullable HttpRequest request;
    @Nullable HttpResponse error;
    boolean closeAfter;
    long contentLength;
  }

  private static Parsed parse(byte[] head, int offset, int len, InetAddress peer) {
    Parsed p = new Parsed();
    // ISO-8859-1 maps every byte to one char, so non-ASCII bytes survive to be refused below.
    String text = new String(head, offset, len - 4, StandardCharsets.ISO_8859_1);
    String[] lines = text.split("\r\n", -1);
    for (String line : lines) {
      if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
        p.error = HttpResponse.text(400, "Bare CR or LF in request head\n");
        return p;
      }
    }
    String[] parts = lines[0].split(" ", -1);
    if (parts.length != 3 || !METHOD.matcher(parts[0]).matches() || parts[1].isEmpty()) {
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
      if (!TOKEN.matcher(name).matches()) {
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
          if (contentLengths > 1 || !DIGITS.matcher(value).matches()) {
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
  private static @Nullable HttpResponse readBody(Conn c, Parsed p, long deadline) throws IOException {
    if (p.contentLength == 0) {
      return null;
    }
    if (p.contentLength > MAX_BODY_BYTES) {
      return HttpResponse.text(413, "Body larger than " + MAX_BODY_BYTES + " bytes\n");
    }
    long left = p.contentLength;
    while (true) {
      int take = (int) Math.min(left, c.end - c.start);
      c.start += take;
      left -= take;
      if (left == 0) {
        return null;
      }
      int r = c.fill(deadline);
      if (r == -1) {
        return HttpResponse.text(408, "Request timeout\n");
      }
      if (r < 0) {
        throw new IOException("end of stream in body");
      }
    }
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
