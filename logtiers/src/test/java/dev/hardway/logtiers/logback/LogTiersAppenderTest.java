package dev.hardway.logtiers.logback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.status.Status;
import dev.hardway.logtiers.LogRecords;
import dev.hardway.logtiers.LogTiers;
import dev.hardway.logtiers.ObjectKeys;
import dev.hardway.logtiers.S3Tier;
import dev.hardway.logtiers.Tier;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.junit.Fresh;
import dev.hardway.testkit.junit.LocalAwsTest;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MarkerFactory;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** Logback events routed by logger and marker into the mid tier, configured from XML as a team would. */
@LocalAwsTest({Service.S3})
class LogTiersAppenderTest {
  private static final String CONFIG = """
      <configuration>
        <appender name="TIERS" class="dev.hardway.logtiers.logback.LogTiersAppender">
          <instance>appender-test</instance>
          <route><marker>AUDIT</marker><type>audit</type></route>
          <route><logger>com.acme.auction</logger><type>auction</type></route>
          <encoder><pattern>%level|%logger|%msg</pattern></encoder>
        </appender>
        <root level="INFO"><appender-ref ref="TIERS"/></root>
      </configuration>
      """;

  @TempDir Path journal;

  private static LoggerContext configure(String xml) throws Exception {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    return context;
  }

