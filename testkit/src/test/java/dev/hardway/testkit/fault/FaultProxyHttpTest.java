package dev.hardway.testkit.fault;

import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.StsException;

/**
 * HTTP faults, each proven on and then off, through the real AWS SDK clients (Apache 5 HTTP client) against a real
 * s3proxy. The DynamoDB, Kinesis and STS clients only meet injected answers, which never reach s3proxy.
 */
class FaultProxyHttpTest {

  private static final String KEY_ID = "AKIDTEST";
  private static final String SECRET = "secret";
  private static final String BUCKET = "bucket";

  private static S3Proxy s3proxy;
  private static URI s3proxyUri;

  private FaultProxy proxy;
  private final List<AutoCloseable> clients = new ArrayList<>();

  @BeforeAll
  static void startS3Proxy() throws Exception {
    s3proxy = S3Proxy.builder()
        .blobStore(new TransientNio2BlobStore())
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, KEY_ID, SECRET)
        .build();
    s3proxy.start();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> "STARTED".equals(s3proxy.getState()));
    s3proxyUri = URI.create("http://127.0.0.1:" + s3proxy.getPort());
    try (S3Client direct = s3(s3proxyUri, retries(1), o -> { })) {
      direct.createBucket(b -> b.bucket(BUCKET));
    }
  }

  @AfterAll
  static void stopS3Proxy() throws Exception {
    s3proxy.stop();
  }

  @BeforeEach
  void startProxy() {
    proxy = FaultProxy.builder().target("127.0.0.1", s3proxy.getPort()).name("s3").http(true)
        .random(new SplittableRandom(3)).start();
  }

  @AfterEach
  void stopProxy() throws Exception {
    for (AutoCloseable client : clients) {
      client.close();
    }
    proxy.close();
    assertEquals(0, proxy.liveThreads());
  }

  private static ClientOverrideConfiguration.Builder retries(int attempts) {
    ClientOverrideConfiguration.Builder config = ClientOverrideConfiguration.builder();
    if (attempts <= 1) {
      return config.retryStrategy(AwsRetryStrategy.doNotRetry());
    }
    // Quick retries: the SDK's own backoff would add up to seconds of jitter to every throttled test.
    return config.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
        .maxAttempts(attempts)
        .backoffStrategy(BackoffStrategy.fixedDelay(Duration.ofMillis(10)))
        .throttlingBackoffStrategy(BackoffStrategy.fixedDelay(Duration.ofMillis(10)))
        .circuitBreakerEnabled(false)
        .build());
  }

  private static S3Client s3(URI endpoint, ClientOverrideConfiguration.Builder config,
      Consumer<ClientOverrideConfiguration.Builder> tweak) {
    tweak.accept(config);
    return S3Client.builder()
        .endpointOverride(endpoint)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY_ID, SECRET)))
        .httpClient(Apache5HttpClient.create())
        .overrideConfiguration(config.build())
        .build();
  }

  private S3Client s3(int attempts) {
    return s3(attempts, o -> { });
  }

  private S3Client s3(int attempts, Consumer<ClientOverrideConfiguration.Builder> tweak) {
    S3Client client = s3(proxy.uri(), retries(attempts), tweak);
    clients.add(client);
    return client;
  }

  private static byte[] bytes(int size, long seed) {
    byte[] data = new byte[size];
    new SplittableRandom(seed).nextBytes(data);
    return data;
  }

  private static void put(S3Client s3, String key, byte[] data) {
    s3.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(data));
  }

  private static byte[] get(S3Client s3, String key) {
    return s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray();
  }

  private static long millisSince(long start) {
    return NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  @Test
  void putAndRangedGet_passThrough_withExpectContinue() {
    S3Client s3 = s3(1);
    // A rule that only observes (a zero delay is not allowed, a tiny one is): it proves the SDK sent
    // Expect: 100-continue on PutObject, and that the upload still went through the framing proxy.
    HttpFault expectContinue = proxy.addHttpFault(
        HttpFault.when(HttpMatch.header("Expect", "100-continue")).delay(Duration.ofMillis(1)));
    // The SDK asks for 100 Continue on large bodies only (1 MiB and more, in the versions tested).
    byte[] data = bytes(2 * 1024 * 1024, 1);
    put(s3, "plain", data);
    assertEquals(1, expectContinue.matched(), "PutObject asked for 100 Continue");

    assertArrayEquals(data, get(s3, "plain"));
    ResponseBytes<GetObjectResponse> range =
        s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("plain").range("bytes=1000-1999"));
    assertEquals(206, range.response().sdkHttpResponse().statusCode());
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 1000, 2000), range.asByteArray());
    assertEquals(data.length, s3.headObject(b -> b.bucket(BUCKET).key("plain")).contentLength(),
        "HEAD: a response with a length and no body");

    FaultProxy.Stats stats = proxy.stats();
    assertTrue(stats.httpRequests() >= 4, "requests framed: " + stats.httpRequests());
    assertEquals(0, stats.httpPassthroughConnections());
    assertEquals(0, stats.connectionsFailed());
  }

  @Test
  void s3SlowDown_isRetriedBySdk_andTimesRunsOut() {
    S3Client s3 = s3(4);
    HttpFault slowDown = proxy.addHttpFault(HttpFault.when(HttpMatch.method("PUT")
            .and(HttpMatch.pathStartsWith("/" + BUCKET + "/")))
        .respond(HttpFaultResponse.s3SlowDown())
        .times(2));
    byte[] data = bytes(10_000, 2);
    put(s3, "retried", data);
    assertEquals(2, slowDown.matched());
    assertTrue(slowDown.exhausted());
    assertArrayEquals(data, get(s3, "retried"));
    assertEquals(2, proxy.stats().httpFaultsInjected());
    assertEquals(2L, proxy.stats().httpFaultsByRule().get(slowDown));
  }

  @Test
  void respond_withoutRetries_surfacesTheAwsError_untilTimesRunsOut() {
    S3Client s3 = s3(1);
    proxy.addHttpFault(HttpFault.when(HttpMatch.method("PUT")).respond(HttpFaultResponse.s3SlowDown()).times(1));
    S3Exception error = assertThrows(S3Exception.class, () -> put(s3, "once", bytes(100, 3)));
    assertEquals(503, error.statusCode());
    assertEquals("SlowDown", error.awsErrorDetails().errorCode());
    assertEquals("Please reduce your request rate.", error.awsErrorDetails().errorMessage());
    assertNotNull(error.requestId());
    assertFalse(error.requestId().isBlank());

    put(s3, "once", bytes(100, 3));
    assertEquals(100, get(s3, "once").length);
  }

  @Test
  void removeHttpFault_letsRequestsPassAgain() {
    S3Client s3 = s3(1);
    put(s3, "removable", bytes(10, 4));
    HttpFault broken = proxy.addHttpFault(HttpFault.when(HttpMatch.method("GET"))
        .respond(HttpFaultResponse.internalError()));
    for (int i = 0; i < 2; i++) {
      S3Exception error = assertThrows(S3Exception.class, () -> get(s3, "removable"));
      assertEquals(500, error.statusCode());
      assertEquals("InternalError", error.awsErrorDetails().errorCode());
    }
    assertEquals(2, broken.matched());
    assertTrue(proxy.removeHttpFault(broken));
    assertFalse(proxy.removeHttpFault(broken));
    assertEquals(10, get(s3, "removable").length);
    assertEquals(2, broken.matched());
  }

  @Test
  void nonMatchingRule_doesNotHit() {
    S3Client s3 = s3(1);
    HttpFault other = proxy.addHttpFault(HttpFault.when(HttpMatch.pathStartsWith("/other-bucket/"))
        .respond(HttpFaultResponse.serviceUnavailable()));
    put(s3, "untouched", bytes(10, 5));
    assertEquals(0, other.matched());
    HttpFault unavailable = proxy.addHttpFault(HttpFault.when(HttpMatch.pathMatches("/bucket/unt.*"))
        .respond(HttpFaultResponse.serviceUnavailable()));
    S3Exception error = assertThrows(S3Exception.class, () -> get(s3, "untouched"));
    assertEquals(503, error.statusCode());
    assertEquals("ServiceUnavailable", error.awsErrorDetails().errorCode());
    assertEquals(1, unavailable.matched());
  }

  @Test
  void truncateBody_makesTheSdkFail_untilCleared() {
    S3Client s3 = s3(1);
    byte[] data = bytes(64 * 1024, 6);
    put(s3, "truncated", data);
    HttpFault truncate = proxy.addHttpFault(HttpFault.when(HttpMatch.method("GET")).truncateBody(100));
    assertThrows(SdkClientException.class, () -> get(s3, "truncated"));
    assertEquals(1, truncate.matched());
    assertTrue(proxy.stats().bytesDiscarded() > 0);

    proxy.clearFaults();
    assertArrayEquals(data, get(s3, "truncated"));
  }

  @Test
  void slowBody_firesTheAttemptTimeout_untilRemoved() {
    S3Client s3 = s3(1, o -> o.apiCallAttemptTimeout(Duration.ofMillis(1_000)));
    byte[] data = bytes(64 * 1024, 7);
    put(s3, "slow", data);
    HttpFault slow = proxy.addHttpFault(HttpFault.when(HttpMatch.method("GET")).slowBody(1024));
    assertThrows(ApiCallAttemptTimeoutException.class, () -> get(s3, "slow"));
    assertEquals(1, slow.matched());

    proxy.removeHttpFault(slow);
    assertArrayEquals(data, get(s3, "slow"));
  }

  @Test
  void delay_holdsTheResponse_untilRemoved() {
    S3Client s3 = s3(1);
    put(s3, "delayed", bytes(1000, 8));
    HttpFault delay = proxy.addHttpFault(HttpFault.when(HttpMatch.method("GET")).delay(Duration.ofMillis(800)));
    long start = System.nanoTime();
    assertEquals(1000, get(s3, "delayed").length);
    assertTrue(millisSince(start) >= 800, "the response was held");

    proxy.removeHttpFault(delay);
    long fastest = Long.MAX_VALUE;
    for (int i = 0; i < 2; i++) {
      start = System.nanoTime();
      assertEquals(1000, get(s3, "delayed").length);
      fastest = Math.min(fastest, millisSince(start));
    }
    assertEquals(1, delay.matched(), "a removed rule hits nothing");
    assertTrue(fastest < 800, "the delay is gone");
  }

  @Test
  void delayedInjectedResponse_isHeldToo() {
    S3Client s3 = s3(1);
    proxy.addHttpFault(HttpFault.when(HttpMatch.any()).respond(HttpFaultResponse.internalError())
        .delay(Duration.ofMillis(500)));
    long start = System.nanoTime();
    assertThrows(S3Exception.class, () -> get(s3, "anything"));
    assertTrue(millisSince(start) >= 500);
  }

  @Test
  void multipartUpload_worksWithLatency_andRetriesAThrottledPart() {
    S3Client s3 = s3(3);
    proxy.latency(Direction.BOTH, Duration.ofMillis(20), Duration.ofMillis(5));
    // Part 1 is large enough for the SDK to send Expect: 100-continue: the proxy answers while the client waits for
    // 100 Continue, and the client, seeing a final answer instead, does not send the body.
    HttpFault partOne = proxy.addHttpFault(HttpFault.when(HttpMatch.method("PUT")
            .and(HttpMatch.queryParameter("partNumber", "1"))
            .and(HttpMatch.queryParameter("uploadId")))
        .respond(HttpFaultResponse.s3SlowDown())
        .times(1));
    byte[] first = bytes(5 * 1024 * 1024, 9);
    byte[] second = bytes(300_000, 10);
    String uploadId = s3.createMultipartUpload(b -> b.bucket(BUCKET).key("multi")).uploadId();
    String etag1 = s3.uploadPart(b -> b.bucket(BUCKET).key("multi").uploadId(uploadId).partNumber(1),
        RequestBody.fromBytes(first)).eTag();
    String etag2 = s3.uploadPart(b -> b.bucket(BUCKET).key("multi").uploadId(uploadId).partNumber(2),
        RequestBody.fromBytes(second)).eTag();
    s3.completeMultipartUpload(b -> b.bucket(BUCKET).key("multi").uploadId(uploadId)
        .multipartUpload(m -> m.parts(
            CompletedPart.builder().partNumber(1).eTag(etag1).build(),
            CompletedPart.builder().partNumber(2).eTag(etag2).build())));
    assertEquals(1, partOne.matched());

    proxy.clearFaults();
    byte[] whole = get(s3, "multi");
    assertEquals(first.length + second.length, whole.length);
    assertArrayEquals(first, java.util.Arrays.copyOf(whole, first.length));
  }

  @Test
  void cutAfter_breaksALargeDownload_untilLifted() {
    S3Client s3 = s3(2);
    byte[] data = bytes(1 << 20, 11);
    put(s3, "large", data);
    proxy.cutAfter(Direction.DOWNSTREAM, 64 * 1024);
    assertThrows(SdkClientException.class, () -> get(s3, "large"));
    assertTrue(proxy.stats().connectionsCut() >= 1);

    proxy.cutAfter(Direction.DOWNSTREAM, -1);
    assertArrayEquals(data, get(s3, "large"));
  }

  @Test
  void awsShapedErrors_becomeTheSdkExceptions() {
    StaticCredentialsProvider credentials =
        StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY_ID, SECRET));
    ClientOverrideConfiguration noRetries = retries(1).build();

    proxy.addHttpFault(HttpFault.when(HttpMatch.header("X-Amz-Target", "DynamoDB_20120810.GetItem"))
        .respond(HttpFaultResponse.throttling("ProvisionedThroughputExceededException")));
    try (DynamoDbClient dynamo = DynamoDbClient.builder().endpointOverride(proxy.uri()).region(Region.US_EAST_1)
        .credentialsProvider(credentials).httpClient(Apache5HttpClient.create()).overrideConfiguration(noRetries)
        .build()) {
      ProvisionedThroughputExceededException error = assertThrows(ProvisionedThroughputExceededException.class,
          () -> dynamo.getItem(b -> b.tableName("t").key(java.util.Map.of("k", AttributeValue.fromS("v")))));
      assertEquals(400, error.statusCode());
      assertEquals("Rate exceeded", error.awsErrorDetails().errorMessage());
    }

    proxy.clearFaults();
    proxy.addHttpFault(HttpFault.when(HttpMatch.header("X-Amz-Target", "Kinesis_20131202.PutRecords"))
        .respond(HttpFaultResponse.throttling("ProvisionedThroughputExceededException")));
    try (KinesisClient kinesis = KinesisClient.builder().endpointOverride(proxy.uri()).region(Region.US_EAST_1)
        .credentialsProvider(credentials).httpClient(Apache5HttpClient.create()).overrideConfiguration(noRetries)
        .build()) {
      // The Kinesis client speaks CBOR: it takes the error type from the x-amzn-ErrorType header.
      assertThrows(software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException.class,
          () -> kinesis.putRecords(b -> b.streamName("s").records(PutRecordsRequestEntry.builder()
              .partitionKey("p").data(software.amazon.awssdk.core.SdkBytes.fromUtf8String("x")).build())));
    }

    proxy.clearFaults();
    proxy.addHttpFault(HttpFault.when(HttpMatch.method("POST")).respond(HttpFaultResponse.stsThrottling()));
    try (StsClient sts = StsClient.builder().endpointOverride(proxy.uri()).region(Region.US_EAST_1)
        .credentialsProvider(credentials).httpClient(Apache5HttpClient.create()).overrideConfiguration(noRetries)
        .build()) {
      StsException error = assertThrows(StsException.class, sts::getCallerIdentity);
      assertEquals(400, error.statusCode());
      assertEquals("Throttling", error.awsErrorDetails().errorCode());
      assertEquals("Rate exceeded", error.awsErrorDetails().errorMessage());
    }
    assertEquals(3, proxy.stats().httpFaultsInjected());
  }
}
