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
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ContainerCredentialsProvider;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;

/** The chain over real SDK sources: the imitator, static keys, sources that fail. */
@LocalAwsTest(Service.STS)
class HardwayCredentialsProviderTest {

  @Test
  void chain_overTheImitator_signsAsTheRole(LocalAws aws) {
    String role = Roles.create(aws, "chain");
    try (RoleBroker broker = RoleBroker.builder().sts(aws.sts()).user("bob")
            .policy(StaticRolePolicy.builder().grant("bob", role).defaultRole("bob", role).build()).build();
        MetadataServer imds = MetadataServer.builder().broker(broker).build();
        HardwayCredentialsProvider chain = HardwayCredentialsProvider.builder()
            .source("system properties", SystemPropertyCredentialsProvider.create())
            .source("instance metadata", InstanceProfileCredentialsProvider.builder()
                .endpoint(imds.endpoint().toString()).build())
            .build();
        StsClient sts = aws.configure(StsClient.builder()).credentialsProvider(chain).build()) {
      assertThat(sts.getCallerIdentity().arn()).isEqualTo("arn:aws:sts::000000000000:assumed-role/"
          + Roles.name(role) + "/bob");
      assertThat(chain.resolveCredentials()).isSameAs(chain.resolveCredentials());
      ChainStats stats = chain.stats();
      assertThat(stats.source()).isEqualTo("instance metadata");
      assertThat(stats.expiration()).isAfter(Instant.now().plusSeconds(600));
      assertThat(stats.refreshes()).isEqualTo(1);
    }
  }

  @Test
  void chain_takesTheFirstSourceThatWorks() {
    AwsBasicCredentials keys = AwsBasicCredentials.create("AKIAFIRSTWORKING0001", "secret");
    try (HardwayCredentialsProvider chain = HardwayCredentialsProvider.builder().backgroundRefresh(false)
        .source("system properties", SystemPropertyCredentialsProvider.create())
        .source("static", StaticCredentialsProvider.create(keys))
        .source("never asked", StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIANEVER", "x")))
        .build()) {
      assertThat(chain.resolveCredentials().accessKeyId()).isEqualTo("AKIAFIRSTWORKING0001");
      assertThat(chain.stats().source()).isEqualTo("static");
      assertThat(chain.stats().expiration()).isNull();
    }
  }

  @Test
  void chain_whenNothingWorks_listsWhatEverySourceSaid_andBacksOff() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    TestClock clock = TestClock.at(Instant.now());
    try (HardwayCredentialsProvider chain = HardwayCredentialsProvider.builder().backgroundRefresh(false)
        .clock(clock)
        .source("system properties", SystemPropertyCredentialsProvider.create())
        .source("container", ContainerCredentialsProvider.create())
        .source("instance metadata", InstanceProfileCredentialsProvider.builder()
            .endpoint("http://127.0.0.1:" + closedPort).build())
        .build()) {
      assertThatThrownBy(chain::resolveCredentials)
          .isInstanceOf(SdkClientException.class)
          .hasMessageContaining("system properties: ")
          .hasMessageContaining("container: ")
          .hasMessageContaining("instance metadata: ");
      assertThatThrownBy(chain::resolveCredentials).hasMessageContaining("next attempt at");
      assertThat(chain.stats().failures()).isEqualTo(1);
      assertThat(chain.stats().lastError()).contains("instance metadata");
    }
  }

