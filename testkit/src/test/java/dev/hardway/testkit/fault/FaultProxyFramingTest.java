package dev.hardway.testkit.fault;

import static dev.hardway.testkit.fault.FramingRecorder.feed;
import static dev.hardway.testkit.fault.FramingRecorder.latin1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The HTTP/1.1 framers on their own, fed byte streams in awkward pieces, without sockets. */
class FaultProxyFramingTest {

  private static final String GET = "GET /bucket/a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
  private static final String PUT = "PUT /bucket/b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
      + "Expect: 100-continue\r\n\r\nhello";
  private static final String POST_CHUNKED = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      + "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n";

  private static HttpFault rule(HttpFault.Builder builder) {
    return builder.build(1);
  }

  @Test
  void requests_pipelinedAndSplitAnywhere_passUnchanged_oneExchangeEach() throws Exception {
    for (int piece : new int[] {1, 2, 7, 1000}) {
      FramingRecorder recorder = new FramingRecorder();
      RequestFramer framer = recorder.requestFramer();
      String stream = GET + PUT + POST_CHUNKED + GET;
      feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(stream), piece);
      assertEquals(stream, recorder.text());
      assertEquals(4, recorder.requests);
      assertEquals(4, recorder.exchanges.size());
      assertFalse(recorder.passthrough);
    }
  }

  @Test
  void request_bareLineFeeds_andLeadingBlankLines_areAccepted() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    RequestFramer framer = recorder.requestFramer();
    String stream = "\r\nGET / HTTP/1.1\nHost: h\n\nDELETE /x HTTP/1.0\r\nContent-Length: 2\r\n\r\nok";
    feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(stream), 3);
    assertEquals(stream, recorder.text());
    assertEquals(2, recorder.requests);
  }

  @Test
  void request_matchingARespondRule_isNotForwarded_andTheRestIsDrained() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    HttpFault slowDown = rule(HttpFault.when(HttpMatch.method("PUT")).respond(HttpFaultResponse.s3SlowDown()));
    recorder.rules.add(slowDown);
    RequestFramer framer = recorder.requestFramer();
    feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(PUT + GET), 4);
    assertEquals("", recorder.text(), "nothing reaches the server");
    assertTrue(recorder.woken, "no response outstanding: the response side is woken to answer");
    assertTrue(framer.draining());
    assertEquals((PUT + GET).length(), recorder.discarded);
    assertEquals(1, slowDown.matched());
    HttpExchanges.Exchange exchange = recorder.exchanges.peek();
    assertNotNull(exchange);
    assertTrue(exchange.injected());
    framer.eof(0);
    assertTrue(recorder.events.isEmpty(), "the end of a drained stream is not forwarded");
  }

  @Test
  void request_http2Preface_tls_andGarbage_passThroughAtOnce() throws Exception {
    String preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u0000\u0000\u0012\u0004";
    FramingRecorder h2 = new FramingRecorder();
    RequestFramer h2Framer = h2.requestFramer();
    feed((b, o, l) -> h2Framer.feed(b, o, l, 0), latin1(preface), 5);
    assertEquals(preface, h2.text());
    assertTrue(h2.passthrough);
    assertEquals(0, h2.requests);

    FramingRecorder tls = new FramingRecorder();
    RequestFramer tlsFramer = tls.requestFramer();
    // A TLS ClientHello starts with 0x16: not a method, so the byte goes on without waiting for a blank line.
    tlsFramer.feed(new byte[] {0x16}, 0, 1, 0);
    assertEquals(1, tls.bytes.size());
    assertTrue(tls.passthrough);
  }

  @Test
  void request_upgrade_stopsFramingAfterTheRequest() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    RequestFramer framer = recorder.requestFramer();
    String upgrade = "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
    String frames = "\u0081\u0005hello GET / HTTP/1.1\r\n\r\n";
    feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(upgrade + frames), 6);
    assertEquals(upgrade + frames, recorder.text());
    assertEquals(1, recorder.requests, "what follows an upgrade request is not framed");
  }

  @Test
  void responses_interimHeadNoContentAndChunked_closeTheirExchanges() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    HttpFault delay = rule(HttpFault.when(HttpMatch.any()).delay(Duration.ofMillis(5)));
    recorder.exchanges.add(new HttpExchanges.Exchange("PUT", delay));
    recorder.exchanges.add(new HttpExchanges.Exchange("HEAD", null));
    recorder.exchanges.add(new HttpExchanges.Exchange("DELETE", null));
    recorder.exchanges.add(new HttpExchanges.Exchange("GET", null));
    recorder.exchanges.add(new HttpExchanges.Exchange("GET", null));
    ResponseFramer framer = recorder.responseFramer();
    String stream = "HTTP/1.1 100 Continue\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        + "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        + "HTTP/1.1 204 No Content\r\n\r\n"
        + "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n";
    feed((b, o, l) -> assertTrue(framer.feed(b, o, l, 0)), latin1(stream), 1000);
    assertEquals(stream, recorder.text());
    assertEquals(0, recorder.exchanges.size());
    assertEquals(0, recorder.events.get(0).extraDelayNanos(), "100 Continue is not held");
    assertEquals(5_000_000, recorder.events.get(1).extraDelayNanos(), "the final response is");
    assertEquals(0, recorder.events.get(2).extraDelayNanos(), "its body follows without a delay of its own");
  }

  @Test
  void response_withoutLength_endsWithTheStream() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    recorder.exchanges.add(new HttpExchanges.Exchange("GET", null));
    ResponseFramer framer = recorder.responseFramer();
    String stream = "HTTP/1.0 200 OK\r\n\r\nuntil the end";
    feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(stream), 5);
    assertEquals(1, recorder.exchanges.size());
    framer.eof(0);
    assertEquals(0, recorder.exchanges.size());
    assertEquals("eof", recorder.events.get(recorder.events.size() - 1).kind());
  }

  @Test
  void response_truncateBody_sendsTheHeadAndSoManyBodyBytes_thenFinishes() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    recorder.exchanges.add(new HttpExchanges.Exchange("GET",
        rule(HttpFault.when(HttpMatch.any()).truncateBody(3))));
    ResponseFramer framer = recorder.responseFramer();
    String head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    assertTrue(framer.feed(latin1(head + "01"), 0, head.length() + 2, 0));
    assertFalse(framer.feed(latin1("23456789"), 0, 8, 0), "the server is read no further");
    assertEquals(head + "012", recorder.text());
    assertEquals("finish", recorder.events.get(recorder.events.size() - 1).kind());
    assertTrue(recorder.finished);
    assertEquals(7, recorder.discarded);
  }

  @Test
  void response_truncateBody_letsAShortBodyPassWhole() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    recorder.exchanges.add(new HttpExchanges.Exchange("GET",
        rule(HttpFault.when(HttpMatch.any()).truncateBody(10))));
    ResponseFramer framer = recorder.responseFramer();
    String response = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    assertTrue(framer.feed(latin1(response), 0, response.length(), 0));
    assertEquals(response, recorder.text());
    assertFalse(recorder.finished);
  }

  @Test
  void response_slowBody_pacesTheBodyOnly() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    recorder.exchanges.add(new HttpExchanges.Exchange("GET", rule(HttpFault.when(HttpMatch.any()).slowBody(100))));
    ResponseFramer framer = recorder.responseFramer();
    String head = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
    feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(head + "body"), 1000);
    assertEquals(0, recorder.events.get(0).bytesPerSecond());
    assertEquals(100, recorder.events.get(1).bytesPerSecond());
  }

  @Test
  void injectedResponse_followsTheResponsesOutstandingBeforeIt() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    recorder.exchanges.add(new HttpExchanges.Exchange("GET", null));
    HttpFault inject = rule(HttpFault.when(HttpMatch.any()).respond(HttpFaultResponse.throttling("ThrottlingException"))
        .delay(Duration.ofMillis(7)));
    assertFalse(recorder.exchanges.addInjected(new HttpExchanges.Exchange("POST", inject)));
    ResponseFramer framer = recorder.responseFramer();
    String first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    assertFalse(framer.feed(latin1(first), 0, first.length(), 0));
    String text = recorder.text();
    assertTrue(text.startsWith(first + "HTTP/1.1 400 Bad Request\r\n"), text);
    assertTrue(text.contains("x-amzn-ErrorType: ThrottlingException\r\n"), text);
    assertTrue(text.contains("x-amzn-RequestId: REQ-1\r\n"), text);
    assertTrue(text.contains("Connection: close\r\n"), text);
    assertTrue(text.endsWith("{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"), text);
    FramingRecorder.Event finish = recorder.events.get(recorder.events.size() - 1);
    assertEquals("finish", finish.kind());
    assertEquals(7_000_000, finish.extraDelayNanos());
  }

  @Test
  void injectedResponse_toHead_hasNoBody_andIsSentOnWakeUp() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    HttpFault inject = rule(HttpFault.when(HttpMatch.any()).respond(HttpFaultResponse.internalError()));
    assertTrue(recorder.exchanges.addInjected(new HttpExchanges.Exchange("HEAD", inject)));
    ResponseFramer framer = recorder.responseFramer();
    framer.eof(0);
    assertTrue(recorder.text().endsWith("Connection: close\r\n\r\n"), recorder.text());
    assertTrue(recorder.text().contains("Content-Length: "), recorder.text());
    assertTrue(recorder.finished);
  }

  @Test
  void response_switchingProtocols_endsFraming() throws Exception {
    FramingRecorder recorder = new FramingRecorder();
    recorder.exchanges.add(new HttpExchanges.Exchange("GET", null));
    ResponseFramer framer = recorder.responseFramer();
    String stream = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u0082\u0003abcHTTP/1.1 500";
    feed((b, o, l) -> framer.feed(b, o, l, 0), latin1(stream), 9);
    assertEquals(stream, recorder.text());
    assertTrue(recorder.passthrough);
  }

  @Test
  void requestHead_splitsPathAndQuery_alsoInAbsoluteForm() {
    RequestHead origin = RequestHead.of("GET", "/b/k?uploads&partNumber=2", java.util.Map.of());
    assertEquals("/b/k", origin.path());
    assertEquals("uploads&partNumber=2", origin.query());
    RequestHead absolute = RequestHead.of("GET", "http://host:9000/b/k?x=1", java.util.Map.of());
    assertEquals("/b/k", absolute.path());
    assertEquals("x=1", absolute.query());
    assertEquals("/", RequestHead.of("GET", "http://host", java.util.Map.of()).path());
    assertNull(origin.first("missing"));
  }
}
