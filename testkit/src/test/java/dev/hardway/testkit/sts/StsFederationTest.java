package dev.hardway.testkit.sts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.TestClock;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.Credentials;

/** The STS server's federation endpoint ({@code /federation}): sign-in tokens from real issued credentials. */
class StsFederationTest {

  private static final String ACCOUNT = "000000000000";
  private static final String ALICE_KEY = "AKIAALICE00000000001";
  private static final String ALICE_SECRET = "alice-secret-access-key";
  private static final String BIDDER = "arn:aws:iam::" + ACCOUNT + ":role/bidder";
  private static final String READER = "arn:aws:iam::" + ACCOUNT + ":role/reader";
  private static final String CONSOLE = "https://console.aws.amazon.com/ec2/home?region=us-east-1";
  private static final Pattern TOKEN = Pattern.compile("\\{\"SigninToken\":\"([A-Za-z0-9_-]+)\"}");

  private final TestClock clock = TestClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private StsServer sts;

  @BeforeEach
  void start() {
    sts = StsServer.builder()
        .clock(clock)
        .user("alice", ALICE_KEY, ALICE_SECRET)
        .role(StsRole.builder(BIDDER).trust("arn:aws:iam::" + ACCOUNT + ":user/alice")
            .maxSessionDuration(Duration.ofHours(4)).build())
        .role(StsRole.builder(READER).trust(BIDDER).build())
        .start();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    sts.close();
  }

  private StsClient client(software.amazon.awssdk.auth.credentials.AwsCredentials credentials) {
    StsClient client = StsClient.builder()
        .endpointOverride(sts.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(credentials))
        .httpClient(Apache5HttpClient.create())
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
    toClose.add(client);
    return client;
  }

  private StsClient alice() {
    return client(AwsBasicCredentials.create(ALICE_KEY, ALICE_SECRET));
  }

  private Credentials assumeBidder() {
    return alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice").durationSeconds(900)).credentials();
  }

  private static String session(String keyId, String secret, String token) {
    return "{\"sessionId\":\"" + keyId + "\",\"sessionKey\":\"" + secret + "\",\"sessionToken\":\"" + token + "\"}";
  }

  private static String session(Credentials c) {
    return session(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
  }

  private Reply getSigninToken(String sessionJson, @Nullable String duration) throws IOException {
    return get("Action=getSigninToken" + (duration == null ? "" : "&SessionDuration=" + duration) + "&Session="
        + enc(sessionJson));
  }

  private Reply login(String token, String destination) throws IOException {
    return get("Action=login&Issuer=" + enc("https://issuer.example.com/") + "&Destination=" + enc(destination)
        + "&SigninToken=" + enc(token));
  }

  private Reply get(String query) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(sts.endpoint() + "/federation?" + query).toURL()
        .openConnection();
    c.setInstanceFollowRedirects(false);
    try {
      int status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new Reply(status, body, c.getHeaderField("Location"));
    } finally {
      c.disconnect();
    }
  }

