package dev.hardway.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.TestClock;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpFaultResponse;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.junit.LocalAwsTest;
import dev.hardway.testkit.sts.StsRole;
import dev.hardway.testkit.sts.StsServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.AssumeRoleResponse;
import software.amazon.awssdk.services.sts.model.Credentials;

/** Console sign-in URLs against the test kit's STS server and its federation endpoint. */
@LocalAwsTest(Service.STS)
class ConsoleSignInTest {

  private static final String ROLE = "arn:aws:iam::" + LocalAws.ACCOUNT_ID + ":role/" + LocalAws.DEFAULT_ROLE_NAME;
  private static final URI CONSOLE = URI.create("https://console.aws.amazon.com/s3/home?region=us-east-1");
  private static HttpClient browser;

  @BeforeAll
  static void startBrowser() {
    browser = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  @AfterAll
  static void stopBrowser() {
    browser.close();
  }

  private static AwsSessionCredentials assume(StsClient sts, String sessionName) {
    AssumeRoleResponse r = sts.assumeRole(b -> b.roleArn(ROLE).roleSessionName(sessionName).durationSeconds(900));
    Credentials c = r.credentials();
    return AwsSessionCredentials.builder().accessKeyId(c.accessKeyId()).secretAccessKey(c.secretAccessKey())
        .sessionToken(c.sessionToken()).expirationTime(c.expiration()).build();
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : uri.getRawQuery().split("&")) {
      int eq = pair.indexOf('=');
      out.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static void assertNoSecrets(Throwable e, AwsSessionCredentials c) {
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    assertThat(trace.toString())
        .doesNotContain(c.secretAccessKey())
        .doesNotContain(c.sessionToken())
        .doesNotContain(c.accessKeyId())
        .doesNotContain("Session=")
        .doesNotContain("SigninToken=");
  }

  @Test
  void signInUrl_forAssumedRole_redirectsToDestinationSignedInAsThatSession(LocalAws aws) throws Exception {
    AwsSessionCredentials credentials = assume(aws.sts(), "console-user");
    URI endpoint = aws.endpoint(Service.STS).resolve("/federation");
    try (ConsoleSignIn console = ConsoleSignIn.builder()
        .federationEndpoint(endpoint)
        .destination(CONSOLE)
        .issuer("https://hardway.example.com/signin")
        .sessionDuration(Duration.ofHours(2))
        .build()) {

      URI url = console.signInUrl(credentials);

      assertThat(url.toString()).startsWith(endpoint + "?Action=login&");
      Map<String, String> params = query(url);
      assertThat(params).containsEntry("Destination", CONSOLE.toString())
          .containsEntry("Issuer", "https://hardway.example.com/signin")
          .containsKey("SigninToken");
      String token = params.get("SigninToken");
      StsServer sts = aws.stsServer();
      assertThat(sts.signinTokenPrincipal(token)).contains("arn:aws:sts::" + LocalAws.ACCOUNT_ID + ":assumed-role/"
          + LocalAws.DEFAULT_ROLE_NAME + "/console-user");
      assertThat(sts.signinToken(token).orElseThrow().consoleSessionDuration()).isEqualTo(Duration.ofHours(2));
      assertThat(console.toString()).doesNotContain(token).doesNotContain(credentials.sessionToken());

      HttpResponse<Void> followed = browser.send(HttpRequest.newBuilder(url).build(),
          HttpResponse.BodyHandlers.discarding());

      assertThat(followed.statusCode()).isEqualTo(302);
      assertThat(followed.headers().firstValue("Location")).contains(CONSOLE.toString());
      assertThat(sts.signinToken(token).orElseThrow().used()).isTrue();
    }
  }

  @Test
  void signInUrl_withoutSessionDuration_sendsNone(LocalAws aws) {
    AwsSessionCredentials credentials = assume(aws.sts(), "no-duration");
    try (ConsoleSignIn console = ConsoleSignIn.builder()
        .federationEndpoint(aws.endpoint(Service.STS).resolve("/federation")).build()) {

      URI url = console.signInUrl(credentials);

      Map<String, String> params = query(url);
      assertThat(params).doesNotContainKey("Issuer").containsEntry("Destination", "https://console.aws.amazon.com/");
      assertThat(aws.stsServer().signinToken(params.get("SigninToken")).orElseThrow().consoleSessionDuration())
          .isNull();
    }
  }

  @Test
  void signInUrl_whenServerSaysExpired_failsClearly_withoutSecrets() {
    TestClock clock = TestClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    try (StsServer sts = StsServer.builder().clock(clock)
            .user("alice", "AKIAALICE00000000001", "alice-secret")
            .role(StsRole.builder(ROLE).trust("arn:aws:iam::" + LocalAws.ACCOUNT_ID + ":user/alice").build())
            .start();
        StsClient alice = StsClient.builder().endpointOverride(sts.endpoint()).region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(
                AwsBasicCredentials.create("AKIAALICE00000000001", "alice-secret")))
            .httpClient(Apache5HttpClient.create())
            .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
            .build();
        ConsoleSignIn console = ConsoleSignIn.builder().federationEndpoint(sts.endpoint().resolve("/federation"))
            .build()) {
      AwsSessionCredentials issued = assume(alice, "alice");
      // Without an expiration time the client cannot tell: the endpoint has to refuse them.
      AwsSessionCredentials noExpiry = AwsSessionCredentials.create(issued.accessKeyId(), issued.secretAccessKey(),
          issued.sessionToken());
      clock.advance(Duration.ofSeconds(900));

      assertThatThrownBy(() -> console.signInUrl(noExpiry))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("HTTP 400").contains(sts.endpoint() + "/federation")
                .contains("refused the credentials");
            assertNoSecrets(e, issued);
          });
      assertThat(sts.stats().signinTokensIssued()).isZero();
      assertThat(sts.stats().federationRefused()).isEqualTo(1);
    }
  }

  @Test
  void signInUrl_withPastExpirationTime_failsBeforeAnyRequest(LocalAws aws) {
    AwsSessionCredentials credentials = assume(aws.sts(), "expired-here");
    TestClock clock = TestClock.at(credentials.expirationTime().orElseThrow());
    long refusedBefore = aws.stsServer().stats().federationRefused();
    long issuedBefore = aws.stsServer().stats().signinTokensIssued();
    try (ConsoleSignIn console = ConsoleSignIn.builder()
        .federationEndpoint(aws.endpoint(Service.STS).resolve("/federation")).clock(clock).build()) {

      assertThatThrownBy(() -> console.signInUrl(credentials))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).contains("expired at " + credentials.expirationTime().orElseThrow());
            assertNoSecrets(e, credentials);
          });
    }
    assertThat(aws.stsServer().stats().federationRefused()).isEqualTo(refusedBefore);
    assertThat(aws.stsServer().stats().signinTokensIssued()).isEqualTo(issuedBefore);
  }

  @Test
  void signInUrl_withLongTermCredentials_isIllegalArgument(LocalAws aws) {
    try (ConsoleSignIn console = ConsoleSignIn.builder()
        .federationEndpoint(aws.endpoint(Service.STS).resolve("/federation")).build()) {

      assertThatThrownBy(() -> console.signInUrl(aws.credentials()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("temporary credentials")
          .hasMessageNotContaining(LocalAws.DEFAULT_SECRET_ACCESS_KEY);
      assertThatThrownBy(() -> console.signInUrl(AwsSessionCredentials.create(LocalAws.DEFAULT_ACCESS_KEY_ID,
          LocalAws.DEFAULT_SECRET_ACCESS_KEY, "token")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("long-term access key")
          .hasMessageNotContaining(LocalAws.DEFAULT_ACCESS_KEY_ID);
    }
  }

  @Test
  void signInUrl_whenEndpointAnswers500_isRetryable_withoutSecrets(LocalAws aws) {
    AwsSessionCredentials credentials = assume(aws.sts(), "fault-500");
    FaultProxy proxy = aws.faults(Service.STS);
    HttpFault fault = proxy.addHttpFault(HttpFault.when(HttpMatch.path("/federation"))
        .respond(HttpFaultResponse.internalError()));
    URI endpoint = proxy.uri().resolve("/federation");
    try (ConsoleSignIn console = ConsoleSignIn.builder().federationEndpoint(endpoint).build()) {

      assertThatThrownBy(() -> console.signInUrl(credentials))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).contains("HTTP 500").contains(endpoint.toString());
            assertNoSecrets(e, credentials);
          });
      assertThat(fault.matched()).isEqualTo(1);
    }
  }

  @Test
  void signInUrl_whenEndpointIsSilent_timesOutRetryably(LocalAws aws) {
    AwsSessionCredentials credentials = assume(aws.sts(), "black-hole");
    FaultProxy proxy = aws.faults(Service.STS).blackHole(true);
    Duration timeout = Duration.ofMillis(500);
    try (ConsoleSignIn console = ConsoleSignIn.builder().federationEndpoint(proxy.uri().resolve("/federation"))
        .requestTimeout(timeout).build()) {
      long start = System.nanoTime();

      assertThatThrownBy(() -> console.signInUrl(credentials))
          .isInstanceOfSatisfying(CredentialsException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).contains("did not answer").contains("PT0.5S");
            assertNoSecrets(e, credentials);
          });
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(timeout.multipliedBy(6));
    }
  }

  @Test
  void builder_refusesBadValues_namingThem() {
    assertThatThrownBy(() -> ConsoleSignIn.builder().federationEndpoint(URI.create("http://signin.example.com/f")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("federationEndpoint").hasMessageContaining("http://signin.example.com/f");
    assertThatThrownBy(() -> ConsoleSignIn.builder().federationEndpoint(URI.create("https://x.example/f?a=b")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("?a=b");
    assertThatThrownBy(() -> ConsoleSignIn.builder().destination(URI.create("javascript:alert(1)")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("destination");
    assertThatThrownBy(() -> ConsoleSignIn.builder().sessionDuration(Duration.ofSeconds(899)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sessionDuration")
        .hasMessageContaining("PT14M59S");
    assertThatThrownBy(() -> ConsoleSignIn.builder().sessionDuration(Duration.ofSeconds(43_201)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT12H1S");
    assertThatThrownBy(() -> ConsoleSignIn.builder().requestTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("requestTimeout");
    assertThatThrownBy(() -> ConsoleSignIn.builder().issuer(" "))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("issuer");
    try (ConsoleSignIn loopback = ConsoleSignIn.builder()
        .federationEndpoint(URI.create("http://127.0.0.1:1/federation")).build()) {
      assertThat(loopback.federationEndpoint()).hasPort(1);
    }
  }

  @Test
  void toBuilder_keepsTheConfiguration() {
    try (ConsoleSignIn a = ConsoleSignIn.builder().issuer("https://i.example/").sessionDuration(Duration.ofHours(1))
            .build();
        ConsoleSignIn b = a.toBuilder().build()) {
      assertThat(b.issuer()).isEqualTo(a.issuer());
      assertThat(b.sessionDuration()).contains(Duration.ofHours(1));
      assertThat(b.federationEndpoint()).isEqualTo(ConsoleSignIn.DEFAULT_FEDERATION_ENDPOINT);
      assertThat(b.destination()).isEqualTo(ConsoleSignIn.DEFAULT_DESTINATION);
    }
  }

  @Test
  void signinToken_parsesTheJsonAnswer() {
    assertThat(ConsoleSignIn.signinToken("{\"SigninToken\":\"abc\"}")).isEqualTo("abc");
    assertThat(ConsoleSignIn.signinToken("{ \"SigninToken\" : \"a\\/b\\u0041\" }")).isEqualTo("a/bA");
    assertThat(ConsoleSignIn.signinToken("{\"Other\":1}")).isNull();
    assertThat(ConsoleSignIn.signinToken("{\"SigninToken\":\"unterminated")).isNull();
  }
}
