package dev.hardway.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.sts.StsClient;

/** The stack itself: start, failures, endpoints, environment, close. Uses its own stacks, not the shared one. */
class LocalAwsStackTest {

  @Test
  void start_runsTheRequestedServices_andEnsureStartedAddsMore() {
    try (LocalAws aws = LocalAws.start(Service.STS)) {
      assertThat(aws.services()).containsExactly(Service.STS);
      assertThat(aws.sts().getCallerIdentity().arn())
          .isEqualTo("arn:aws:iam::" + LocalAws.ACCOUNT_ID + ":user/" + LocalAws.USER_NAME);

      aws.ensureStarted(Service.LDAP, Service.STS);

      assertThat(aws.services()).containsExactly(Service.STS, Service.LDAP);
      assertThat(aws.endpoint(Service.LDAP).getScheme()).isEqualTo("ldap");
      assertThat(aws.startTimes()).containsKeys(Service.STS, Service.LDAP);
    }
  }

  @Test
  void defaultRole_canBeAssumedWithTheStackCredentials() {
    try (LocalAws aws = LocalAws.start(Service.STS)) {
      var role = aws.sts().assumeRole(b -> b.roleArn("arn:aws:iam::" + LocalAws.ACCOUNT_ID + ":role/"
          + LocalAws.DEFAULT_ROLE_NAME).roleSessionName("test"));

      assertThat(role.assumedRoleUser().arn()).endsWith(":assumed-role/" + LocalAws.DEFAULT_ROLE_NAME + "/test");
    }
  }

  @Test
  void s3_acceptsSessionsIssuedBySts_andRefusesForgedOrExpiredOnes() {
    TestClock clock = TestClock.ofNow();
    try (LocalAws aws = LocalAws.builder().services(Service.S3, Service.STS).clock(clock).start()) {
      var c = aws.sts().assumeRole(b -> b.roleArn("arn:aws:iam::" + LocalAws.ACCOUNT_ID + ":role/"
          + LocalAws.DEFAULT_ROLE_NAME).roleSessionName("s3").durationSeconds(900)).credentials();
      var session = AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
      try (S3Client s3 = aws.configure(S3Client.builder())
              .credentialsProvider(StaticCredentialsProvider.create(session)).build();
          S3Client forged = aws.configure(S3Client.builder()).credentialsProvider(StaticCredentialsProvider.create(
              AwsSessionCredentials.create(c.accessKeyId(), "not-the-secret", c.sessionToken()))).build()) {
        s3.createBucket(b -> b.bucket("with-a-session"));
        s3.putObject(b -> b.bucket("with-a-session").key("k"), RequestBody.fromString("v"));
        assertThat(s3.getObjectAsBytes(b -> b.bucket("with-a-session").key("k")).asUtf8String()).isEqualTo("v");
        assertThatThrownBy(() -> forged.listObjectsV2(b -> b.bucket("with-a-session")))
            .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(403));

        clock.advance(Duration.ofMinutes(16));
        assertThat(aws.stsServer().sessionSecret(c.accessKeyId())).isNull();
        assertThatThrownBy(() -> s3.listObjectsV2(b -> b.bucket("with-a-session")))
            .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(403));
      }
    }
  }

  @Test
  void serviceNotRunning_isAnErrorNamingIt() {
    try (LocalAws aws = LocalAws.start(Service.STS)) {
      assertThatThrownBy(() -> aws.endpoint(Service.S3))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("S3 is not running")
          .hasMessageContaining("ensureStarted(Service.S3)");
    }
  }

  @Test
  void aServiceThatCannotStart_failsTheStart_andStopsTheOthers() throws IOException {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int busy = taken.getLocalPort();
      int stsPort = dev.hardway.testkit.internal.Ports.pickFree("127.0.0.1");

      assertThatThrownBy(() -> LocalAws.builder().services(Service.LDAP, Service.STS)
          .port(Service.LDAP, busy).port(Service.STS, stsPort).start())
          .isInstanceOf(LocalAwsException.class)
          .hasMessageContaining("could not start ldap")
          .hasMessageContaining(Integer.toString(busy));

      // STS did start, and was stopped again: nothing listens on its port any more.
      assertThatThrownBy(() -> {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", stsPort), 500);
        }
      }).isInstanceOf(IOException.class);
    }
  }

  @Test
  void environment_pointsTheCliAndSdksHere() {
    try (LocalAws aws = LocalAws.start(Service.STS, Service.LDAP)) {
      assertThat(aws.environment())
          .containsEntry("AWS_ACCESS_KEY_ID", LocalAws.DEFAULT_ACCESS_KEY_ID)
          .containsEntry("AWS_REGION", LocalAws.DEFAULT_REGION)
          .containsEntry("AWS_ENDPOINT_URL_STS", aws.endpoint(Service.STS).toString())
          .containsEntry("HARDWAY_LDAP_URL", aws.endpoint(Service.LDAP).toString())
          .doesNotContainKey("AWS_ENDPOINT_URL_S3");
    }
  }

  @Test
  void configure_pointsYourOwnClientHere() {
    try (LocalAws aws = LocalAws.start(Service.STS);
        StsClient mine = aws.configure(StsClient.builder()).build()) {
      assertThat(mine.getCallerIdentity().account()).isEqualTo(LocalAws.ACCOUNT_ID);
    }
  }

  @Test
  void close_isIdempotent_andStopsEverything() {
    LocalAws aws = LocalAws.start(Service.STS);
    int port = aws.port(Service.STS);
    aws.sts();

    aws.close();
    aws.close();

    assertThat(aws.isRunning(Service.STS)).isFalse();
    assertThatThrownBy(aws::sts).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThatThrownBy(() -> aws.ensureStarted(Service.STS)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      }
    }).isInstanceOf(IOException.class);
  }

  @Test
  void builder_refusesBadValues_namingThem() {
    assertThatThrownBy(() -> LocalAws.builder().region("mars"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'mars'");
    assertThatThrownBy(() -> LocalAws.builder().port(Service.S3, 70_000))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("s3").hasMessageContaining("70000");
    assertThatThrownBy(() -> LocalAws.builder().credentials("short", "x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'short'");
    assertThatThrownBy(() -> LocalAws.builder().kinesisOperationDelay(Duration.ofMinutes(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT1M");
    assertThatThrownBy(() -> LocalAws.builder().startTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT0S");
  }
}
