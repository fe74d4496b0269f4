package dev.hardway.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;
import software.amazon.awssdk.services.sts.StsClient;

/** Unmodified SDK providers fetch from the imitator and sign requests the STS server verifies. */
@LocalAwsTest(Service.STS)
class SdkAgainstImitatorTest {
  private LocalAws aws;
  private String developer;
  private String admin;
  private RoleBroker broker;
  private MetadataServer imds;

  @BeforeEach
  void start(LocalAws aws) {
    this.aws = aws;
    developer = Roles.create(aws, "developer");
    admin = Roles.create(aws, "admin");
    broker = RoleBroker.builder()
        .sts(aws.sts())
        .user("alice")
        .policy(StaticRolePolicy.builder().grant("alice", developer).grant("alice", admin)
            .defaultRole("alice", developer).build())
        .build();
    imds = MetadataServer.builder().broker(broker).build();
  }

  @AfterEach
  void stop() {
    imds.close();
    broker.close();
  }

  private String callerArn(AwsCredentialsProvider provider) {
    try (StsClient sts = aws.configure(StsClient.builder()).credentialsProvider(provider).build()) {
      return sts.getCallerIdentity().arn();
    }
  }

  @Test
  void instanceProfileProvider_throughSystemProperty_signsAsTheDefaultRole() {
    System.setProperty("aws.ec2MetadataServiceEndpoint", imds.endpoint().toString());
    try (InstanceProfileCredentialsProvider sdk = InstanceProfileCredentialsProvider.create()) {
      AwsSessionCredentials c = (AwsSessionCredentials) sdk.resolveCredentials();
      assertThat(c.expirationTime()).isPresent();
      assertThat(callerArn(sdk)).isEqualTo("arn:aws:sts::000000000000:assumed-role/" + Roles.name(developer)
          + "/alice");
    } finally {
      System.clearProperty("aws.ec2MetadataServiceEndpoint");
    }
    assertThat(imds.stats().tokensIssued()).isPositive();
    assertThat(imds.stats().credentialsServed()).isPositive();
    assertThat(imds.stats().unauthorized()).isZero();
  }

  @Test
  void use_isSeenByTheNextRefreshOfARunningSdkProvider() {
    // STS sessions last at least 15 minutes; a stale time of 15 min - 1 s makes every resolve after a second a
    // refresh, which is what a long-running client does near expiry.
    try (InstanceProfileCredentialsProvider sdk = InstanceProfileCredentialsProvider.builder()
        .endpoint(imds.endpoint().toString())
        .staleTime(Duration.ofMinutes(60).minusSeconds(1))
        .asyncCredentialUpdateEnabled(false)
        .build()) {
      assertThat(callerArn(sdk)).endsWith("/" + Roles.name(developer) + "/alice");
      broker.use(admin);
      String after = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> callerArn(sdk), arn -> arn.endsWith("/" + Roles.name(admin) + "/alice"));
      assertThat(after).isEqualTo("arn:aws:sts::000000000000:assumed-role/" + Roles.name(admin) + "/alice");
    }
  }

  @Test
  void containerProvider_twoProcessesHoldTwoRolesAtOnce() throws Exception {
    ContainerSession dev = imds.openContainerSession(developer);
    ContainerSession adm = imds.openContainerSession(admin);
    Process p1 = childProcess(dev);
    Process p2 = childProcess(adm);
    assertThat(output(p1)).isEqualTo("arn:aws:sts::000000000000:assumed-role/" + Roles.name(developer) + "/alice");
    assertThat(output(p2)).isEqualTo("arn:aws:sts::000000000000:assumed-role/" + Roles.name(admin) + "/alice");
    assertThat(imds.closeContainerSession(dev)).isTrue();
    assertThat(imds.closeContainerSession(dev)).isFalse();
    assertThat(dev.toString()).doesNotContain(dev.authorizationToken());
  }

  private Process childProcess(ContainerSession session) throws java.io.IOException {
    ProcessBuilder pb = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-cp", System.getProperty("java.class.path"), CallerIdentityMain.class.getName(),
        aws.endpoint(Service.STS).toString());
    pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
    pb.environment().putAll(session.environment());
    pb.redirectErrorStream(true);
    return pb.start();
  }

  private static String output(Process p) throws Exception {
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(out).isZero();
    return out.lines().reduce((a, b) -> b).orElse("");
  }
}
