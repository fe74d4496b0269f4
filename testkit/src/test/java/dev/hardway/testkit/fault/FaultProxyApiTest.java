package dev.hardway.testkit.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Validation, messages and the shapes of the public API, without traffic. */
class FaultProxyApiTest {

  private static void rejects(Executable call, String... messageParts) {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, call);
    for (String part : messageParts) {
      assertTrue(error.getMessage().contains(part), () -> "'" + error.getMessage() + "' should name " + part);
    }
  }

  private static RequestHead head(String method, String target, Map<String, List<String>> headers) {
    return RequestHead.of(method, target, headers);
  }

  @Test
  void builder_rejectsBadValues_namingTheOptionAndTheValue() {
    FaultProxy.Builder builder = FaultProxy.builder();
    rejects(() -> builder.target(" ", 80), "target host", "\" \"");
    rejects(() -> builder.target("127.0.0.1", 0), "target port", "0");
    rejects(() -> builder.target("127.0.0.1", 70_000), "target port", "70000");
    rejects(() -> builder.listenPort(-1), "listenPort", "-1");
    rejects(() -> builder.name("two words"), "name", "two words");
    rejects(() -> builder.connectTimeout(Duration.ZERO), "connectTimeout", "PT0S");
    rejects(() -> builder.chunkSize(100), "chunkSize", "100");
    rejects(() -> builder.queueCapacity(0), "queueCapacity", "0");
    IllegalStateException noTarget = assertThrows(IllegalStateException.class, () -> builder.name("x").start());
    assertTrue(noTarget.getMessage().contains("target"), noTarget.getMessage());
  }

  @Test
  void faultSetters_rejectBadValues_andHttpFaultsNeedHttpMode() {
    try (FaultProxy proxy = FaultProxy.builder().target("127.0.0.1", 9).name("plain").start()) {
      rejects(() -> proxy.latency(Direction.UPSTREAM, Duration.ofMillis(-1)), "latency", "PT-0.001S");
      rejects(() -> proxy.latency(Direction.UPSTREAM, Duration.ZERO, Duration.ofHours(2)), "jitter", "PT2H");
      rejects(() -> proxy.bandwidth(Direction.BOTH, -5), "bandwidth", "-5");
      rejects(() -> proxy.cutAfter(Direction.BOTH, -2), "cutAfter", "-2");
      IllegalStateException notHttp = assertThrows(IllegalStateException.class,
          () -> proxy.addHttpFault(HttpFault.when(HttpMatch.any()).delay(Duration.ofMillis(1))));
      assertTrue(notHttp.getMessage().contains("'plain'"), notHttp.getMessage());
      assertTrue(notHttp.getMessage().contains("http(true)"), notHttp.getMessage());
      assertTrue(proxy.uri().toString().matches("http://127\\.0\\.0\\.1:\\d+"), proxy.uri().toString());
      assertEquals(proxy.port(), proxy.uri().getPort());
      assertFalse(proxy.http());
    }
  }

  @Test
  void httpFaultBuilder_validatesValuesAndCombinations() {
    HttpFault.Builder rule = HttpFault.when(HttpMatch.any());
    rejects(() -> rule.times(0), "times", "0");
    rejects(() -> rule.slowBody(0), "slowBody", "0");
    rejects(() -> rule.truncateBody(-1), "truncateBody", "-1");
    rejects(() -> rule.delay(Duration.ofSeconds(-1)), "delay", "PT-1S");
    try (FaultProxy proxy = FaultProxy.builder().target("127.0.0.1", 9).http(true).start()) {
      assertThrows(IllegalStateException.class, () -> proxy.addHttpFault(HttpFault.when(HttpMatch.any())),
          "a rule needs an action");
      assertThrows(IllegalStateException.class, () -> proxy.addHttpFault(HttpFault.when(HttpMatch.any())
          .respond(HttpFaultResponse.internalError()).slowBody(10)));
      HttpFault.Builder reusable = HttpFault.when(HttpMatch.method("GET")).truncateBody(5).slowBody(10).times(2);
      HttpFault first = proxy.addHttpFault(reusable);
      HttpFault second = proxy.addHttpFault(reusable);
      assertEquals(List.of(first, second), proxy.httpFaults());
      assertTrue(first.toString().contains("method(GET)"), first.toString());
      assertTrue(first.toString().contains("times 2"), first.toString());
      Map<HttpFault, Long> byRule = proxy.stats().httpFaultsByRule();
      assertEquals(2, byRule.size());
      assertThrows(UnsupportedOperationException.class, () -> byRule.put(first, 1L));
      proxy.clearFaults();
      assertTrue(proxy.httpFaults().isEmpty());
    }
  }

  @Test
  void httpFault_timesLimitsHits_andCountsOnlyMatches() {
    HttpFault rule = HttpFault.when(HttpMatch.method("PUT")).respond(HttpFaultResponse.s3SlowDown()).times(2)
        .build(1);
    RequestHead put = head("PUT", "/b/k", Map.of());
    assertFalse(rule.tryClaim(head("GET", "/b/k", Map.of())));
    assertTrue(rule.tryClaim(put));
    assertTrue(rule.tryClaim(put));
    assertFalse(rule.tryClaim(put));
    assertEquals(2, rule.matched());
    assertTrue(rule.exhausted());
  }

  @Test
  void httpMatch_combinesAndReadsHeadersAndQueries() {
    Map<String, List<String>> headers = Map.of("x-amz-target", List.of("Kinesis_20131202.PutRecords"));
    RequestHead post = head("POST", "/?uploads&partNumber=3&empty=", headers);
    assertTrue(HttpMatch.header("X-Amz-Target", "Kinesis_20131202.PutRecords").test(post));
    assertFalse(HttpMatch.header("X-Amz-Target", "kinesis_20131202.putrecords").test(post), "values keep case");
    assertTrue(HttpMatch.headerPresent("x-AMZ-target").test(post));
    assertTrue(HttpMatch.queryParameter("uploads").test(post));
    assertTrue(HttpMatch.queryParameter("partNumber", "3").test(post));
    assertTrue(HttpMatch.queryParameter("empty", "").test(post));
    assertFalse(HttpMatch.queryParameter("partNumber", "4").test(post));
    assertFalse(HttpMatch.queryParameter("upload").test(post));
    assertTrue(HttpMatch.method("post").and(HttpMatch.path("/")).test(post));
    assertTrue(HttpMatch.method("GET").or(HttpMatch.pathStartsWith("/")).test(post));
    assertFalse(HttpMatch.any().negate().test(post));
    assertTrue(HttpMatch.pathMatches("/b/[0-9]+").test(head("GET", "/b/42?x", Map.of())));
    assertEquals("(method(PUT) and not pathStartsWith(/a))",
        HttpMatch.method("PUT").and(HttpMatch.pathStartsWith("/a").negate()).toString());
    rejects(() -> HttpMatch.method("GE T"), "method", "GE T");
    rejects(() -> HttpMatch.header("bad name", "v"), "header name", "bad name");
    rejects(() -> HttpMatch.pathMatches("("), "pathMatches", "(");
    rejects(() -> HttpMatch.queryParameter(""), "queryParameter");
  }

  @Test
  void httpFaultResponse_readyMadeAnswers_haveAwsShapes() {
    String slowDown = new String(HttpFaultResponse.s3SlowDown().render("ID-1", false), StandardCharsets.UTF_8);
    assertTrue(slowDown.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), slowDown);
    assertTrue(slowDown.contains("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"),
        slowDown);
    assertTrue(slowDown.contains("<RequestId>ID-1</RequestId>"), slowDown);
    assertTrue(slowDown.contains("x-amzn-RequestId: ID-1\r\nx-amz-request-id: ID-1\r\n"), slowDown);
    assertTrue(slowDown.contains("Connection: close\r\n"), slowDown);

    HttpFaultResponse throttling = HttpFaultResponse.throttling("ThrottlingException", "say \"no\"");
    assertEquals(400, throttling.status());
    assertEquals("ThrottlingException", throttling.headers().get("x-amzn-ErrorType"));
    assertEquals("{\"__type\":\"ThrottlingException\",\"message\":\"say \\\"no\\\"\"}",
        new String(throttling.body("x"), StandardCharsets.UTF_8));

    String sts = new String(HttpFaultResponse.stsThrottling().body("R"), StandardCharsets.UTF_8);
    assertTrue(sts.contains("<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"),
        sts);
    assertEquals(500, HttpFaultResponse.internalError().status());
    assertEquals(503, HttpFaultResponse.serviceUnavailable().status());

    HttpFaultResponse custom = HttpFaultResponse.of(429, Map.of("Content-Type", "text/plain"), "slow down")
        .withHeader("Retry-After", "1");
    String wire = new String(custom.render("I", false), StandardCharsets.UTF_8);
    assertTrue(wire.startsWith("HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"),
        wire);
    assertTrue(wire.endsWith("Content-Length: 9\r\nConnection: close\r\n\r\nslow down"), wire);
    assertTrue(new String(custom.render("I", true), StandardCharsets.UTF_8).endsWith("\r\n\r\n"));

    rejects(() -> HttpFaultResponse.of(100, Map.of(), "x"), "status", "100");
    rejects(() -> HttpFaultResponse.of(600, Map.of(), "x"), "status", "600");
    rejects(() -> HttpFaultResponse.of(500, Map.of("Content-Length", "1"), "x"), "Content-Length");
    rejects(() -> HttpFaultResponse.of(500, Map.of("X-A", "a\r\nb"), "x"), "X-A", "line break");
    rejects(() -> HttpFaultResponse.throttling("not a token"), "awsJsonErrorType", "not a token");
  }
}
