package dev.hardway.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small blocking HTTP/1.1 server on a loopback address, on Jetty's core API (Jetty is on the test kit's class path
 * already, for s3proxy). The test kit's own wire-protocol servers (STS, DynamoDB) are a {@link Handler} each: they see
 * a whole request and return a whole reply, so they can stay free of Jetty types.
 *
 * <p>Jetty's connector sets {@code TCP_NODELAY}: without it a reply written as header and body segments waits on the
 * client's delayed ACK (Nagle): the credentials reference measured 132 ms per SDK fetch that way.
 */
public final class LoopbackHttpServer implements AutoCloseable {

  /** Largest request body accepted; larger ones are answered 413 without being read whole. */
  public static final int MAX_BODY_BYTES = 32 * 1024 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(LoopbackHttpServer.class);

  /** Handles one request. Runs on a server thread; may block. */
  @FunctionalInterface
  public interface Handler {
    /**
     * Answers one request.
     *
     * @param call the request, body included
     * @return the reply to send
     * @throws Exception any failure, answered as 500 with the exception's message
     */
    HttpReply handle(HttpCall call) throws Exception;
  }

  /**
   * One request, read whole.
   *
   * @param method the HTTP method, upper case
   * @param rawPath the path as sent, still percent-encoded
   * @param rawQuery the query as sent without the {@code ?}, still percent-encoded; empty when absent
   * @param headers every header, names lower case, values in the order received
   * @param body the request body, empty when absent
   * @param remote the peer's address
   */
  public record HttpCall(
      String method,
      String rawPath,
      String rawQuery,
      Map<String, List<String>> headers,
      byte[] body,
      InetSocketAddress remote) {

    /**
     * The first value of a header.
     *
     * @param name the header name, any case
     * @return the first value, or null when the header is absent
     */
    public @Nullable String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }
  }

  /**
   * A reply.
   *
   * @param status the HTTP status
   * @param headers headers to send, in order
   * @param body the body
   */
  public record HttpReply(int status, List<Map.Entry<String, String>> headers, byte[] body) {

    /**
     * A reply with one content type.
     *
     * @param status the HTTP status
     * @param contentType the {@code Content-Type}
     * @param body the body
     * @return the reply
     */
    public static HttpReply of(int status, String contentType, byte[] body) {
      return new HttpReply(status, List.of(Map.entry("Content-Type", contentType)), body);
    }

    /**
     * This reply with one more header.
     *
     * @param name header name
     * @param value header value
     * @return a new reply
     */
    public HttpReply withHeader(String name, String value) {
      List<Map.Entry<String, String>> more = new ArrayList<>(headers);
      more.add(Map.entry(name, value));
      return new HttpReply(status, List.copyOf(more), body);
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final String name;

  private LoopbackHttpServer(String name, Server server, ServerConnector connector) {
    this.name = name;
    this.server = server;
    this.connector = connector;
  }

  /**
   * Starts a server.
   *
   * @param name a short name for thread names and logs, e.g. {@code "sts"}
   * @param host the address to listen on, normally {@code 127.0.0.1}
   * @param port the port, 0 for a free one
   * @param handler the request handler
   * @return the running server
   * @throws IllegalStateException when the server cannot start, e.g. the port is taken
   */
  public static LoopbackHttpServer start(String name, String host, int port, Handler handler) {
    Objects.requireNonNull(handler, "handler");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    QueuedThreadPool threads = new QueuedThreadPool(64, 2);
    threads.setName("hardway-" + name);
    threads.setDaemon(true);
    Server server = new Server(threads);
    HttpConfiguration config = new HttpConfiguration();
    config.setSendServerVersion(false);
    config.setSendXPoweredBy(false);
    config.setRequestHeaderSize(64 * 1024);
    ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config));
    connector.setHost(host);
    connector.setPort(port);
    connector.setIdleTimeout(60_000);
    connector.setAcceptedTcpNoDelay(true);
    server.addConnector(connector);
    server.setHandler(new Adapter(name, handler));
    // No graceful stop: a test server closing should not wait for clients' idle pooled connections.
    server.setStopTimeout(0);
    try {
      server.start();
    } catch (Exception e) {
      try {
        server.stop();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new IllegalStateException(
          "cannot start the " + name + " server on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    return new LoopbackHttpServer(name, server, connector);
  }

  /**
   * The port the server listens on.
   *
   * @return the local port
   */
  public int port() {
    return connector.getLocalPort();
  }

  /**
   * The host the server listens on.
   *
   * @return the host, as configured
   */
  public String host() {
    String host = connector.getHost();
    return host == null ? "127.0.0.1" : host;
  }

  /**
   * The base URI, {@code http://host:port}.
   *
   * @return the endpoint
   */
  public URI endpoint() {
    return URI.create("http://" + host() + ":" + port());
  }

  /** Stops the server; idempotent. */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      LOG.warn("stopping the {} server failed", name, e);
    }
  }

  private static final class Adapter extends org.eclipse.jetty.server.Handler.Abstract {
    private final String name;
    private final Handler handler;

    Adapter(String name, Handler handler) {
      super(InvocationType.BLOCKING);
      this.name = name;
      this.handler = handler;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      HttpReply reply;
      try {
        long declared = request.getLength();
        if (declared > MAX_BODY_BYTES) {
          reply = HttpReply.of(413, "text/plain", ("request body of " + declared + " bytes is over the limit of "
              + MAX_BODY_BYTES + " bytes").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } else {
          reply = handler.handle(toCall(request));
        }
      } catch (Exception | LinkageError e) {
        LOG.warn("{} server: request failed", name, e);
        String message = String.valueOf(e.getMessage());
        reply = HttpReply.of(500, "text/plain", message.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      response.setStatus(reply.status());
      for (Map.Entry<String, String> header : reply.headers()) {
        response.getHeaders().add(header.getKey(), header.getValue());
      }
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, reply.body().length);
      response.write(true, ByteBuffer.wrap(reply.body()), callback);
      return true;
    }

    private static HttpCall toCall(Request request) throws IOException {
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (HttpField field : request.getHeaders()) {
        headers.computeIfAbsent(field.getLowerCaseName(), k -> new ArrayList<>()).add(field.getValue());
      }
      byte[] body;
      try (InputStream in = Content.Source.asInputStream(request)) {
        body = in.readNBytes(MAX_BODY_BYTES + 1);
      }
      if (body.length > MAX_BODY_BYTES) {
        throw new IOException("request body is over the limit of " + MAX_BODY_BYTES + " bytes");
      }
      String query = request.getHttpURI().getQuery();
      InetSocketAddress remote = (InetSocketAddress) request.getConnectionMetaData().getRemoteSocketAddress();
      return new HttpCall(
          request.getMethod(),
          Objects.requireNonNullElse(request.getHttpURI().getPath(), "/"),
          query == null ? "" : query,
          headers,
          body,
          remote);
    }
  }
}
