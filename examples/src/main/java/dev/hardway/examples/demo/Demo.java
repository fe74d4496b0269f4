package dev.hardway.examples.demo;

import dev.hardway.credentials.HardwayCredentialsProvider;
import dev.hardway.credentials.MetadataServer;
import dev.hardway.credentials.RoleBroker;
import dev.hardway.credentials.StaticRolePolicy;
import dev.hardway.logtiers.KinesisTier;
import dev.hardway.logtiers.LogTiers;
import dev.hardway.logtiers.S3Tier;
import dev.hardway.logtiers.Tier;
import dev.hardway.logtiers.TierStats;
import dev.hardway.pacing.BoxId;
import dev.hardway.pacing.BudgetSpec;
import dev.hardway.pacing.Coordinator;
import dev.hardway.pacing.CoordinatorService;
import dev.hardway.pacing.Pacer;
import dev.hardway.pacing.PacerSync;
import dev.hardway.procache.Aggregator;
import dev.hardway.procache.ProCache;
import dev.hardway.procache.PushedUpdate;
import dev.hardway.procache.RegionWriter;
import dev.hardway.procache.ValueCodec;
import dev.hardway.procache.Versioned;
import dev.hardway.procache.Warmup;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.sts.StsRole;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamRequest;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * A day of multi-region bidding on the test kit's servers, compressed into about a minute: every Hardway capability
 * working together, with trouble injected on purpose, a live progress line, and a report at the end (a table in the
 * terminal, an HTML page with plots next to it). Exits non-zero, saying why, when an invariant broke: overspend, a
 * lost mid-tier record, or a batch recount that differs from the pacer's own count.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java
 * -Dexample=dev.hardway.examples.demo.Demo -Dexec.args="--day 60s"} (flags: {@link DemoOptions#USAGE}).
 */
public final class Demo {
  static final String ACCOUNT = LocalAws.ACCOUNT_ID;
  static final String BIDDER_ROLE = "arn:aws:iam::" + ACCOUNT + ":role/bidder";
  static final String BIDDER_V2_ROLE = "arn:aws:iam::" + ACCOUNT + ":role/bidder-v2";
  static final String BUDGET = "campaign-1";
  static final long MEAN_BID_MICROS = 2_500;

  private Demo() {}

  /**
   * Runs the demo from the command line.
   *
   * @param args flags, see {@link DemoOptions#USAGE}
   * @throws Exception when the local servers fail
   */
  public static void main(String[] args) throws Exception {
    DemoOptions options;
    try {
      options = DemoOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    DemoResult result = run(options, System.out);
    if (!result.ok()) {
      System.err.println("INVARIANT BROKEN:");
      result.broken().forEach(b -> System.err.println("  - " + b));
      System.exit(1);
    }
  }

  /**
   * Runs the demo.
   *
   * @param o the options
   * @param out where the progress line and the report go
   * @return what happened, with the invariants checked
   * @throws Exception when the local servers fail
   */
  public static DemoResult run(DemoOptions o, PrintStream out) throws Exception {
    Files.createDirectories(o.out());
    Path work = Files.createTempDirectory("hardway-demo");
    out.println("Hardway demo: a day of bidding in 5 regions, " + o.boxesPerRegion() + " boxes each, in "
        + o.day().toSeconds() + " s; faults: " + o.faults());
    long t0 = System.nanoTime();
    try (LocalAws aws = LocalAws.builder()
        .services(Service.S3, Service.DYNAMODB, Service.KINESIS, Service.STS, Service.REDIS).start()) {
      out.printf(Locale.ROOT, "local stack up in %.1f s%n", (System.nanoTime() - t0) / 1e9);
      if (System.getenv("DEMO_DEBUG") != null) {
        out.println("  endpoints " + aws.endpoints());
      }

      // ---- credentials: the metadata imitator assumes roles through STS; every client below uses it ----
      aws.stsServer().putRole(StsRole.builder(BIDDER_ROLE).trust(StsRole.ANYONE).build());
      aws.stsServer().putRole(StsRole.builder(BIDDER_V2_ROLE).trust(StsRole.ANYONE).build());
      StaticRolePolicy policy = StaticRolePolicy.builder()
          .grant("demo", BIDDER_ROLE, Duration.ofMinutes(15)).grant("demo", BIDDER_V2_ROLE, Duration.ofMinutes(15))
          .defaultRole("demo", BIDDER_ROLE).build();
      try (RoleBroker broker = RoleBroker.builder().sts(aws.sts()).policy(policy).user("demo").build();
          MetadataServer imds = MetadataServer.builder().broker(broker).build();
          // The chain resolves at least every 3 s from a source that reads the imitator each time: a role switched
          // with `use` reaches every client within seconds, inside the compressed day.
          HardwayCredentialsProvider credentials = HardwayCredentialsProvider.builder()
              .source("instance metadata", new MetadataSource(imds.endpoint()))
              .maxRefreshInterval(Duration.ofSeconds(3)).build()) {
        World world = new World(aws, credentials, o, work);
        try (world) {
          return world.runDay(out, broker, credentials, imds);
        }
      }
    } finally {
      deleteAll(work);
    }
  }

  /** Everything the day needs, closed in reverse. */
  static final class World implements AutoCloseable {
    final LocalAws aws;
    final DemoOptions o;
    final Path work;
    final List<AutoCloseable> closeLast = new ArrayList<>();
    final S3Client s3;
    final KinesisClient kinesis;
    final DynamoDbClient dynamoDb;
    final DynamoDbStreamsClient streams;
    final StsClient sts;
    final List<Site> sites = new ArrayList<>();
    final List<RegionWriter> writers = new ArrayList<>();
    final List<Box> boxes = new ArrayList<>();
    final HardwayCredentialsProvider credentials;
    Aggregator aggregator;
    CoordinatorService coordinator;
    long budgetMicros;
    Instant dayStart;
    Instant dayEnd;
    Duration syncInterval;

    World(LocalAws aws, HardwayCredentialsProvider credentials, DemoOptions o, Path work) {
      this.aws = aws;
      this.o = o;
      this.work = work;
      this.credentials = credentials;
      this.s3 = aws.configure(S3Client.builder()).credentialsProvider(credentials).build();
      this.kinesis = aws.configure(KinesisClient.builder()).credentialsProvider(credentials).build();
      this.dynamoDb = aws.configure(DynamoDbClient.builder()).credentialsProvider(credentials).build();
      this.streams = aws.configure(DynamoDbStreamsClient.builder()).credentialsProvider(credentials).build();
      this.sts = aws.configure(StsClient.builder()).credentialsProvider(credentials).build();
    }

    DemoResult runDay(PrintStream out, RoleBroker broker, HardwayCredentialsProvider chain, MetadataServer imds)
        throws Exception {
      String roleAtStart = sts.getCallerIdentity().arn();
      createResources();
      fillProfiles();
      for (Site.Spec spec : Site.REGIONS) {
        sites.add(new Site(spec, aws, credentials));
      }
      startProcache(out);
      startBoxes();
      startPacing();
      out.printf(Locale.ROOT, "budget %s for the day; %d boxes bidding%n", Report.dollars(budgetMicros),
          boxes.size());

      Timeline timeline = new Timeline(this, out, broker);
      boxes.forEach(Box::start);
      timeline.runUntilEndOfDay();
      boxes.forEach(Box::stop);
      out.println();

      // ---- after the day: everything the mid tier took must be in the main bucket ----
      boolean delivered = awaitMidDelivery(Duration.ofSeconds(90));
      Map<String, Map<Tier, TierStats>> tierStats = new HashMap<>();
      for (Box b : boxes) {
        Map<Tier, TierStats> m = new HashMap<>();
        for (Tier t : Tier.values()) {
          b.tiers.stats().tier(t).ifPresent(s -> m.put(t, s));
        }
        tierStats.put(b.site.name() + "/" + b.name, m);
      }
      String roleAtEnd = sts.getCallerIdentity().arn();
      Recount recount = Recount.mainBucket(s3, aws.endpoint(Service.S3), aws.region().id(), credentials,
          "logs-main");
      return Report.write(out, o, this, timeline, recount, delivered, tierStats, roleAtStart, roleAtEnd,
          broker.status().stsCalls(), chain.stats().refreshes(), imds.stats().credentialsServed());
    }

    private void createResources() {
      s3.createBucket(b -> b.bucket("logs-main"));
      s3.createBucket(b -> b.bucket("pacing"));
      for (Site.Spec r : Site.REGIONS) {
        s3.createBucket(b -> b.bucket("logs-" + r.name()));
      }
      for (String[] stream : new String[][] {{"auctions-rt", "2"}, {"pacing-reports", "1"}, {"profile-updates", "2"}}) {
        kinesis.createStream(b -> b.streamName(stream[0]).shardCount(Integer.parseInt(stream[1])));
      }
      WaiterOverrideConfiguration fast = WaiterOverrideConfiguration.builder()
          .backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100))).build();
      for (String stream : List.of("auctions-rt", "pacing-reports", "profile-updates")) {
        kinesis.waiter().waitUntilStreamExists(DescribeStreamRequest.builder().streamName(stream).build(), fast);
      }
      table("pacing-lock", "lockId", false);
      table("profiles", "user", true);
    }

    private void table(String name, String key, boolean stream) {
      dynamoDb.createTable(b -> {
        b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST)
            .attributeDefinitions(AttributeDefinition.builder().attributeName(key)
                .attributeType(ScalarAttributeType.S).build())
            .keySchema(KeySchemaElement.builder().attributeName(key).keyType(KeyType.HASH).build());
        if (stream) {
          b.streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.NEW_AND_OLD_IMAGES));
        }
      });
    }

    private void fillProfiles() {
      List<WriteRequest> batch = new ArrayList<>(25);
      for (int i = 0; i < o.users(); i++) {
        batch.add(WriteRequest.builder().putRequest(PutRequest.builder().item(profile("user-" + i, 1)).build())
            .build());
        if (batch.size() == 25 || i == o.users() - 1) {
          List<WriteRequest> b = List.copyOf(batch);
          dynamoDb.batchWriteItem(r -> r.requestItems(Map.of("profiles", b)));
          batch.clear();
        }
      }
    }

    static Map<String, AttributeValue> profile(String user, long version) {
      Instant now = Instant.now();
      return Map.of("user", AttributeValue.fromS(user), "ver", AttributeValue.fromN(Long.toString(version)),
          "segments", AttributeValue.fromS("seg-" + (Math.abs(user.hashCode()) % 40) + ",v" + version),
          "at", AttributeValue.fromN(Long.toString(now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000)));
    }

    static List<PushedUpdate> join(Aggregator.Change c) {
      Map<String, AttributeValue> item = c.newImage();
      String user = c.keys().get("user").s();
      if (item == null) {
        long ver = c.oldImage() == null ? 1 : Long.parseLong(c.oldImage().get("ver").n()) + 1;
        return List.of(new PushedUpdate(user, ver, 0, null));
      }
      return List.of(new PushedUpdate(user, Long.parseLong(item.get("ver").n()), Long.parseLong(item.get("at").n()),
          item.get("segments").s().getBytes(StandardCharsets.UTF_8)));
    }

    static String prefix(Site site) {
      return site.name() + ":profile:";
    }

    private void startProcache(PrintStream out) throws InterruptedException {
      String arn = dynamoDb.describeTable(b -> b.tableName("profiles")).table().latestStreamArn();
      for (Site site : sites) {
        writers.add(RegionWriter.builder().stream(site.kinesis, "profile-updates").redis(site.redis, prefix(site))
            .fromOldest().pollInterval(Duration.ofMillis(500)).build().start());
      }
      aggregator = Aggregator.builder().streams(streams).table("profiles", arn).joiner(World::join)
          .publishTo(kinesis, "profile-updates").startAtLatest().pollInterval(Duration.ofMillis(100)).build().start();
      while (aggregator.stats().shardsHeld() == 0) {
        Thread.sleep(10);
      }
      long warmStart = System.nanoTime();
      long written = 0;
      for (Site site : sites) {
        written += Warmup.builder().fromTable(dynamoDb, "profiles", World::join).into(site.redis, prefix(site))
            .build().run().written();
      }
      out.printf(Locale.ROOT, "procache: %,d profiles warmed into 5 regional Redis tiers in %.1f s%n", written,
          (System.nanoTime() - warmStart) / 1e9);
    }

    private void startPacing() {
      // Production syncs every 10 s; a compressed day syncs as often as the local stand-ins keep up with.
      // Demand: about peak × mean curve × day auctions, each bidding 2,500 µ$ on average; the budget is 60 % of it,
      // so pacing decides who spends what.
      double meanCurve = 0;
      for (int i = 0; i < 240; i++) {
        meanCurve += Box.curve(i / 10.0) / 240;
      }
      budgetMicros = (long) (o.auctionsPerSecond() * meanCurve * o.day().toMillis() / 1000.0 * MEAN_BID_MICROS * 0.6);
      dayStart = Instant.now().plusMillis(500);
      dayEnd = dayStart.plus(o.day());
      coordinator = coordinator("banker-1");
    }

    CoordinatorService coordinator(String owner) {
      BudgetSpec spec = BudgetSpec.lifetime(BUDGET, budgetMicros, dayStart, dayEnd);
      // Production's timings shrink with the day: a 2-hour reserve is a twelfth of the day; every clock here is
      // the same machine's; and one compressed day is too short to learn the traffic curve, so it is given.
      List<Double> curve = new ArrayList<>();
      for (int slot = 0; slot < 96; slot++) {
        double f = (slot + 0.5) / 96;
        double sum = 0;
        for (Site.Spec r : Site.REGIONS) {
          sum += Box.curve(Box.localHour(f, r.utcOffsetHours()));
        }
        curve.add(sum);
      }
      return CoordinatorService.builder()
          .coordinator(Coordinator.builder().budgets(List.of(spec))
              .regions(Set.copyOf(Site.REGIONS.stream().map(Site.Spec::name).toList()))
              .syncInterval(syncInterval).leaseFreshFor(syncInterval.multipliedBy(4))
              .reserveHorizon(o.day().dividedBy(12)).maxClockSkew(Duration.ofMillis(200)).trafficCurve(curve))
          .kinesis(kinesis).stream("pacing-reports").s3(s3).bucket("pacing")
          .dynamoDb(dynamoDb).lockTable("pacing-lock").owner(owner).syncInterval(syncInterval)
          .lockTtl(syncInterval.multipliedBy(4)).build();
    }

    private void startBoxes() throws IOException {
      syncInterval = Duration.ofMillis(Math.max(1_000, Math.min(2_000, o.day().toMillis() / 60)));
      double perRegionPeak = o.auctionsPerSecond() / (double) Site.REGIONS.size();
      long seed = 42;
      for (Site site : sites) {
        for (int i = 0; i < o.boxesPerRegion(); i++) {
          // As in production: one box holds most of a region's connections.
          double share = o.boxesPerRegion() == 1 ? 1 : i == 0 ? 0.7 : 0.3 / (o.boxesPerRegion() - 1);
          String name = "box-" + (i + 1);
          Pacer pacer = Pacer.builder().box(BoxId.forThisProcess(site.name(), name)).build();
          PacerSync sync = PacerSync.builder().pacer(pacer).kinesis(site.kinesis).stream("pacing-reports")
              .s3(site.mainS3).bucket("pacing").syncInterval(syncInterval).build();
          ProCache<String, String> profiles = ProCache.<String, String>builder(ValueCodec.utf8())
              .redis(site.redis, prefix(site)).localMaximumSize(o.users() / 10 + 100).recordStats()
              .home(user -> {
                var item = site.home.getItem(b -> b.tableName("profiles")
                    .key(Map.of("user", AttributeValue.fromS(user)))).item();
                return item.isEmpty() ? Versioned.absent(0, 0) : Versioned.of(item.get("segments").s(),
                    Long.parseLong(item.get("ver").n()), Long.parseLong(item.get("at").n()));
              }).build();
          Path dir = Files.createDirectories(work.resolve(site.name()).resolve(name));
          LogTiers tiers = LogTiers.builder().region(site.name()).host(name)
              .low(KinesisTier.builder().kinesis(site.kinesis).stream("auctions-rt").linger(Duration.ofSeconds(1)).build())
              .mid(S3Tier.midBuilder().s3(site.mainS3).bucket("logs-main").directory(dir.resolve("journal"))
                  .segmentAge(Duration.ofSeconds(2)).build())
              .high(S3Tier.highBuilder().s3(site.localS3).bucket("logs-" + site.name())
                  .directory(dir.resolve("spool")).segmentAge(Duration.ofSeconds(5)).build())
              .route("auction", Tier.LOW, Tier.MID).route("bid", Tier.HIGH).build();
          boxes.add(new Box(site, name, share, pacer, sync, profiles, tiers, BUDGET, this::dayFraction, o.users(),
              perRegionPeak, seed++));
        }
      }
    }

    double dayFraction() {
      return Math.max(0, Duration.between(dayStart, Instant.now()).toNanos() / (double) o.day().toNanos());
    }

    /** Writes at home while the day runs, so the push path carries changes. */
    void writeProfiles(AtomicBoolean running) {
      java.util.SplittableRandom random = new java.util.SplittableRandom(7);
      Map<String, Long> versions = new HashMap<>();
      while (running.get()) {
        String user = "user-" + (int) (o.users() * Math.pow(random.nextDouble(), 3));
        long v = versions.merge(user, 2L, (a, b) -> a + 1);
        try {
          dynamoDb.putItem(b -> b.tableName("profiles").item(profile(user, v)));
        } catch (RuntimeException e) {
          // The home table is in the main region, which is never cut off here; a failed write is just skipped.
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private boolean awaitMidDelivery(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        boolean all = true;
        for (Box b : boxes) {
          TierStats s = b.tiers.stats().tier(Tier.MID).orElseThrow();
          all &= s.delivered() + s.droppedTotal() >= s.appended() && s.inFlight() == 0;
        }
        if (all) {
          return true;
        }
        Thread.sleep(100);
      }
      return false;
    }

    @Override
    public void close() {
      for (Box b : boxes) {
        b.close();
      }
      if (coordinator != null) {
        coordinator.close();
      }
      if (aggregator != null) {
        aggregator.close();
      }
      for (RegionWriter w : writers) {
        w.close();
      }
      for (Site s : sites) {
        s.close();
      }
      s3.close();
      kinesis.close();
      dynamoDb.close();
      streams.close();
      sts.close();
    }
  }

  static void deleteAll(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
