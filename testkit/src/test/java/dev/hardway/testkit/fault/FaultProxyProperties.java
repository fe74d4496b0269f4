package dev.hardway.testkit.fault;

import static dev.hardway.testkit.fault.FramingRecorder.latin1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Invariants of the proxy: nothing lost, duplicated or reordered, whatever the chunking and the faults. */
class FaultProxyProperties {

  private static TcpTestServer echo;
  private static FaultProxy tcp;
  private static FaultProxy http;

  @BeforeContainer
  static void start() throws IOException {
    echo = TcpTestServer.echo();
    // Small chunks and a short queue, so that every try crosses chunk boundaries and meets back-pressure.
    tcp = FaultProxy.builder().target("127.0.0.1", echo.port()).name("prop-tcp").chunkSize(512).queueCapacity(2)
        .random(new SplittableRandom(11)).start();
    http = FaultProxy.builder().target("127.0.0.1", echo.port()).name("prop-http").http(true).chunkSize(512)
        .queueCapacity(2).random(new SplittableRandom(12)).start();
  }

  @AfterContainer
  static void stop() throws IOException {
    tcp.close();
    http.close();
    echo.close();
  }

  @Property(tries = 25)
  void bytesArriveCompleteAndInOrder(
      @ForAll @IntRange(min = 1, max = 100_000) int size,
      @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 1, max = 20_000) Integer> writes,
      @ForAll @IntRange(min = 0, max = 15) int latencyMillis,
      @ForAll @IntRange(min = 0, max = 15) int jitterMillis,
      @ForAll @IntRange(min = 0, max = 4) int mebibytesPerSecond,
      @ForAll boolean httpMode,
      @ForAll long seed) throws Exception {
    FaultProxy proxy = httpMode ? http : tcp;
    proxy.clearFaults()
        .latency(Direction.BOTH, Duration.ofMillis(latencyMillis), Duration.ofMillis(jitterMillis))
        .bandwidth(Direction.BOTH, mebibytesPerSecond * 1024L * 1024L);
    byte[] payload = new byte[size];
    new SplittableRandom(seed).nextBytes(payload);
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
      socket.setSoTimeout(20_000);
      CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
        try {
          OutputStream out = socket.getOutputStream();
          int position = 0;
          for (int i = 0; position < size; i++) {
            int n = Math.min(writes.get(i % writes.size()), size - position);
            out.write(payload, position, n);
            out.flush();
            position += n;
          }
          socket.shutdownOutput();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      byte[] echoed = socket.getInputStream().readAllBytes();
      send.get();
      assertArrayEquals(payload, echoed);
    }
  }

  /**
   * One generated HTTP/1.1 message.
   *
   * @param kind request: 0 no body, 1 Content-Length, 2 chunked; response: 0 Content-Length, 1 chunked, 2 answer to
   *     HEAD, 3 204, 4 304
   * @param bodyLength body bytes
   * @param chunk chunk size for chunked bodies
   * @param interim whether a response is preceded by 100 Continue
   */
  record Message(int kind, int bodyLength, int chunk, boolean interim) { }

  @Provide
  Arbitrary<Message> requests() {
    return Combinators.combine(Arbitraries.integers().between(0, 2), Arbitraries.integers().between(0, 3000),
        Arbitraries.integers().between(1, 700), Arbitraries.of(false)).as(Message::new);
  }

  @Provide
  Arbitrary<Message> responses() {
    return Combinators.combine(Arbitraries.integers().between(0, 4), Arbitraries.integers().between(0, 3000),
        Arbitraries.integers().between(1, 700), Arbitraries.of(true, false)).as(Message::new);
  }

  @Property(tries = 200)
  void requestFramingForwardsEveryByte_andFindsEveryRequest(
      @ForAll @Size(min = 1, max = 6) List<@From("requests") Message> messages,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 1, max = 400) Integer> pieces) throws Exception {
    StringBuilder stream = new StringBuilder();
    for (Message message : messages) {
      String method = switch (message.kind()) {
        case 0 -> "GET";
        case 1 -> "PUT";
        default -> "POST";
      };
      stream.append(method).append(" /bucket/key?partNumber=1 HTTP/1.1\r\nHost: example\r\n");
      appendBody(stream, message.kind(), message);
    }
    FramingRecorder recorder = new FramingRecorder();
    RequestFramer framer = recorder.requestFramer();
    FramingRecorder.feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(stream.toString()),
        pieces.stream().mapToInt(Integer::intValue).toArray());
    assertEquals(stream.toString(), recorder.text());
    assertEquals(messages.size(), recorder.requests);
    assertEquals(messages.size(), recorder.exchanges.size());
    assertFalse(recorder.passthrough);
  }

  @Property(tries = 200)
  void responseFramingForwardsEveryByte_andEndsEveryExchange(
      @ForAll @Size(min = 1, max = 6) List<@From("responses") Message> messages,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 1, max = 400) Integer> pieces) throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    StringBuilder stream = new StringBuilder();
    for (Message message : messages) {
      recorder.exchanges.add(new HttpExchanges.Exchange(message.kind() == 2 ? "HEAD" : "GET", null));
      if (message.interim()) {
        stream.append("HTTP/1.1 100 Continue\r\n\r\n");
      }
      switch (message.kind()) {
        case 0 -> {
          stream.append("HTTP/1.1 200 OK\r\n");
          appendBody(stream, 1, message);
        }
        case 1 -> {
          stream.append("HTTP/1.1 200 OK\r\n");
          appendBody(stream, 2, message);
        }
        case 2 -> stream.append("HTTP/1.1 200 OK\r\nContent-Length: ").append(message.bodyLength()).append("\r\n\r\n");
        case 3 -> stream.append("HTTP/1.1 204 No Content\r\n\r\n");
        default -> stream.append("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
      }
    }
    ResponseFramer framer = recorder.responseFramer();
    FramingRecorder.feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(stream.toString()),
        pieces.stream().mapToInt(Integer::intValue).toArray());
    assertEquals(stream.toString(), recorder.text());
    assertEquals(0, recorder.exchanges.size());
    assertFalse(recorder.passthrough);
  }

  /** Headers that frame the body, the blank line, and the body: 0 none, 1 Content-Length, 2 chunked. */
  private static void appendBody(StringBuilder stream, int framing, Message message) {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < message.bodyLength(); i++) {
      body.append((char) ('a' + i % 26));
    }
    switch (framing) {
      case 0 -> stream.append("\r\n");
      case 1 -> stream.append("Content-Length: ").append(body.length()).append("\r\n\r\n").append(body);
      default -> {
        stream.append("Transfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < body.length(); i += message.chunk()) {
          String chunk = body.substring(i, Math.min(body.length(), i + message.chunk()));
          stream.append(Integer.toHexString(chunk.length())).append(i % 2 == 0 ? "" : ";ext=v").append("\r\n")
              .append(chunk).append("\r\n");
        }
        stream.append("0\r\n");
        if (message.chunk() % 2 == 0) {
          stream.append("x-amz-checksum-crc32: AAAAAA==\r\n");
        }
        stream.append("\r\n");
      }
    }
  }
}