  @Test
  void chain_refreshesAheadOfExpiry_survivesStsFailing_andWithdrawsCredentialsBeforeTheyExpire() {
    TestClock clock = TestClock.at(Instant.now());
    String role = "arn:aws:iam::000000000000:role/refreshing";
    try (StsServer server = StsServer.builder().clock(clock).user("broker", "AKIABROKER0000000002", "secret")
            .role(StsRole.builder(role).trust(StsRole.ANYONE).build()).start();
        FaultProxy proxy = FaultProxy.builder().target("127.0.0.1", server.port()).http(true).start();
        StsClient sts = StsClient.builder().endpointOverride(proxy.uri()).region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(
                AwsBasicCredentials.create("AKIABROKER0000000002", "secret")))
            .overrideConfiguration(ClientOverrideConfiguration.builder()
                .retryStrategy(AwsRetryStrategy.doNotRetry()).build())
            .build();
        RoleBroker broker = RoleBroker.builder().sts(sts).user("carol").clock(clock).executor(Runnable::run)
            .backgroundRefresh(false)
            .policy(StaticRolePolicy.builder().grant("carol", role).defaultRole("carol", role).build()).build();
        HardwayCredentialsProvider chain = HardwayCredentialsProvider.builder().backgroundRefresh(false)
            .clock(clock).source("broker", broker.credentialsProvider()).build()) {
      AwsCredentials first = chain.resolveCredentials();
      Instant firstExpiry = first.expirationTime().orElseThrow();
      // Due for refresh by 75 % of the life at the latest; the broker refreshes first (also by 75 %).
      clock.advance(Duration.ofMinutes(46));
      broker.refreshDue();
      chain.refreshDue();
      AwsCredentials second = chain.resolveCredentials();
      assertThat(second.accessKeyId()).isNotEqualTo(first.accessKeyId());
      Instant secondExpiry = second.expirationTime().orElseThrow();
      assertThat(secondExpiry).isAfter(firstExpiry);

      HttpFault down = proxy.addHttpFault(HttpFault.when(HttpMatch.any())
          .respond(HttpFaultResponse.serviceUnavailable()));
      clock.advance(Duration.between(clock.instant(), secondExpiry).minusSeconds(70));
      broker.refreshDue();
      chain.refreshDue();
      assertThat(chain.resolveCredentials()).isEqualTo(second);
      clock.advance(Duration.ofSeconds(60)); // 10 s left: inside the 15 s margin
      chain.refreshDue();
      assertThatThrownBy(chain::resolveCredentials).isInstanceOf(SdkClientException.class)
          .hasMessageContaining("broker: ");
      assertThat(down.matched()).isPositive();
      assertThat(chain.stats().failures()).isPositive();
    }
  }

  @Test
  void maxRefreshInterval_letsRunningClientsFollowARoleSwitchWithinIt() {
    TestClock clock = TestClock.at(Instant.now());
    String first = "arn:aws:iam::000000000000:role/first";
    String second = "arn:aws:iam::000000000000:role/second";
    try (StsServer server = StsServer.builder().clock(clock).user("broker", "AKIABROKER0000000003", "secret")
            .role(StsRole.builder(first).trust(StsRole.ANYONE).build())
            .role(StsRole.builder(second).trust(StsRole.ANYONE).build()).start();
        StsClient sts = StsClient.builder().endpointOverride(server.endpoint()).region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(
                AwsBasicCredentials.create("AKIABROKER0000000003", "secret"))).build();
        RoleBroker broker = RoleBroker.builder().sts(sts).user("dave").clock(clock).executor(Runnable::run)
            .backgroundRefresh(false).policy(StaticRolePolicy.builder().grant("dave", first).grant("dave", second)
                .defaultRole("dave", first).build()).build();
        HardwayCredentialsProvider chain = HardwayCredentialsProvider.builder().backgroundRefresh(false)
            .clock(clock).source("broker", broker.credentialsProvider())
            .maxRefreshInterval(Duration.ofSeconds(10)).build()) {
      AwsCredentials before = chain.resolveCredentials();
      broker.use(second);
      clock.advance(Duration.ofSeconds(9));
      chain.refreshDue();
      assertThat(chain.resolveCredentials()).isEqualTo(before);
      clock.advance(Duration.ofSeconds(2));
      chain.refreshDue();
      AwsCredentials after = chain.resolveCredentials();
      assertThat(after.accessKeyId()).isNotEqualTo(before.accessKeyId());
      try (StsClient app = StsClient.builder().endpointOverride(server.endpoint()).region(Region.US_EAST_1)
          .credentialsProvider(StaticCredentialsProvider.create(after)).build()) {
        assertThat(app.getCallerIdentity().arn()).contains(":assumed-role/second/");
      }
    }
    assertThatThrownBy(() -> HardwayCredentialsProvider.builder().maxRefreshInterval(Duration.ofMillis(10)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRefreshInterval");
  }

  @Test
  void build_refusesATickNoShorterThanTheMargin_andBadValuesNameThemselves() {
    assertThatThrownBy(() -> HardwayCredentialsProvider.builder().refreshTick(Duration.ofSeconds(20)).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("refreshTick (PT20S)");
    assertThatThrownBy(() -> HardwayCredentialsProvider.builder().expiryMargin(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expiryMargin").hasMessageContaining("PT0S");
    AwsCredentialsProvider p = StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIAX", "y"));
    assertThatThrownBy(() -> HardwayCredentialsProvider.builder().source("a", p).source("a", p))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"a\"");
  }
}