  @Test
  void eventsAreRouted_byMarkerThenLogger_encoded_andDelivered(S3Client s3, Fresh fresh) throws Exception {
    String bucket = fresh.bucket();
    LoggerContext context = configure(CONFIG);
    try (LogTiers tiers = LogTiers.builder().region("us-east-1").host("app-1")
        .mid(S3Tier.midBuilder().s3(s3).bucket(bucket).directory(journal).segmentAge(Duration.ofMillis(200)).build())
        .route("auction", Tier.MID).route("audit", Tier.MID).build()) {
      Logger auction = context.getLogger("com.acme.auction.Bidder");
      Logger other = context.getLogger("com.acme.auctioneer");
      auction.info("before registration");
      LogTiersAppender.register("appender-test", tiers);
      try {
        auction.info("won {}", 42);
        other.info("not below com.acme.auction");
        other.warn(MarkerFactory.getMarker("AUDIT"), "budget changed");
        auction.debug("below the root level");
        LogTiersAppender appender = (LogTiersAppender) context.getLogger(Logger.ROOT_LOGGER_NAME)
            .getAppender("TIERS");
        assertThat(appender.beforeRegistration()).isEqualTo(1);
        assertThat(appender.unrouted()).isEqualTo(1);
        assertThat(appender.appended()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> tiers.stats().tier(Tier.MID).orElseThrow().delivered() == 2);
      } finally {
        LogTiersAppender.unregister("appender-test");
        context.stop();
      }
    }
    List<String> lines = new ArrayList<>();
    for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) {
      ObjectKeys.Key key = ObjectKeys.parse(o.key());
      byte[] frames = LogRecords.decompress(s3.getObjectAsBytes(b -> b.bucket(bucket).key(o.key())).asByteArray(),
          key.compression());
      LogRecords.forEach(frames, r -> lines.add(r.type() + " " + new String(r.payload(), StandardCharsets.UTF_8)));
    }
    assertThat(lines).containsExactlyInAnyOrder("auction INFO|com.acme.auction.Bidder|won 42",
        "audit WARN|com.acme.auctioneer|budget changed");
  }

  @Test
  void firstMatchingRouteWins_unmatchedGoToTheDefaultType_andEveryMissIsCounted_intoAHighTierOnly(S3Client s3,
      Fresh fresh) throws Exception {
    String bucket = fresh.bucket();
    LoggerContext context = configure("""
        <configuration>
          <appender name="TIERS" class="dev.hardway.logtiers.logback.LogTiersAppender">
            <instance>first-match</instance>
            <route><logger>com.acme.auction</logger><type>auction</type></route>
            <route><marker>AUDIT</marker><type>audit</type></route>
            <route><logger>com.acme.typo</logger><type>not-routed</type></route>
            <defaultType>app</defaultType>
            <encoder><pattern>%msg</pattern></encoder>
          </appender>
          <root level="INFO"><appender-ref ref="TIERS"/></root>
        </configuration>
        """);
    try (LogTiers tiers = LogTiers.builder().region("eu-west-1").host("app-2")
        .high(S3Tier.highBuilder().s3(s3).bucket(bucket).directory(journal).segmentAge(Duration.ofMillis(200)).build())
        .route("auction", Tier.HIGH).route("audit", Tier.HIGH).route("app", Tier.HIGH).build()) {
      Logger auction = context.getLogger("com.acme.auction.Bidder");
      Logger pacing = context.getLogger("com.acme.pacing.Budget");
      Logger typo = context.getLogger("com.acme.typo.Job");
      LogTiersAppender appender = (LogTiersAppender) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("TIERS");
      pacing.info("too early");
      LogTiersAppender.register("first-match", tiers);
      try {
        auction.info(MarkerFactory.getMarker("AUDIT"), "logger route first");
        pacing.info(MarkerFactory.getMarker("AUDIT"), "marker route");
        pacing.info("no route");
        typo.info("unknown type 1");
        typo.info("unknown type 2");
      } finally {
        LogTiersAppender.unregister("first-match");
      }
      pacing.info("too late");

      assertThat(appender.appended()).isEqualTo(3);
      assertThat(appender.unrouted()).as("the default type takes them").isZero();
      assertThat(appender.refused()).isEqualTo(2);
      assertThat(appender.beforeRegistration()).as("before register and after unregister").isEqualTo(2);
      assertThat(tiers.stats().tier(Tier.HIGH).orElseThrow().appended()).isEqualTo(3);
      assertThat(context.getStatusManager().getCopyOfStatusList().stream()
          .filter(st -> st.getLevel() == Status.ERROR && st.getMessage().contains("not-routed")))
          .as("one error per unknown type, not one per event").hasSize(1);
      await().atMost(Duration.ofSeconds(10))
          .until(() -> tiers.stats().tier(Tier.HIGH).orElseThrow().delivered() == 3);
    } finally {
      context.stop();
    }
    List<String> lines = new ArrayList<>();
    for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) {
      ObjectKeys.Key key = ObjectKeys.parse(o.key());
      byte[] frames = LogRecords.decompress(s3.getObjectAsBytes(b -> b.bucket(bucket).key(o.key())).asByteArray(),
          key.compression());
      LogRecords.forEach(frames, r -> lines.add(key.type() + "/" + r.type() + " "
          + new String(r.payload(), StandardCharsets.UTF_8)));
    }
    assertThat(lines).containsExactlyInAnyOrder("auction/auction logger route first", "audit/audit marker route",
        "app/app no route");
  }

  @Test
  void aConfigurationWithoutInstanceOrEncoder_isReportedToLogbacksStatus_andTheAppenderDoesNotStart()
      throws Exception {
    LoggerContext context = configure("""
        <configuration>
          <appender name="BAD" class="dev.hardway.logtiers.logback.LogTiersAppender">
            <route><logger>x</logger></route>
          </appender>
          <root level="INFO"><appender-ref ref="BAD"/></root>
        </configuration>
        """);
    try {
      List<String> errors = context.getStatusManager().getCopyOfStatusList().stream()
          .filter(s -> s.getLevel() == Status.ERROR).map(Status::getMessage).toList();
      assertThat(errors).anySatisfy(m -> assertThat(m).contains("needs <instance>"))
          .anySatisfy(m -> assertThat(m).contains("needs an <encoder>"))
          .anySatisfy(m -> assertThat(m).contains("each <route> needs a <type>"));
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("BAD").isStarted()).isFalse();
    } finally {
      context.stop();
    }
  }
}
