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
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.services.sts.StsClient;

/** The broker against the test kit's STS server, with faults injected by its proxy. */
@LocalAwsTest(Service.STS)
class RoleBrokerTest {
  private final TestClock clock = TestClock.at(Instant.now());
  private LocalAws aws;
  private FaultProxy faults;
  private StsClient sts;
  private String developer;
  private String admin;
  private final List<RoleBroker> brokers = new ArrayList<>();

  @BeforeEach
  void start(LocalAws aws) {
    this.aws = aws;
    faults = aws.faults(Service.STS);
    // No SDK retries: each broker attempt is one request, so the counts below are exact.
    sts = aws.configure(StsClient.builder(), faults.uri())
        .overrideConfiguration(ClientOverrideConfiguration.builder()
            .retryStrategy(AwsRetryStrategy.doNotRetry()).build())
        .build();
    developer = Roles.create(aws, "developer");
    admin = Roles.create(aws, "admin");
  }

  @AfterEach
  void stop() {
    brokers.forEach(RoleBroker::close);
    sts.close();
  }

  private RoleBroker.Builder deterministic(RolePolicy policy) {
    return RoleBroker.builder().sts(sts).user("alice").policy(policy).clock(clock).executor(Runnable::run)
        .backgroundRefresh(false);
  }

  private RoleBroker track(RoleBroker b) {
    brokers.add(b);
    return b;
  }

  private RolePolicy both() {
    return StaticRolePolicy.builder().grant("alice", developer).grant("alice", admin)
        .defaultRole("alice", developer).build();
  }

