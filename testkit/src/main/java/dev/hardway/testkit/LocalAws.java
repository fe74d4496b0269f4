package dev.hardway.testkit;

import dev.hardway.testkit.dynamodb.DynamoDbServer;
import dev.hardway.testkit.fault.FaultProxy;
import dev.hardway.testkit.internal.ChildServer;
import dev.hardway.testkit.internal.KinesisServer;
import dev.hardway.testkit.internal.LdapServer;
import dev.hardway.testkit.internal.RedisServer;
import dev.hardway.testkit.internal.S3ProxyServer;
import dev.hardway.testkit.sts.StsRole;
import dev.hardway.testkit.sts.StsServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsAsyncClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbBaseClientBuilder;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsBaseClientBuilder;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisBaseClientBuilder;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3BaseClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsBaseClientBuilder;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * A local AWS: any subset of S3, DynamoDB + Streams, Kinesis, STS, Redis and LDAP, each a real server on a loopback
 * port, with the endpoints, credentials and ready-made SDK v2 clients to use them.
 *
 * <pre>{@code
 * try (LocalAws aws = LocalAws.start(Service.S3, Service.DYNAMODB)) {
 *   aws.s3().createBucket(b -> b.bucket("logs"));
 *   DynamoDbClient mine = aws.configure(DynamoDbClient.builder()).build();  // your own client, pointed here
 * }
 * }</pre>
 *
 * <p>Servers start in parallel; the whole stack is up in a couple of seconds (see the module README for the measured
 * figure). Requests are signed with one static key pair ({@link #credentials()}), which S3 and STS verify. The STS
 * server knows that key as the IAM user {@value #USER_NAME} and has one role, {@link #DEFAULT_ROLE_NAME}, that every
 * principal of the account may assume; add more through {@link #stsServer()}.
 *
 * <p>Fault injection: {@link #faults(Service)} puts a {@link FaultProxy} in front of a service; clients built with
 * {@link #configure(AwsClientBuilder, URI)} and the proxy's URI go through it.
 *
 * <p>Thread-safe. {@link #close()} stops everything this instance started, child processes included; child processes
 * also stop by themselves if this JVM dies without closing it.
 */
public final class LocalAws implements AutoCloseable {

  /** The access key id of the stack's credentials, unless the builder sets others. */
  public static final String DEFAULT_ACCESS_KEY_ID = "AKIAHARDWAYLOCAL0001";
  /** The secret access key of the stack's credentials, unless the builder sets others. */
  public static final String DEFAULT_SECRET_ACCESS_KEY = "hardway/local/secret/access/key/000000001";
  /** The region the clients use, unless the builder sets another. */
  public static final String DEFAULT_REGION = "us-east-1";
  /** The account every local service lives in. */
  public static final String ACCOUNT_ID = StsServer.DEFAULT_ACCOUNT_ID;
  /** The IAM user name the STS server knows the stack's credentials as. */
  public static final String USER_NAME = "hardway";
  /** A role every principal of {@link #ACCOUNT_ID} may assume (1 h sessions). */
  public static final String DEFAULT_ROLE_NAME = "hardway-local";
  /** The LDAP base DN. */
  public static final String LDAP_BASE_DN = "dc=hardway,dc=dev";
  /** The LDAP administrator's DN. */
  public static final String LDAP_BIND_DN = "cn=admin,dc=hardway,dc=dev";

  private static final Logger LOG = LoggerFactory.getLogger(LocalAws.class);
  private static final String HOST = "127.0.0.1";

  private final Builder config;
  private final AwsBasicCredentials credentials;
  private final Map<Service, Running> running = new EnumMap<>(Service.class);
  /** Read by S3 on each request with a key it does not know: the sessions STS issued are accepted there too. */
  private volatile @Nullable StsServer sts;
  private final Map<Service, FaultProxy> proxies = new EnumMap<>(Service.class);
  private final Map<Class<?>, SdkAutoCloseable> clients = new LinkedHashMap<>();
  private boolean closed;

  private LocalAws(Builder config) {
    this.config = config;
    this.credentials = AwsBasicCredentials.create(config.accessKeyId, config.secretAccessKey);
  }

  /**
   * Starts the given services with default settings.
   *
   * @param services the services; none means all of them
   * @return the running stack
   * @throws LocalAwsException when a service cannot start (the others are stopped again)
   */
  public static LocalAws start(Service... services) {
    return builder().services(services.length == 0 ? Service.values() : services).start();
  }

  /**
   * A builder for a stack.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts more services in this stack; those already running are left alone.
   *
   * @param services the services to add
   * @return this stack
   * @throws LocalAwsException when one cannot start (services started by this call are stopped again)
   * @throws IllegalStateException when the stack is closed
   */
  public LocalAws ensureStarted(Service... services) {
    EnumSet<Service> wanted = EnumSet.noneOf(Service.class);
    Collections.addAll(wanted, services);
    startAll(wanted);
    return this;
  }

  private synchronized void startAll(Set<Service> wanted) {
    if (closed) {
      throw new IllegalStateException("this LocalAws is closed");
    }
    List<Service> todo = new ArrayList<>();
    for (Service s : wanted) {
      if (!running.containsKey(s)) {
        todo.add(s);
      }
    }
    if (todo.isEmpty()) {
      return;
    }
    Map<Service, Future<Running>> futures = new EnumMap<>(Service.class);
    ExecutorService pool = Executors.newFixedThreadPool(config.parallelStart ? todo.size() : 1,
        Thread.ofPlatform().daemon().name("hardway-localaws-start-", 0).factory());
    try {
      for (Service s : todo) {
        futures.put(s, pool.submit(() -> startOne(s)));
      }
      List<String> failures = new ArrayList<>();
      List<Throwable> causes = new ArrayList<>();
      for (Map.Entry<Service, Future<Running>> e : futures.entrySet()) {
        try {
          Running r = e.getValue().get();
          running.put(e.getKey(), r);
        } catch (ExecutionException ex) {
          Throwable cause = ex.getCause() == null ? ex : ex.getCause();
          failures.add(e.getKey().id() + ": " + cause.getMessage());
          causes.add(cause);
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          failures.add(e.getKey().id() + ": interrupted");
          causes.add(ex);
        }
      }
      if (!failures.isEmpty()) {
        for (Service s : todo) {
          Running r = running.remove(s);
          if (r != null) {
            closeQuietly(s.id(), r.server);
          }
        }
        LocalAwsException thrown =
            new LocalAwsException("could not start " + String.join("; ", failures), causes.get(0));
        causes.subList(1, causes.size()).forEach(thrown::addSuppressed);
        throw thrown;
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private Running startOne(Service service) {
    long t0 = System.nanoTime();
    int port = config.ports.getOrDefault(service, 0);
    Running started = switch (service) {
      case S3 -> {
        S3ProxyServer s3 = S3ProxyServer.start(HOST, port, config.accessKeyId, config.secretAccessKey,
            accessKeyId -> {
              StsServer issuer = sts;
              return issuer == null ? null : issuer.sessionSecret(accessKeyId);
            }, config.s3Directory, config.startTimeout);
        yield new Running(s3, s3.endpoint(), s3.port(), Duration.ZERO);
      }
      case DYNAMODB -> {
        DynamoDbServer.Builder b = DynamoDbServer.builder().host(HOST).port(port).region(config.region)
            .accountId(ACCOUNT_ID).clock(config.clock);
        config.dynamoDbCustomizer.accept(b);
        DynamoDbServer ddb = b.start();
        yield new Running(ddb, ddb.endpoint(), ddb.port(), Duration.ZERO);
      }
      case KINESIS -> {
        KinesisServer kinesis = KinesisServer.start(HOST, port, config.region, ACCOUNT_ID,
            config.kinesisOperationDelay, config.startTimeout);
        yield new Running(kinesis, kinesis.endpoint(), kinesis.port(), Duration.ZERO);
      }
      case STS -> {
        StsServer.Builder b = StsServer.builder().host(HOST).port(port).accountId(ACCOUNT_ID).clock(config.clock)
            .user(USER_NAME, config.accessKeyId, config.secretAccessKey)
            .role(StsRole.builder("arn:aws:iam::" + ACCOUNT_ID + ":role/" + DEFAULT_ROLE_NAME)
                .trust("arn:aws:iam::" + ACCOUNT_ID + ":root").build());
        config.stsCustomizer.accept(b);
        StsServer server = b.start();
        sts = server;
        yield new Running(server, server.endpoint(), server.port(), Duration.ZERO);
      }
      case REDIS -> {
        ChildServer redis = RedisServer.start(HOST, port, config.redisPassword, config.startTimeout);
        yield new Running(redis, redis.endpoint(), redis.port(), Duration.ZERO);
      }
      case LDAP -> {
        LdapServer ldap = LdapServer.start(HOST, port, LDAP_BASE_DN, LDAP_BIND_DN, config.ldapBindPassword);
        yield new Running(ldap, ldap.endpoint(), ldap.port(), Duration.ZERO);
      }
    };
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    LOG.debug("{} started at {} in {} ms", service.id(), started.endpoint, took.toMillis());
    return new Running(started.server, started.endpoint, started.port, took);
  }

  private record Running(AutoCloseable server, URI endpoint, int port, Duration startTime) {}

  private synchronized Running running(Service service) {
    if (closed) {
      throw new IllegalStateException("this LocalAws is closed");
    }
    Running r = running.get(service);
    if (r == null) {
      throw new IllegalStateException(service + " is not running in this LocalAws (running: " + running.keySet()
          + "); start it with builder().services(…) or ensureStarted(Service." + service.name() + ")");
    }
    return r;
  }

  /**
   * Whether a service runs in this stack.
   *
   * @param service the service
   * @return true when running
   */
  public synchronized boolean isRunning(Service service) {
    return !closed && running.containsKey(service);
  }

  /**
   * The services running in this stack.
   *
   * @return an immutable set
   */
  public synchronized Set<Service> services() {
    return running.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(running.keySet()));
  }

  /**
   * A service's endpoint: {@code http://127.0.0.1:<port>} for the AWS services, {@code redis://…} for Redis (with
   * the password, when one is set) and {@code ldap://…} for LDAP.
   *
   * @param service a running service
   * @return its endpoint
   * @throws IllegalStateException when the service is not running
   */
  public URI endpoint(Service service) {
    return running(service).endpoint;
  }

  /**
   * A service's port.
   *
   * @param service a running service
   * @return its loopback port
   * @throws IllegalStateException when the service is not running
   */
  public int port(Service service) {
    return running(service).port;
  }

  /**
   * Every running service's endpoint.
   *
   * @return endpoints in {@link Service} order
   */
  public synchronized Map<Service, URI> endpoints() {
    Map<Service, URI> out = new LinkedHashMap<>();
    running.forEach((s, r) -> out.put(s, r.endpoint));
    return Collections.unmodifiableMap(out);
  }

  /**
   * How long each service took to start, for reports and benchmarks.
   *
   * @return start times in {@link Service} order
   */
  public synchronized Map<Service, Duration> startTimes() {
    Map<Service, Duration> out = new EnumMap<>(Service.class);
    running.forEach((s, r) -> out.put(s, r.startTime));
    return Collections.unmodifiableMap(out);
  }

  /**
   * The region clients use.
   *
   * @return the region
   */
  public Region region() {
    return Region.of(config.region);
  }

  /**
   * The stack's credentials, accepted by every service.
   *
   * @return the static key pair
   */
  public AwsBasicCredentials credentials() {
    return credentials;
  }

  /**
   * A provider of {@link #credentials()}.
   *
   * @return a static credentials provider
   */
  public AwsCredentialsProvider credentialsProvider() {
    return StaticCredentialsProvider.create(credentials);
  }

  /**
   * Points an SDK client builder at this stack: the service's endpoint, the region, the credentials, and for S3
   * path-style addressing. Works for the S3, DynamoDB, DynamoDB Streams, Kinesis and STS builders, sync or async.
   *
   * @param builder a client builder
   * @param <B> the builder type
   * @return the same builder, for chaining
   * @throws IllegalArgumentException when the builder is for a service the test kit does not serve
   * @throws IllegalStateException when that service is not running
   */
  public <B extends AwsClientBuilder<B, ?>> B configure(B builder) {
    return configure(builder, endpoint(serviceOf(builder)));
  }

  /**
   * Like {@link #configure(AwsClientBuilder)}, with another endpoint: typically a {@link FaultProxy}'s URI.
   *
   * @param builder a client builder
   * @param endpoint the endpoint to use
   * @param <B> the builder type
   * @return the same builder, for chaining
   */
  public <B extends AwsClientBuilder<B, ?>> B configure(B builder, URI endpoint) {
    builder.endpointOverride(endpoint).region(region()).credentialsProvider(credentialsProvider());
    if (builder instanceof S3BaseClientBuilder<?, ?> s3) {
      s3.forcePathStyle(true);
    }
    if (builder instanceof AwsSyncClientBuilder<?, ?> sync) {
      sync.httpClientBuilder(Apache5HttpClient.builder());
    } else if (builder instanceof AwsAsyncClientBuilder<?, ?> async) {
      async.httpClientBuilder(NettyNioAsyncHttpClient.builder());
    }
    return builder;
  }

  private static Service serviceOf(AwsClientBuilder<?, ?> builder) {
    if (builder instanceof S3BaseClientBuilder<?, ?>) {
      return Service.S3;
    }
    if (builder instanceof DynamoDbBaseClientBuilder<?, ?> || builder instanceof DynamoDbStreamsBaseClientBuilder<?, ?>) {
      return Service.DYNAMODB;
    }
    if (builder instanceof KinesisBaseClientBuilder<?, ?>) {
      return Service.KINESIS;
    }
    if (builder instanceof StsBaseClientBuilder<?, ?>) {
      return Service.STS;
    }
    throw new IllegalArgumentException("the test kit serves S3, DynamoDB (+ Streams), Kinesis and STS; got a "
        + builder.getClass().getName());
  }

  /**
   * A ready-made S3 client (path-style), closed with the stack.
   *
   * @return the shared client
   */
  public S3Client s3() {
    return client(S3Client.class, () -> configure(S3Client.builder()).build());
  }

  /**
   * A ready-made async S3 client (path-style), closed with the stack.
   *
   * @return the shared client
   */
  public S3AsyncClient s3Async() {
    return client(S3AsyncClient.class, () -> configure(S3AsyncClient.builder()).build());
  }

  /**
   * A ready-made DynamoDB client, closed with the stack.
   *
   * @return the shared client
   */
  public DynamoDbClient dynamoDb() {
    return client(DynamoDbClient.class, () -> configure(DynamoDbClient.builder()).build());
  }

  /**
   * A ready-made DynamoDB Streams client, closed with the stack.
   *
   * @return the shared client
   */
  public DynamoDbStreamsClient dynamoDbStreams() {
    return client(DynamoDbStreamsClient.class, () -> configure(DynamoDbStreamsClient.builder()).build());
  }

  /**
   * A ready-made Kinesis client, closed with the stack.
   *
   * @return the shared client
   */
  public KinesisClient kinesis() {
    return client(KinesisClient.class, () -> configure(KinesisClient.builder()).build());
  }

  /**
   * A ready-made async Kinesis client, closed with the stack.
   *
   * @return the shared client
   */
  public KinesisAsyncClient kinesisAsync() {
    return client(KinesisAsyncClient.class, () -> configure(KinesisAsyncClient.builder()).build());
  }

  /**
   * A ready-made STS client, closed with the stack.
   *
   * @return the shared client
   */
  public StsClient sts() {
    return client(StsClient.class, () -> configure(StsClient.builder()).build());
  }

  private synchronized <C extends SdkAutoCloseable> C client(Class<C> type, Supplier<C> factory) {
    if (closed) {
      throw new IllegalStateException("this LocalAws is closed");
    }
    return type.cast(clients.computeIfAbsent(type, t -> factory.get()));
  }

  /**
   * The STS server, to add users, roles and MFA devices.
   *
   * @return the running STS server
   * @throws IllegalStateException when STS is not running
   */
  public StsServer stsServer() {
    return (StsServer) running(Service.STS).server;
  }

  /**
   * The DynamoDB server, for its test hooks (e.g. rolling a stream shard).
   *
   * @return the running DynamoDB server
   * @throws IllegalStateException when DynamoDB is not running
   */
  public DynamoDbServer dynamoDbServer() {
    return (DynamoDbServer) running(Service.DYNAMODB).server;
  }

  /**
   * The LDAP directory's coordinates and a way to add entries.
   *
   * @return the directory
   * @throws IllegalStateException when LDAP is not running
   */
  public LdapDirectory ldap() {
    LdapServer server = (LdapServer) running(Service.LDAP).server;
    return new LdapDirectory(server.endpoint(), LDAP_BASE_DN, LDAP_BIND_DN, config.ldapBindPassword, server::add);
  }

  /**
   * The fault-injecting proxy in front of a service, started on first use and shared; HTTP-aware for the AWS
   * services, plain TCP for Redis and LDAP. Point clients at {@link FaultProxy#uri()} (for AWS services with
   * {@link #configure(AwsClientBuilder, URI)}).
   *
   * @param service a running service
   * @return the proxy
   * @throws IllegalStateException when the service is not running
   */
  public synchronized FaultProxy faults(Service service) {
    Running r = running(service);
    return proxies.computeIfAbsent(service, s -> FaultProxy.builder()
        .target(HOST, r.port)
        .name(s.id())
        .http(s != Service.REDIS && s != Service.LDAP)
        .start());
  }

  /** Switches every fault off on every proxy started by {@link #faults(Service)}. */
  public synchronized void clearFaults() {
    proxies.values().forEach(FaultProxy::clearFaults);
  }

  /**
   * Environment variables that point the AWS CLI and the SDKs at this stack (service-specific endpoint variables,
   * credentials, region), plus {@code HARDWAY_REDIS_URL} and {@code HARDWAY_LDAP_URL} when those run.
   *
   * @return variable names and values, in a stable order
   */
  public synchronized Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("AWS_ACCESS_KEY_ID", config.accessKeyId);
    env.put("AWS_SECRET_ACCESS_KEY", config.secretAccessKey);
    env.put("AWS_REGION", config.region);
    env.put("AWS_DEFAULT_REGION", config.region);
    running.forEach((s, r) -> {
      switch (s) {
        case S3 -> env.put("AWS_ENDPOINT_URL_S3", r.endpoint.toString());
        case DYNAMODB -> {
          env.put("AWS_ENDPOINT_URL_DYNAMODB", r.endpoint.toString());
          env.put("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", r.endpoint.toString());
        }
        case KINESIS -> env.put("AWS_ENDPOINT_URL_KINESIS", r.endpoint.toString());
        case STS -> env.put("AWS_ENDPOINT_URL_STS", r.endpoint.toString());
        case REDIS -> env.put("HARDWAY_REDIS_URL", r.endpoint.toString());
        case LDAP -> env.put("HARDWAY_LDAP_URL", r.endpoint.toString());
        default -> throw new IllegalStateException("unknown service " + s);
      }
    });
    return Collections.unmodifiableMap(env);
  }

  /** Stops every client, proxy and server this stack started; idempotent. */
  @Override
  public void close() {
    List<Map.Entry<String, AutoCloseable>> toClose = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      clients.forEach((type, c) -> toClose.add(Map.entry(type.getSimpleName(), c)));
      clients.clear();
      proxies.forEach((s, p) -> toClose.add(Map.entry(s.id() + " fault proxy", p)));
      proxies.clear();
      running.forEach((s, r) -> toClose.add(Map.entry(s.id(), r.server)));
      running.clear();
    }
    toClose.forEach(e -> closeQuietly(e.getKey(), e.getValue()));
  }

  private static void closeQuietly(String what, AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.warn("closing {} failed", what, e);
    }
  }

  @Override
  public String toString() {
    return "LocalAws" + endpoints();
  }

  /** Builds and starts a {@link LocalAws}. Not thread-safe. */
  public static final class Builder {
    private final EnumSet<Service> services = EnumSet.noneOf(Service.class);
    private final Map<Service, Integer> ports = new EnumMap<>(Service.class);
    private String region = DEFAULT_REGION;
    private String accessKeyId = DEFAULT_ACCESS_KEY_ID;
    private String secretAccessKey = DEFAULT_SECRET_ACCESS_KEY;
    private @Nullable Path s3Directory;
    private InstantSource clock = InstantSource.system();
    private Duration kinesisOperationDelay = Duration.ofMillis(100);
    private Duration startTimeout = Duration.ofSeconds(60);
    private @Nullable String redisPassword;
    private String ldapBindPassword = "hardway-ldap-admin";
    private Consumer<StsServer.Builder> stsCustomizer = b -> { };
    private Consumer<DynamoDbServer.Builder> dynamoDbCustomizer = b -> { };
    private boolean parallelStart = true;

    private Builder() {}

    /** A snapshot, so that changing this builder later does not change a running stack. */
    private Builder copy() {
      Builder b = new Builder();
      b.services.addAll(services);
      b.ports.putAll(ports);
      b.region = region;
      b.accessKeyId = accessKeyId;
      b.secretAccessKey = secretAccessKey;
      b.s3Directory = s3Directory;
      b.clock = clock;
      b.kinesisOperationDelay = kinesisOperationDelay;
      b.startTimeout = startTimeout;
      b.redisPassword = redisPassword;
      b.ldapBindPassword = ldapBindPassword;
      b.stsCustomizer = stsCustomizer;
      b.dynamoDbCustomizer = dynamoDbCustomizer;
      b.parallelStart = parallelStart;
      return b;
    }

    /**
     * Adds services to start.
     *
     * @param services the services
     * @return this builder
     */
    public Builder services(Service... services) {
      for (Service s : services) {
        this.services.add(Objects.requireNonNull(s, "service"));
      }
      return this;
    }

    /**
     * Adds services to start.
     *
     * @param services the services
     * @return this builder
     */
    public Builder services(Set<Service> services) {
      return services(services.toArray(Service[]::new));
    }

    /**
     * Puts a service on a fixed port instead of a free one (for the AWS CLI or a config file).
     *
     * @param service the service
     * @param port 1 to 65535, or 0 for a free one (the default)
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder port(Service service, int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port for " + service.id() + " must be 0..65535, got " + port);
      }
      ports.put(Objects.requireNonNull(service, "service"), port);
      return this;
    }

    /**
     * Sets the region the clients use and the servers put in ARNs.
     *
     * @param region e.g. {@code eu-west-1}; default {@value LocalAws#DEFAULT_REGION}
     * @return this builder
     * @throws IllegalArgumentException when malformed
     */
    public Builder region(String region) {
      if (region == null || !region.matches("[a-z]{2,}(-[a-z]+)+-\\d+")) {
        throw new IllegalArgumentException("region must look like us-east-1, got '" + region + "'");
      }
      this.region = region;
      return this;
    }

    /**
     * Sets the stack's key pair.
     *
     * @param accessKeyId 16 to 128 upper-case letters and digits
     * @param secretAccessKey not empty
     * @return this builder
     * @throws IllegalArgumentException when malformed
     */
    public Builder credentials(String accessKeyId, String secretAccessKey) {
      if (accessKeyId == null || !accessKeyId.matches("[A-Z0-9]{16,128}")) {
        throw new IllegalArgumentException(
            "accessKeyId must be 16 to 128 upper-case letters and digits, got '" + accessKeyId + "'");
      }
      if (secretAccessKey == null || secretAccessKey.isEmpty()) {
        throw new IllegalArgumentException("secretAccessKey must not be empty");
      }
      this.accessKeyId = accessKeyId;
      this.secretAccessKey = secretAccessKey;
      return this;
    }

    /**
     * Keeps S3 objects in a folder (they outlive the stack) instead of in memory.
     *
     * @param directory the folder; created by s3proxy if missing
     * @return this builder
     */
    public Builder s3Directory(Path directory) {
      this.s3Directory = Objects.requireNonNull(directory, "s3Directory");
      return this;
    }

    /**
     * Sets the clock STS and DynamoDB use for credential expiry and stream records.
     *
     * @param clock the clock; default the system clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets how long Kinesis stream operations take to settle (create, delete, reshard).
     *
     * @param delay 0 to 10 s; default 100 ms (AWS takes seconds; callers must wait for ACTIVE either way)
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder kinesisOperationDelay(Duration delay) {
      if (delay == null || delay.isNegative() || delay.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("kinesisOperationDelay must be 0..10 s, got " + delay);
      }
      this.kinesisOperationDelay = delay;
      return this;
    }

    /**
     * Sets how long to wait for each server to start.
     *
     * @param timeout positive; default 60 s (the first Kinesis start may install it with npm)
     * @return this builder
     * @throws IllegalArgumentException when not positive
     */
    public Builder startTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("startTimeout must be positive, got " + timeout);
      }
      this.startTimeout = timeout;
      return this;
    }

    /**
     * Makes Redis require a password.
     *
     * @param password not empty
     * @return this builder
     * @throws IllegalArgumentException when empty or containing whitespace
     */
    public Builder redisPassword(String password) {
      if (password == null || password.isEmpty() || !password.matches("\\S+")) {
        throw new IllegalArgumentException("redisPassword must be non-empty without whitespace");
      }
      this.redisPassword = password;
      return this;
    }

    /**
     * Sets the LDAP administrator's password ({@value LocalAws#LDAP_BIND_DN}).
     *
     * @param password not empty
     * @return this builder
     * @throws IllegalArgumentException when empty
     */
    public Builder ldapBindPassword(String password) {
      if (password == null || password.isEmpty()) {
        throw new IllegalArgumentException("ldapBindPassword must not be empty");
      }
      this.ldapBindPassword = password;
      return this;
    }

    /**
     * Adjusts the STS server before it starts: more users, roles, MFA devices, a request rate limit.
     *
     * @param customizer applied to the STS builder after the stack's own user and role are added
     * @return this builder
     */
    public Builder sts(Consumer<StsServer.Builder> customizer) {
      this.stsCustomizer = Objects.requireNonNull(customizer, "customizer");
      return this;
    }

    /**
     * Adjusts the DynamoDB server before it starts, e.g. a small {@linkplain DynamoDbServer.Builder#streamRecordLimit
     * stream record limit} so that a test sees its stream trimmed. Host, port, region, account and clock are set
     * before the customizer runs.
     *
     * @param customizer changes to the DynamoDB server's builder
     * @return this builder
     */
    public Builder dynamoDb(Consumer<DynamoDbServer.Builder> customizer) {
      this.dynamoDbCustomizer = Objects.requireNonNull(customizer, "customizer");
      return this;
    }

    /**
     * Starts servers one after another instead of in parallel (the baseline of the start-up benchmark).
     *
     * @param parallel true (the default) to start servers in parallel
     * @return this builder
     */
    public Builder parallelStart(boolean parallel) {
      this.parallelStart = parallel;
      return this;
    }

    /**
     * Starts the stack.
     *
     * @return the running stack
     * @throws LocalAwsException when a service cannot start (the others are stopped again)
     */
    public LocalAws start() {
      LocalAws aws = new LocalAws(copy());
      aws.startAll(services);
      return aws;
    }
  }
}
