package dev.hardway.testkit.sts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardway.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;
import software.amazon.awssdk.services.sts.model.AssumeRoleResponse;
import software.amazon.awssdk.services.sts.model.Credentials;
import software.amazon.awssdk.services.sts.model.ExpiredTokenException;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;
import software.amazon.awssdk.services.sts.model.StsException;

/** The STS server through the SDK's own {@code StsClient}: every request below is SigV4-signed and checked. */
class StsServerTest {

  private static final String ACCOUNT = "000000000000";
  private static final String ALICE_KEY = "AKIAALICE00000000001";
  private static final String ALICE_SECRET = "alice-secret-access-key";
  private static final String ALICE_ARN = "arn:aws:iam::" + ACCOUNT + ":user/alice";
  private static final String BIDDER = "arn:aws:iam::" + ACCOUNT + ":role/bidder";
  private static final String MFA_SERIAL = "arn:aws:iam::" + ACCOUNT + ":mfa/alice";
  private static final byte[] MFA_SECRET = "twenty-byte-mfa-key!".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final TestClock clock = TestClock.at(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private StsServer sts;

  @BeforeEach
  void start() {
    sts = StsServer.builder()
        .clock(clock)
        .user("alice", ALICE_KEY, ALICE_SECRET)
        .user("bob", "AKIABOB0000000000001", "bob-secret")
        .role(StsRole.builder(BIDDER).trust(ALICE_ARN).maxSessionDuration(Duration.ofHours(4)).build())
        .mfaDevice(MFA_SERIAL, MFA_SECRET)
        .start();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    sts.close();
  }

  private StsClient client(AwsCredentialsProvider credentials) {
    StsClient client = StsClient.builder()
        .endpointOverride(sts.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(credentials)
        .httpClient(Apache5HttpClient.create())
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
    toClose.add(client);
    return client;
  }

  private StsClient alice() {
    return client(StaticCredentialsProvider.create(AwsBasicCredentials.create(ALICE_KEY, ALICE_SECRET)));
  }

  private static StaticCredentialsProvider session(Credentials c) {
    return StaticCredentialsProvider.create(
        AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken()));
  }

  @Test
  void getCallerIdentity_forUser_returnsUserArnAndAccount() {
    GetCallerIdentityResponse id = alice().getCallerIdentity();

    assertThat(id.arn()).isEqualTo(ALICE_ARN);
    assertThat(id.account()).isEqualTo(ACCOUNT);
    assertThat(id.userId()).startsWith("AIDA").hasSize(21);
  }

  @Test
  void assumeRole_whenTrusted_issuesWorkingSessionCredentials() {
    AssumeRoleResponse r = alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice").durationSeconds(900));

    Credentials c = r.credentials();
    assertThat(c.accessKeyId()).startsWith("ASIA").hasSize(20);
    assertThat(c.expiration()).isEqualTo(clock.instant().plusSeconds(900));
    assertThat(r.assumedRoleUser().arn()).isEqualTo("arn:aws:sts::" + ACCOUNT + ":assumed-role/bidder/alice");
    assertThat(r.assumedRoleUser().assumedRoleId()).startsWith("AROA").endsWith(":alice");

    // A call signed with the issued credentials proves they work: the server verifies that signature.
    GetCallerIdentityResponse asRole = client(session(c)).getCallerIdentity();
    assertThat(asRole.arn()).isEqualTo(r.assumedRoleUser().arn());
    assertThat(asRole.userId()).isEqualTo(r.assumedRoleUser().assumedRoleId());
    assertThat(sts.stats().credentialsIssued()).isEqualTo(1);
  }

  @Test
  void assumeRole_throughSdkCredentialsProvider_resolvesAndSigns() {
    try (StsAssumeRoleCredentialsProvider provider = StsAssumeRoleCredentialsProvider.builder()
        .stsClient(alice())
        .refreshRequest(b -> b.roleArn(BIDDER).roleSessionName("provider"))
        .build()) {
      AwsCredentials resolved = provider.resolveCredentials();

      assertThat(resolved).isInstanceOf(AwsSessionCredentials.class);
      assertThat(client(provider).getCallerIdentity().arn()).endsWith(":assumed-role/bidder/provider");
    }
  }

  @Test
  void assumeRole_whenNotTrusted_isDeniedWithAwsMessage() {
    StsClient bob = client(StaticCredentialsProvider.create(
        AwsBasicCredentials.create("AKIABOB0000000000001", "bob-secret")));

    assertThatThrownBy(() -> bob.assumeRole(b -> b.roleArn(BIDDER).roleSessionName("bob")))
        .isInstanceOfSatisfying(StsException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(403);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
          assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("User: arn:aws:iam::" + ACCOUNT
              + ":user/bob is not authorized to perform: sts:AssumeRole on resource: " + BIDDER);
        });
    assertThat(sts.stats().accessDenied()).isEqualTo(1);
  }