  @Test
  void credentials_hundredConcurrentCallersOnAColdRole_makeOneStsCall() throws Exception {
    long issuedBefore = aws.stsServer().stats().credentialsIssued();
    RoleBroker broker = track(RoleBroker.builder().sts(sts).user("alice").policy(both()).build());
    // Slow STS down so that every caller arrives while the one fetch is in flight.
    faults.addHttpFault(HttpFault.when(HttpMatch.method("POST")).delay(Duration.ofMillis(300)).times(1));
    ExecutorService pool = Executors.newFixedThreadPool(100);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<RoleCredentials>> results = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      results.add(pool.submit(() -> {
        go.await();
        return broker.credentials(admin);
      }));
    }
    go.countDown();
    RoleCredentials first = results.get(0).get();
    for (Future<RoleCredentials> f : results) {
      assertThat(f.get().accessKeyId()).isEqualTo(first.accessKeyId());
    }
    pool.shutdown();
    assertThat(broker.status().stsCalls()).isEqualTo(1);
    assertThat(aws.stsServer().stats().credentialsIssued() - issuedBefore).isEqualTo(1);
  }

  @Test
  void credentials_whenStsFails_keepServingStillValidOnes_thenRefuseOnceNearExpiry_thenRecover() {
    // A server of its own on the test clock, so that STS and the broker agree on the time while it moves.
    try (StsServer server = StsServer.builder().clock(clock).user("broker", "AKIABROKER0000000001", "secret")
            .role(StsRole.builder(developer).trust(StsRole.ANYONE).build()).start();
        FaultProxy proxy = FaultProxy.builder().target("127.0.0.1", server.port()).http(true).start();
        StsClient own = StsClient.builder().endpointOverride(proxy.uri()).region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(
                AwsBasicCredentials.create("AKIABROKER0000000001", "secret")))
            .overrideConfiguration(ClientOverrideConfiguration.builder()
                .retryStrategy(AwsRetryStrategy.doNotRetry()).build())
            .build()) {
      RoleBroker broker = track(deterministic(both()).sts(own).build());
      RoleCredentials first = broker.currentCredentials();
      proxy.addHttpFault(HttpFault.when(HttpMatch.any()).respond(HttpFaultResponse.internalError()));
      clock.advance(Duration.ofMinutes(46)); // past any refresh point (50-75 % of the hour)
      broker.refreshDue();
      assertThat(broker.status().roles().get(0).consecutiveFailures()).isEqualTo(1);
      assertThat(broker.currentCredentials()).isEqualTo(first);
      clock.advance(Duration.ofMinutes(13)); // 59 min: within the 60 s minimum validity
      assertThatThrownBy(broker::currentCredentials)
          .isInstanceOf(CredentialsException.class)
          .satisfies(e -> assertThat(((CredentialsException) e).retryable()).isTrue())
          .hasMessageContaining(developer)
          .hasMessageNotContaining(first.secretAccessKey());
      proxy.clearFaults();
      clock.advance(Duration.ofMinutes(2));
      RoleCredentials next = broker.currentCredentials();
      assertThat(next.accessKeyId()).isNotEqualTo(first.accessKeyId());
      assertThat(next.expiration()).isAfter(clock.instant().plusSeconds(60));
    }
  }

  @Test
  void credentials_afterAFailure_backOffInsteadOfHammeringSts() {
    RoleBroker broker = track(deterministic(both()).retryBackoff(Duration.ofSeconds(10), Duration.ofMinutes(1))
        .build());
    HttpFault throttle = faults.addHttpFault(HttpFault.when(HttpMatch.any())
        .respond(HttpFaultResponse.stsThrottling()));
    assertThatThrownBy(broker::currentCredentials).isInstanceOf(CredentialsException.class)
        .hasMessageContaining("Throttling");
    for (int i = 0; i < 10; i++) {
      assertThatThrownBy(broker::currentCredentials).hasMessageContaining("next attempt at");
    }
    assertThat(throttle.matched()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(11));
    faults.clearFaults();
    assertThat(broker.currentCredentials().roleArn()).isEqualTo(developer);
  }

  @Test
  void credentials_thatStsReturnsAlreadyPast_areNeverServed() {
    clock.advance(Duration.ofHours(2)); // the broker's clock runs ahead of STS's
    RoleBroker broker = track(deterministic(both()).build());
    assertThatThrownBy(broker::currentCredentials).isInstanceOf(CredentialsException.class)
        .hasMessageContaining("is a clock off?");
  }

  @Test
  void use_aRoleTheUserLost_isRefusedAtTheNextRefresh_andItsCredentialsAreDropped() {
    AtomicReference<RolePolicy> policy = new AtomicReference<>(both());
    RoleBroker broker = track(deterministic(u -> policy.get().rolesFor(u)).build());
    broker.use(admin);
    policy.set(StaticRolePolicy.builder().grant("alice", developer).defaultRole("alice", developer).build());
    clock.advance(Duration.ofMinutes(46));
    broker.refreshDue();
    assertThatThrownBy(broker::currentCredentials).isInstanceOf(CredentialsException.class)
        .hasMessageContaining("not authorized to assume role " + admin);
    assertThat(broker.me().roleArn()).isEqualTo(developer);
  }

  @Test
  void use_acceptsAliasesAndBareNames_andNamesWhatIsUnknown() {
    RoleBroker broker = track(deterministic(both()).accountAlias("local", "000000000000")
        .defaultAccount("000000000000").build());
    assertThat(broker.use("local/" + Roles.name(admin)).roleArn()).isEqualTo(admin);
    assertThat(broker.use(Roles.name(developer)).roleArn()).isEqualTo(developer);
    assertThat(broker.use("000000000000/" + Roles.name(admin)).roleArn()).isEqualTo(admin);
    assertThatThrownBy(() -> broker.use("prod/" + Roles.name(admin)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown account alias \"prod\"");
    assertThatThrownBy(() -> broker.use("local/bad name"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"bad name\"");
  }

  @Test
  void use_withMfa_passesTheCodeThrough_andDoesNotRefreshWithoutANewOne() {
    String mfaRole = "arn:aws:iam::000000000000:role/mfa-only-" + System.nanoTime();
    aws.stsServer().putRole(StsRole.builder(mfaRole).trust(StsRole.ANYONE).requireMfa().build());
    String serial = "arn:aws:iam::000000000000:mfa/alice-" + System.nanoTime();
    aws.stsServer().addMfaDevice(serial, "12345678901234567890".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    RoleBroker broker = track(deterministic(StaticRolePolicy.builder().grant("alice", mfaRole).build())
        .mfaSerial(serial).build());
    assertThatThrownBy(() -> broker.use(mfaRole)).isInstanceOf(CredentialsException.class)
        .hasMessageContaining("AccessDenied");
    RoleCredentials c = broker.use(mfaRole, aws.stsServer().mfaCode(serial));
    assertThat(c.roleArn()).isEqualTo(mfaRole);
    long calls = broker.status().stsCalls();
    clock.advance(Duration.ofMinutes(50));
    broker.refreshDue();
    assertThat(broker.status().stsCalls()).isEqualTo(calls);
    assertThat(broker.status().roles().get(0).mfaBound()).isTrue();
    assertThat(broker.currentCredentials()).isEqualTo(c);
    clock.advance(Duration.ofMinutes(10));
    assertThatThrownBy(broker::currentCredentials).hasMessageContaining("only a new code renews them");
  }

  @Test
  void build_withoutRequiredParts_namesWhatIsMissing() {
    assertThatThrownBy(() -> RoleBroker.builder().user("alice").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("missing: sts policy");
    assertThatThrownBy(() -> RoleBroker.builder().user("a b"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got \"a b\"");
    assertThatThrownBy(() -> RoleBroker.builder().fetchTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fetchTimeout");
  }
}