  private record Reply(int status, String body, @Nullable String location) {
    String token() {
      Matcher m = TOKEN.matcher(body);
      assertThat(m.matches()).as("a SigninToken answer, got %s", body).isTrue();
      return m.group(1);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Test
  void getSigninToken_withAssumedRoleCredentials_returnsTokenThatLoginRedirects() throws IOException {
    Credentials c = assumeBidder();

    Reply signin = getSigninToken(session(c), "43200");

    assertThat(signin.status()).isEqualTo(200);
    String token = signin.token();
    assertThat(sts.signinTokenPrincipal(token)).contains("arn:aws:sts::" + ACCOUNT + ":assumed-role/bidder/alice");
    assertThat(sts.signinToken(token).orElseThrow().consoleSessionDuration()).isEqualTo(Duration.ofHours(12));
    assertThat(sts.signinToken(token).orElseThrow().accessKeyId()).isEqualTo(c.accessKeyId());

    Reply login = login(token, CONSOLE);

    assertThat(login.status()).isEqualTo(302);
    assertThat(login.location()).isEqualTo(CONSOLE);
    assertThat(sts.signinToken(token).orElseThrow().used()).isTrue();
    assertThat(sts.stats().signinTokensIssued()).isEqualTo(1);
    assertThat(sts.stats().consoleSignIns()).isEqualTo(1);
  }

  @Test
  void login_isSingleUse_andTokensExpireAfter15Minutes() throws IOException {
    Credentials c = assumeBidder();
    String used = getSigninToken(session(c), null).token();
    String stale = getSigninToken(session(c), null).token();
    assertThat(sts.signinToken(used).orElseThrow().consoleSessionDuration()).isNull();

    assertThat(login(used, CONSOLE).status()).isEqualTo(302);
    assertThat(login(used, CONSOLE).status()).isEqualTo(400);

    clock.advance(Duration.ofMinutes(15));
    Reply late = login(stale, CONSOLE);
    assertThat(late.status()).isEqualTo(400);
    assertThat(late.body()).contains("invalid, expired or already used");
    assertThat(login("not-a-token", CONSOLE).status()).isEqualTo(400);
    assertThat(sts.signinTokenPrincipal("not-a-token")).isEmpty();
    assertThat(sts.stats().consoleSignIns()).isEqualTo(1);
    assertThat(sts.stats().federationRefused()).isEqualTo(3);
  }

  @Test
  void getSigninToken_withExpiredCredentials_isRefused() throws IOException {
    Credentials c = assumeBidder();
    clock.advance(Duration.ofSeconds(900));

    Reply r = getSigninToken(session(c), null);

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("expired").doesNotContain(c.secretAccessKey()).doesNotContain(c.sessionToken());
    assertThat(sts.stats().signinTokensIssued()).isZero();
  }

  @Test
  void getSigninToken_withForgedOrForeignCredentials_isRefused() throws IOException {
    Credentials c = assumeBidder();

    assertThat(getSigninToken(session(c.accessKeyId(), "wrong", c.sessionToken()), null).status()).isEqualTo(400);
    assertThat(getSigninToken(session(c.accessKeyId(), c.secretAccessKey(), c.sessionToken() + "x"), null).status())
        .isEqualTo(400);
    assertThat(getSigninToken(session("ASIANOBODY0000000001", "s", "t"), null).status()).isEqualTo(400);
    Reply longTerm = getSigninToken(session(ALICE_KEY, ALICE_SECRET, "none"), null);
    assertThat(longTerm.status()).isEqualTo(400);
    assertThat(longTerm.body()).contains("long-term");
    assertThat(getSigninToken("{not json", null).status()).isEqualTo(400);
    assertThat(getSigninToken("{\"sessionId\":\"" + c.accessKeyId() + "\"}", null).status()).isEqualTo(400);
    assertThat(get("Action=getSigninToken").status()).isEqualTo(400);
  }

  @Test
  void getSigninToken_withGetSessionTokenCredentials_isRefusedAsAwsDoes() throws IOException {
    Credentials c = alice().getSessionToken(b -> b.durationSeconds(900)).credentials();

    Reply r = getSigninToken(session(c), null);

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("Only federation tokens or assume role tokens");
  }

  @Test
  void sessionDuration_outOfRange_isRefused() throws IOException {
    Credentials c = assumeBidder();

    assertThat(getSigninToken(session(c), "899").status()).isEqualTo(400);
    assertThat(getSigninToken(session(c), "43201").status()).isEqualTo(400);
    assertThat(getSigninToken(session(c), "1h").status()).isEqualTo(400);
    assertThat(getSigninToken(session(c), "900").status()).isEqualTo(200);
  }

  @Test
  void sessionDuration_withChainedCredentials_isRefused_butWithoutItSignsIn() throws IOException {
    Credentials bidder = assumeBidder();
    Credentials chained = client(AwsSessionCredentials.create(bidder.accessKeyId(), bidder.secretAccessKey(),
        bidder.sessionToken())).assumeRole(b -> b.roleArn(READER).roleSessionName("alice")).credentials();

    Reply withDuration = getSigninToken(session(chained), "3600");
    assertThat(withDuration.status()).isEqualTo(400);
    assertThat(withDuration.body()).contains("role chaining");

    String token = getSigninToken(session(chained), null).token();
    assertThat(sts.signinTokenPrincipal(token)).contains("arn:aws:sts::" + ACCOUNT + ":assumed-role/reader/alice");
  }

  @Test
  void login_needsAWebDestination_andActionMustBeKnown() throws IOException {
    String token = getSigninToken(session(assumeBidder()), null).token();

    assertThat(login(token, "javascript:alert(1)").status()).isEqualTo(400);
    assertThat(login(token, "/relative").status()).isEqualTo(400);
    assertThat(get("Action=logout").status()).isEqualTo(400);
    assertThat(get("").status()).isEqualTo(400);
    // The refusals above did not spend the token.
    assertThat(login(token, CONSOLE).status()).isEqualTo(302);
  }
}
