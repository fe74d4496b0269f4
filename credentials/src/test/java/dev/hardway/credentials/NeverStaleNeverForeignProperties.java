package dev.hardway.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardway.testkit.TestClock;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.fault.HttpFault;
import dev.hardway.testkit.fault.HttpFaultResponse;
import dev.hardway.testkit.fault.HttpMatch;
import dev.hardway.testkit.sts.StsRole;
import dev.hardway.testkit.sts.StsServer;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * No sequence of clock moves, STS failures and role switches makes the imitator or the chain hand out expired
 * credentials or another role's: every document served is checked by asking the STS server (on the same clock) who
 * those credentials belong to.
 */
class NeverStaleNeverForeignProperties {
  private static final String DEV = "arn:aws:iam::000000000000:role/prop-dev";
  private static final String ADMIN = "arn:aws:iam::000000000000:role/prop-admin";
  private static final String DENIED = "arn:aws:iam::000000000000:role/prop-denied";
  private static final List<String> ROLES = List.of(DEV, ADMIN, DENIED);
  private static final Pattern EXPIRATION = Pattern.compile("\"Expiration\" : \"([^\"]+)\"");
  private static final Pattern FIELD = Pattern.compile("\"(AccessKeyId|SecretAccessKey|Token)\" : \"([^\"]+)\"");

  private static final TestClock CLOCK = TestClock.at(Instant.parse("2026-11-28T00:00:00Z"));
  private static StsServer server;
  private static FaultProxy proxy;
  private static StsClient viaProxy;

  sealed interface Step permits Advance, StsDown, StsUp, Use, Me {}

  record Advance(int seconds) implements Step {}

  record StsDown() implements Step {}

  record StsUp() implements Step {}

  record Use(int role) implements Step {}

  record Me() implements Step {}

  private static synchronized void startOnce() {
    if (server != null) {
      return;
    }
    server = StsServer.builder().clock(CLOCK).user("broker", "AKIAPROPERTY00000001", "secret")
        .role(StsRole.builder(DEV).trust(StsRole.ANYONE).build())
        .role(StsRole.builder(ADMIN).trust(StsRole.ANYONE).build())
        .role(StsRole.builder(DENIED).trust(StsRole.ANYONE).build())
        .start();
    proxy = FaultProxy.builder().target("127.0.0.1", server.port()).http(true).start();
    viaProxy = client(proxy.uri(), AwsBasicCredentials.create("AKIAPROPERTY00000001", "secret"));
  }

  private static StsClient client(URI endpoint, AwsCredentials credentials) {
    return StsClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(credentials))
        .overrideConfiguration(ClientOverrideConfiguration.builder()
            .retryStrategy(AwsRetryStrategy.doNotRetry()).build())
        .build();
  }

  @AfterContainer
  static void stopAll() {
    if (server != null) {
      viaProxy.close();
      proxy.close();
      server.close();
    }
  }

  @Provide
  Arbitrary<List<Step>> steps() {
    // Time moves most often, and STS goes down more often than it comes back, so that long outages (the
    // dangerous case) are common.
    Arbitrary<Step> step = Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.integers().between(1, 3600).map(Advance::new)),
        Tuple.of(2, Arbitraries.just(new StsDown())),
        Tuple.of(1, Arbitraries.just(new StsUp())),
        Tuple.of(2, Arbitraries.integers().between(0, 2).map(Use::new)),
        Tuple.of(1, Arbitraries.just(new Me())));
    return step.list().ofMinSize(1).ofMaxSize(12);
  }

  @Property(tries = 60)
  void imitatorAndChain_neverServeExpiredOrForeignCredentials(@ForAll("steps") List<Step> steps)
      throws Exception {
    startOnce();
    proxy.clearFaults();
    try (RoleBroker broker = RoleBroker.builder().sts(viaProxy).user("prop").clock(CLOCK).executor(Runnable::run)
            .backgroundRefresh(false)
            .policy(StaticRolePolicy.builder().grant("prop", DEV).grant("prop", ADMIN).defaultRole("prop", DEV)
                .build())
            .build();
        MetadataServer imds = MetadataServer.builder().broker(broker).clock(CLOCK).build();
        HardwayCredentialsProvider chain = HardwayCredentialsProvider.builder().clock(CLOCK)
            .backgroundRefresh(false).source("broker", broker.credentialsProvider()).build()) {
      for (Step step : steps) {
        apply(step, broker, chain);
        checkImitator(imds, broker);
        checkChain(chain);
      }
    } finally {
      proxy.clearFaults();
    }
  }

  private static void apply(Step step, RoleBroker broker, HardwayCredentialsProvider chain) {
    switch (step) {
      case Advance a -> {
        // Time passes as it does for the real background threads: they wake every second.
        for (int i = 0; i < a.seconds(); i++) {
          CLOCK.advance(Duration.ofSeconds(1));
          broker.refreshDue();
          chain.refreshDue();
        }
      }
      case StsDown d -> proxy.addHttpFault(HttpFault.when(HttpMatch.any())
          .respond(HttpFaultResponse.serviceUnavailable()));
      case StsUp u -> proxy.clearFaults();
      case Use u -> {
        try {
          broker.use(ROLES.get(u.role()));
        } catch (CredentialsException refusedOrUnavailable) {
          // A refusal or an STS failure leaves the current role; the checks below hold either way.
        }
      }
      case Me m -> {
        try {
          broker.me();
        } catch (CredentialsException unavailable) {
          // As above.
        }
      }
    }
  }

  private static void checkImitator(MetadataServer imds, RoleBroker broker) throws Exception {
    int port = imds.port();
    RawHttp.Response list = RawHttp.send(port, RawHttp.get(port, "/latest/meta-data/iam/security-credentials/"));
    assertThat(list.status()).isEqualTo(200);
    String current = broker.currentRole();
    assertThat(current).isNotEqualTo(DENIED);
    RawHttp.Response doc = RawHttp.send(port, RawHttp.get(port,
        "/latest/meta-data/iam/security-credentials/" + list.body()));
    if (doc.status() != 200) {
      assertThat(doc.status()).isIn(500, 503);
      return;
    }
    Matcher e = EXPIRATION.matcher(doc.body());
    assertThat(e.find()).isTrue();
    assertThat(Instant.parse(e.group(1))).as("served expiration").isAfter(CLOCK.instant());
    String[] f = new String[3];
    Matcher m = FIELD.matcher(doc.body());
    while (m.find()) {
      f[switch (m.group(1)) {
        case "AccessKeyId" -> 0;
        case "SecretAccessKey" -> 1;
        default -> 2;
      }] = m.group(2);
    }
    assertThat(owner(AwsSessionCredentials.create(f[0], f[1], f[2]))).isEqualTo(list.body());
    assertThat(list.body()).isEqualTo(current.substring(current.lastIndexOf('/') + 1));
  }

  private static void checkChain(HardwayCredentialsProvider chain) {
    AwsCredentials c;
    try {
      c = chain.resolveCredentials();
    } catch (SdkException none) {
      return;
    }
    assertThat(c.expirationTime()).isPresent();
    assertThat(c.expirationTime().get()).as("chain expiration").isAfter(CLOCK.instant());
    assertThat(owner(c)).isIn("prop-dev", "prop-admin");
  }

  /** The role these credentials belong to, by STS's own account of them. */
  private static String owner(AwsCredentials c) {
    try (StsClient direct = client(URI.create("http://127.0.0.1:" + server.port()), c)) {
      String arn = direct.getCallerIdentity().arn();
      String[] parts = arn.split("/");
      return parts[1];
    }
  }
}