  @Test
  void assumeRole_whenRoleUnknown_isDenied() {
    assertThatThrownBy(() -> alice().assumeRole(b -> b.roleArn("arn:aws:iam::" + ACCOUNT + ":role/nope")
        .roleSessionName("alice")))
        .isInstanceOfSatisfying(StsException.class,
            e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied"));
  }

  @Test
  void expiredSessionCredentials_areRefusedWithExpiredToken() {
    Credentials c = alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice").durationSeconds(900))
        .credentials();
    StsClient asRole = client(session(c));
    assertThat(asRole.getCallerIdentity().arn()).contains("assumed-role");

    clock.advance(Duration.ofSeconds(900));

    assertThatThrownBy(asRole::getCallerIdentity)
        .isInstanceOfSatisfying(StsException.class, e -> {
          // STS answers "ExpiredToken", not the modelled ExpiredTokenException (that one is for web identity tokens).
          assertThat(e).isNotInstanceOf(ExpiredTokenException.class);
          assertThat(e.statusCode()).isEqualTo(400);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ExpiredToken");
          assertThat(e.awsErrorDetails().errorMessage())
              .isEqualTo("The security token included in the request is expired");
        });
  }

  @Test
  void durationSeconds_outsideBounds_isAValidationError() {
    assertThatThrownBy(() -> alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("a1").durationSeconds(899)))
        .isInstanceOfSatisfying(StsException.class, e -> {
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ValidationError");
          assertThat(e.awsErrorDetails().errorMessage()).contains("'899'").contains("greater than or equal to 900");
        });
    assertThatThrownBy(() -> alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("a1")
        .durationSeconds(4 * 3600 + 1)))
        .isInstanceOfSatisfying(StsException.class, e -> assertThat(e.awsErrorDetails().errorMessage())
            .isEqualTo("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
  }

  @Test
  void roleChaining_isCappedAtOneHour() {
    sts.putRole(StsRole.builder("arn:aws:iam::" + ACCOUNT + ":role/reader").trust(BIDDER)
        .maxSessionDuration(Duration.ofHours(12)).build());
    Credentials first = alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice")).credentials();
    StsClient asBidder = client(session(first));

    assertThatThrownBy(() -> asBidder.assumeRole(b -> b.roleArn("arn:aws:iam::" + ACCOUNT + ":role/reader")
        .roleSessionName("chain").durationSeconds(3601)))
        .isInstanceOfSatisfying(StsException.class, e -> assertThat(e.awsErrorDetails().errorMessage())
            .isEqualTo("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role"
                + " chaining."));
    assertThat(asBidder.assumeRole(b -> b.roleArn("arn:aws:iam::" + ACCOUNT + ":role/reader")
        .roleSessionName("chain").durationSeconds(3600)).assumedRoleUser().arn())
        .endsWith(":assumed-role/reader/chain");
  }

  @Test
  void roleRequiringMfa_needsAValidCode() {
    sts.putRole(StsRole.builder(BIDDER).trust(ALICE_ARN).requireMfa().build());

    assertThatThrownBy(() -> alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice")))
        .isInstanceOfSatisfying(StsException.class,
            e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied"));
    String wrong = sts.mfaCode(MFA_SERIAL).equals("000000") ? "111111" : "000000";
    assertThatThrownBy(() -> alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice")
        .serialNumber(MFA_SERIAL).tokenCode(wrong)))
        .isInstanceOfSatisfying(StsException.class, e -> assertThat(e.awsErrorDetails().errorMessage())
            .startsWith("MultiFactorAuthentication failed with invalid MFA one time pass code."));

    AssumeRoleResponse ok = alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice")
        .serialNumber(MFA_SERIAL).tokenCode(sts.mfaCode(MFA_SERIAL)));
    assertThat(ok.credentials().accessKeyId()).startsWith("ASIA");
  }

  @Test
  void externalId_mustMatch() {
    sts.putRole(StsRole.builder(BIDDER).trust(ALICE_ARN).externalId("partner-42").build());

    assertThatThrownBy(() -> alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice").externalId("x1")))
        .isInstanceOf(StsException.class);
    assertThat(alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice").externalId("partner-42"))
        .credentials()).isNotNull();
  }

  @Test
  void getSessionToken_forUser_issuesCredentials_butNotForSessions() {
    Credentials c = alice().getSessionToken(b -> b.durationSeconds(900)).credentials();
    StsClient asSession = client(session(c));

    assertThat(asSession.getCallerIdentity().arn()).isEqualTo(ALICE_ARN);
    assertThatThrownBy(() -> asSession.getSessionToken())
        .isInstanceOfSatisfying(StsException.class, e -> assertThat(e.awsErrorDetails().errorMessage())
            .isEqualTo("Cannot call GetSessionToken with session credentials"));
    // A GetSessionToken session acts as its user, so alice's trust applies and this is not role chaining.
    assertThat(asSession.assumeRole(b -> b.roleArn(BIDDER).roleSessionName("s1").durationSeconds(7200))
        .credentials()).isNotNull();
  }

  @Test
  void wrongSecret_isSignatureDoesNotMatch() {
    StsClient forged = client(StaticCredentialsProvider.create(AwsBasicCredentials.create(ALICE_KEY, "not-it")));

    assertThatThrownBy(forged::getCallerIdentity)
        .isInstanceOfSatisfying(StsException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(403);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("SignatureDoesNotMatch");
        });
    assertThat(sts.stats().authenticationFailures()).isEqualTo(1);
  }

  @Test
  void unknownAccessKey_isInvalidClientTokenId() {
    StsClient stranger = client(StaticCredentialsProvider.create(
        AwsBasicCredentials.create("AKIANOBODY0000000001", "whatever")));

    assertThatThrownBy(stranger::getCallerIdentity)
        .isInstanceOfSatisfying(StsException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(403);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidClientTokenId");
          assertThat(e.awsErrorDetails().errorMessage())
              .isEqualTo("The security token included in the request is invalid.");
        });
  }

  @Test
  void sessionKeyWithWrongToken_isInvalidClientTokenId() {
    Credentials c = alice().assumeRole(b -> b.roleArn(BIDDER).roleSessionName("alice")).credentials();
    StsClient tampered = client(StaticCredentialsProvider.create(
        AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken() + "x")));

    assertThatThrownBy(tampered::getCallerIdentity)
        .isInstanceOfSatisfying(StsException.class,
            e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidClientTokenId"));
  }

  @Test
  void requestsBeyondTheRate_areThrottled() {
    try (StsServer limited = StsServer.builder().user("alice", ALICE_KEY, ALICE_SECRET).maxRequestsPerSecond(2)
        .start()) {
      StsClient client = StsClient.builder()
          .endpointOverride(limited.endpoint())
          .region(Region.US_EAST_1)
          .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ALICE_KEY, ALICE_SECRET)))
          .httpClient(Apache5HttpClient.create())
          .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
          .build();
      toClose.add(client);
      List<String> codes = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        try {
          client.getCallerIdentity();
          codes.add("ok");
        } catch (StsException e) {
          codes.add(e.awsErrorDetails().errorCode());
        }
      }

      // The bucket holds two requests; ten calls in far less than the seconds it takes to refill get throttled.
      assertThat(codes).contains("Throttling");
      assertThat(limited.stats().throttled()).isEqualTo(codes.stream().filter("Throttling"::equals).count());
    }
  }

  @Test
  void builder_refusesBadValues_namingThem() {
    assertThatThrownBy(() -> StsServer.builder().accountId("123"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'123'");
    assertThatThrownBy(() -> StsRole.builder("arn:aws:iam::0:role/x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("arn:aws:iam::0:role/x");
    assertThatThrownBy(() -> StsRole.builder(BIDDER).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("trusts nobody");
    assertThatThrownBy(() -> StsRole.builder(BIDDER).maxSessionDuration(Duration.ofHours(13)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT13H");
    assertThatThrownBy(() -> sts.addUser("carol", "lowercase-key", "s"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lowercase-key");
  }
}
