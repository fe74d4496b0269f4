package dev.hardway.credentials;

import dev.hardway.credentials.internal.HttpRequest;
import dev.hardway.credentials.internal.HttpResponse;
import dev.hardway.credentials.internal.StrictHttpServer;
import dev.hardway.credentials.internal.TokenStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * An imitation of the EC2 instance metadata service that serves the {@link RoleBroker}'s current role credentials,
 * so every AWS SDK and the CLI get them exactly as on an instance, plus a container-credentials endpoint where each
 * process holds its own role.
 *
 * <pre>{@code
 * try (MetadataServer imds = MetadataServer.builder().broker(broker).build()) {
 *   // AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:<port> for any SDK, or the JVM property
 *   // aws.ec2MetadataServiceEndpoint
 *   URI endpoint = imds.endpoint();
 * }
 * }</pre>
 *
 * <p>It speaks IMDSv1 and IMDSv2 (tokens of 32 random bytes, TTL 1 to 21600 s, a bounded store; v1 can be switched
 * off), and refuses what a trusted local credential server must refuse: peers that are not loopback (or on the
 * allow-list), a {@code Host} other than its own address (DNS rebinding), browser signals and {@code OPTIONS}, token
 * requests carrying {@code X-Forwarded-For}, bad TTLs, forged or expired tokens, tokens in the query string, odd path
 * encodings and traversal, heads over 16 KiB, bodies over 1 MiB and slow clients. It has no admin endpoint: role
 * switches go through the broker (and the agent's owner-only control socket).
 *
 * <p>Thread-safe. One virtual thread per connection; {@link #close()} stops them all.
 */
public final class MetadataServer implements AutoCloseable {
  static final String TOKEN_PATH = "/latest/api/token";
  static final String CONTAINER_PATH = "/v1/credentials";
  private static final String CREDENTIALS_PREFIX = "/latest/meta-data/iam/security-credentials/";
  private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*/?");

  private final RoleBroker broker;
  private final InstanceIdentity identity;
  private final InstantSource clock;
  private final boolean v2Only;
  private final int maxContainerSessions;
  private final Duration containerSessionTtl;
  private final TokenStore<Boolean> tokens;
  private final TokenStore<String> sessions;
  private final Set<String> allowedHosts;
  private final StrictHttpServer http;
  private final Instant started;
  private final String architecture;
  private final LongAdder requests = new LongAdder();
  private final LongAdder credentialsServed = new LongAdder();
  private final LongAdder tokensIssued = new LongAdder();
  private final LongAdder unauthorized = new LongAdder();
  private final LongAdder forbidden = new LongAdder();
  private final LongAdder notFound = new LongAdder();
  private final LongAdder badRequests = new LongAdder();
  private final LongAdder unavailable = new LongAdder();

  private MetadataServer(Builder b) throws IOException {
    this.broker = Objects.requireNonNull(b.broker);
    this.identity = b.identity;
    this.clock = b.clock;
    this.v2Only = b.v2Only;
    this.maxContainerSessions = b.maxContainerSessions;
    this.containerSessionTtl = b.containerSessionTtl;
    this.tokens = new TokenStore<>(b.tokenCapacity, clock, b.random);
    this.sessions = new TokenStore<>(b.maxContainerSessions + 1, clock, b.random);
    this.started = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    String arch = System.getProperty("os.arch", "");
    this.architecture = arch.equals("aarch64") || arch.equals("arm64") ? "arm64" : "x86_64";
    Set<String> peers = Set.copyOf(b.allowedPeers);
    this.http = new StrictHttpServer(new InetSocketAddress(b.bindAddress, b.port), this::handle,
        peer -> peer.isLoopbackAddress() || peers.contains(peer.getHostAddress()), 401, b.requestTimeout,
        b.idleTimeout, b.maxConnections, "hardway-metadata");
    Set<String> hosts = new HashSet<>();
    int port = http.port();
    String literal = b.bindAddress instanceof Inet6Address ? "[" + b.bindAddress.getHostAddress() + "]"
        : b.bindAddress.getHostAddress();
    hosts.add(literal + ":" + port);
    if (b.bindAddress.isLoopbackAddress()) {
      hosts.add("localhost:" + port);
    }
    for (String alias : b.hostAliases) {
      hosts.add(alias + ":" + port);
      hosts.add(alias + ":80");
      hosts.add(alias);
    }
    if (port == 80) {
      hosts.add(literal);
    }
    this.allowedHosts = Set.copyOf(hosts);
  }

  /**
   * Starts an imitator.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The port it listens on.
   *
   * @return the port
   */
  public int port() {
    return http.port();
  }

  /**
   * The base URI for {@code AWS_EC2_METADATA_SERVICE_ENDPOINT} / {@code aws.ec2MetadataServiceEndpoint}.
   *
   * @return e.g. {@code http://127.0.0.1:41234}
   */
  public URI endpoint() {
    InetAddress a = http.address();
    String host = a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
    return URI.create("http://" + host + ":" + http.port());
  }

  /**
   * Opens a container-credentials session for one process: the role is authorized now, kept fresh while the
   * session is open, and served only to requests carrying the session's token.
   *
   * @param roleReference a role ARN, {@code alias/role} or a role name in the default account
   * @return the session; hand its {@link ContainerSession#environment()} to the process
   * @throws RoleDeniedException when the policy does not grant the role
   * @throws CredentialsException when {@code maxContainerSessions} are open
   */
  public ContainerSession openContainerSession(String roleReference) {
    String roleArn = broker.resolveRole(roleReference);
    broker.authorize(roleArn);
    String token;
    synchronized (sessions) {
      if (sessions.size() >= maxContainerSessions) {
        throw new CredentialsException("all " + maxContainerSessions + " container sessions are open; close one "
            + "first or raise maxContainerSessions", true);
      }
      token = sessions.issue(roleArn, containerSessionTtl);
    }
    broker.pin(roleArn);
    return new ContainerSession(URI.create(endpoint() + CONTAINER_PATH), token, roleArn);
  }

  /**
   * Closes a container session: its token stops working at once.
   *
   * @param session the session
   * @return whether it was open
   */
  public boolean closeContainerSession(ContainerSession session) {
    return closeContainerSession(session.authorizationToken());
  }

  /**
   * Closes a container session by its token.
   *
   * @param authorizationToken the session's token
   * @return whether it was open
   */
  public boolean closeContainerSession(String authorizationToken) {
    String roleArn = sessions.lookup(authorizationToken);
    boolean was = sessions.revoke(authorizationToken);
    if (was && roleArn != null) {
      broker.unpin(roleArn);
    }
    return was;
  }

  /**
   * The counters since start.
   *
   * @return a snapshot
   */
  public MetadataStats stats() {
    return new MetadataStats(requests.sum(), credentialsServed.sum(), tokensIssued.sum(), tokens.evicted(),
        unauthorized.sum(), forbidden.sum(), notFound.sum(), badRequests.sum() + http.refusedRequests(),
        unavailable.sum(),
        http.refusedPeers() + http.refusedOverCapacity());
  }

  /**
   * IMDSv2 tokens held now; never more than {@code tokenCapacity}.
   *
   * @return the count
   */
  public int tokensHeld() {
    return tokens.size();
  }

  private HttpResponse handle(HttpRequest r) {
    requests.increment();
    HttpResponse resp = route(r);
    int s = resp.status();
    switch (s) {
      case 401 -> unauthorized.increment();
      case 403 -> forbidden.increment();
      case 404 -> notFound.increment();
      case 400, 405, 408, 413 -> badRequests.increment();
      default -> {
        if (s >= 500) {
          unavailable.increment();
        }
      }
    }
    return resp;
  }

  private HttpResponse route(HttpRequest r) {
    String host = r.header("host");
    if (host == null || r.headers("host").size() != 1 || !allowedHosts.contains(host.toLowerCase(Locale.ROOT))) {
      // DNS rebinding: a page on evil.com resolving to 127.0.0.1 still sends Host: evil.com.
      return HttpResponse.text(403, "Forbidden: Host must be this server's own address\n");
    }
    if (r.method().equals("OPTIONS") || looksLikeBrowser(r)) {
      return HttpResponse.text(403, "Forbidden: requests from browsers are refused\n");
    }
    String target = r.target();
    if (target.indexOf('?') >= 0 || target.indexOf('#') >= 0) {
      return HttpResponse.text(401, "Unauthorized: no query strings; tokens go in X-aws-ec2-metadata-token\n");
    }
    if (!SAFE_PATH.matcher(target).matches() || target.contains("/../") || target.endsWith("/..")
        || target.contains("/./") || target.endsWith("/.")) {
      return notFound();
    }
    if (target.equals(TOKEN_PATH)) {
      return token(r);
    }
    if (target.equals(CONTAINER_PATH)) {
      return container(r);
    }
    if (!r.method().equals("GET")) {
      return HttpResponse.text(405, "Method Not Allowed\n").withHeader("Allow", "GET");
    }
    if (!target.equals("/") && !target.startsWith("/latest")) {
      return notFound();
    }
    HttpResponse denied = checkToken(r);
    if (denied != null) {
      return denied;
    }
    return metadata(target);
  }

  private static boolean looksLikeBrowser(HttpRequest r) {
    if (r.header("origin") != null || r.header("referer") != null || r.header("sec-fetch-mode") != null
        || r.header("sec-fetch-site") != null || r.header("sec-ch-ua") != null) {
      return true;
    }
    String ua = r.header("user-agent");
    return ua != null && ua.startsWith("Mozilla/");
  }

  private HttpResponse token(HttpRequest r) {
    if (!r.method().equals("PUT")) {
      return HttpResponse.text(405, "Method Not Allowed\n").withHeader("Allow", "PUT");
    }
    if (r.header("x-forwarded-for") != null) {
      // EC2 refuses forwarded token requests: a proxy on the box must not obtain tokens. 403, not 400, because a
      // 400 makes the Java SDK fail instead of falling back to v1.
      return HttpResponse.text(403, "Forbidden: forwarded token requests are refused\n");
    }
    List<String> ttls = r.headers("x-aws-ec2-metadata-token-ttl-seconds");
    if (ttls.size() != 1) {
      return HttpResponse.text(400, "Bad Request: exactly one X-aws-ec2-metadata-token-ttl-seconds header is "
          + "required, got " + ttls.size() + "\n");
    }
    String ttl = ttls.get(0);
    if (!ttl.matches("\\d{1,5}") || Integer.parseInt(ttl) < 1 || Integer.parseInt(ttl) > 21600) {
      return HttpResponse.text(400, "Bad Request: X-aws-ec2-metadata-token-ttl-seconds must be 1 to 21600, got "
          + Printable.quote(ttl) + "\n");
    }
    String token = tokens.issue(Boolean.TRUE, Duration.ofSeconds(Integer.parseInt(ttl)));
    tokensIssued.increment();
    return HttpResponse.text(200, token).withHeader("X-aws-ec2-metadata-token-ttl-seconds", ttl);
  }

  private @Nullable HttpResponse checkToken(HttpRequest r) {
    List<String> presented = r.headers("x-aws-ec2-metadata-token");
    if (presented.isEmpty()) {
      return v2Only ? HttpResponse.text(401, "Unauthorized: an IMDSv2 token is required\n") : null;
    }
    if (presented.size() > 1 || tokens.lookup(presented.get(0)) == null) {
      return HttpResponse.text(401, "Unauthorized\n");
    }
    return null;
  }

  private HttpResponse metadata(String path) {
    String p = path.length() > 1 && path.endsWith("/") && !path.equals(CREDENTIALS_PREFIX)
        ? path.substring(0, path.length() - 1) : path;
    return switch (p) {
      case "/" -> text("latest");
      case "/latest" -> text("dynamic\nmeta-data");
      case "/latest/meta-data" -> text("ami-id\niam/\ninstance-id\ninstance-type\nlocal-ipv4\nplacement/");
      case "/latest/meta-data/ami-id" -> text(identity.imageId());
      case "/latest/meta-data/instance-id" -> text(identity.instanceId());
      case "/latest/meta-data/instance-type" -> text(identity.instanceType());
      case "/latest/meta-data/local-ipv4" -> text(identity.privateIp());
      case "/latest/meta-data/placement" -> text("availability-zone\nregion");
      case "/latest/meta-data/placement/availability-zone" -> text(identity.availabilityZone());
      case "/latest/meta-data/placement/region" -> text(identity.region());
      case "/latest/meta-data/iam" -> text("info\nsecurity-credentials/");
      case "/latest/meta-data/iam/info" -> iamInfo();
      case "/latest/meta-data/iam/security-credentials", CREDENTIALS_PREFIX -> roleList();
      case "/latest/dynamic" -> text("instance-identity/");
      case "/latest/dynamic/instance-identity" -> text("document");
      case "/latest/dynamic/instance-identity/document" -> text(identityDocument());
      // A role's document is a leaf: its path is taken as sent, without the slash-stripping of directories.
      default -> path.startsWith(CREDENTIALS_PREFIX)
          ? roleCredentials(path.substring(CREDENTIALS_PREFIX.length())) : notFound();
    };
  }

  private static HttpResponse text(String body) {
    return HttpResponse.text(200, body);
  }

  private static HttpResponse notFound() {
    return HttpResponse.text(404, "Not Found\n");
  }

  private HttpResponse roleList() {
    try {
      return text(RoleArns.roleName(broker.currentRole()));
    } catch (CredentialsException e) {
      return noRole(e);
    }
  }

  private HttpResponse iamInfo() {
    String roleArn;
    try {
      roleArn = broker.currentRole();
    } catch (CredentialsException e) {
      return noRole(e);
    }
    String name = RoleArns.roleName(roleArn);
    String profileArn = "arn:" + RoleArns.partition(roleArn) + ":iam::" + RoleArns.accountId(roleArn)
        + ":instance-profile/" + name;
    return text("{\n"
        + "  \"Code\" : \"Success\",\n"
        + "  \"LastUpdated\" : \"" + started + "\",\n"
        + "  \"InstanceProfileArn\" : \"" + Json.escape(profileArn) + "\",\n"
        + "  \"InstanceProfileId\" : \"AIPA" + stableId(profileArn) + "\"\n"
        + "}");
  }

  private HttpResponse roleCredentials(String name) {
    String roleArn;
    try {
      roleArn = broker.currentRole();
    } catch (CredentialsException e) {
      return noRole(e);
    }
    // Only the current role is served here; another role's name is as unknown as a made-up one.
    if (!name.equals(RoleArns.roleName(roleArn))) {
      return notFound();
    }
    RoleCredentials c;
    try {
      c = broker.credentials(roleArn);
    } catch (CredentialsException e) {
      return unavailable(e);
    }
    credentialsServed.increment();
    return text("{\n"
        + "  \"Code\" : \"Success\",\n"
        + "  \"LastUpdated\" : \"" + c.lastUpdated().truncatedTo(ChronoUnit.SECONDS) + "\",\n"
        + "  \"Type\" : \"AWS-HMAC\",\n"
        + "  \"AccessKeyId\" : \"" + Json.escape(c.accessKeyId()) + "\",\n"
        + "  \"SecretAccessKey\" : \"" + Json.escape(c.secretAccessKey()) + "\",\n"
        + "  \"Token\" : \"" + Json.escape(c.sessionToken()) + "\",\n"
        + "  \"Expiration\" : \"" + c.expiration().truncatedTo(ChronoUnit.SECONDS) + "\"\n"
        + "}");
  }

  private HttpResponse container(HttpRequest r) {
    if (!r.method().equals("GET")) {
      return HttpResponse.text(405, "Method Not Allowed\n").withHeader("Allow", "GET");
    }
    List<String> auth = r.headers("authorization");
    String roleArn = auth.size() == 1 ? sessions.lookup(auth.get(0)) : null;
    if (roleArn == null) {
      return HttpResponse.text(401, "Unauthorized: a live container session token is required\n");
    }
    RoleCredentials c;
    try {
      c = broker.credentials(roleArn);
    } catch (CredentialsException e) {
      return unavailable(e);
    }
    credentialsServed.increment();
    return HttpResponse.json(200, "{\"AccessKeyId\":\"" + Json.escape(c.accessKeyId())
        + "\",\"SecretAccessKey\":\"" + Json.escape(c.secretAccessKey())
        + "\",\"Token\":\"" + Json.escape(c.sessionToken())
        + "\",\"Expiration\":\"" + c.expiration().truncatedTo(ChronoUnit.SECONDS)
        + "\",\"RoleArn\":\"" + Json.escape(c.roleArn()) + "\"}");
  }

  /** No current role: none chosen and no default (404, as an instance without a profile), or the policy failed. */
  private static HttpResponse noRole(CredentialsException e) {
    return e.retryable() ? unavailable(e) : notFound();
  }

  private static HttpResponse unavailable(CredentialsException e) {
    // The message names the role and what STS said; it never holds a secret.
    return HttpResponse.text(e.retryable() ? 503 : 500, "Credentials unavailable: " + e.getMessage() + "\n");
  }

  private String identityDocument() {
    return "{\n"
        + "  \"accountId\" : \"" + identity.accountId() + "\",\n"
        + "  \"architecture\" : \"" + architecture + "\",\n"
        + "  \"availabilityZone\" : \"" + identity.availabilityZone() + "\",\n"
        + "  \"billingProducts\" : null,\n"
        + "  \"devpayProductCodes\" : null,\n"
        + "  \"marketplaceProductCodes\" : null,\n"
        + "  \"imageId\" : \"" + identity.imageId() + "\",\n"
        + "  \"instanceId\" : \"" + identity.instanceId() + "\",\n"
        + "  \"instanceType\" : \"" + identity.instanceType() + "\",\n"
        + "  \"kernelId\" : null,\n"
        + "  \"pendingTime\" : \"" + started + "\",\n"
        + "  \"privateIp\" : \"" + identity.privateIp() + "\",\n"
        + "  \"ramdiskId\" : null,\n"
        + "  \"region\" : \"" + identity.region() + "\",\n"
        + "  \"version\" : \"2017-09-30\"\n"
        + "}";
  }

  private static String stableId(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().withUpperCase().formatHex(d, 0, 9).substring(0, 17);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }

  /** Stops listening and closes every connection; idempotent. The broker stays the caller's. */
  @Override
  public void close() {
    http.close();
  }

  @Override
  public String toString() {
    return "MetadataServer[" + endpoint() + ", v2Only=" + v2Only + "]";
  }

  /** Builds a {@link MetadataServer}. */
  public static final class Builder {
    private @Nullable RoleBroker broker;
    private InetAddress bindAddress = InetAddress.getLoopbackAddress();
    private int port;
    private final Set<String> hostAliases = new HashSet<>();
    private final Set<String> allowedPeers = new HashSet<>();
    private boolean v2Only;
    private int tokenCapacity = 4096;
    private int maxConnections = 256;
    private int maxContainerSessions = 256;
    private Duration containerSessionTtl = Duration.ofHours(12);
    private Duration requestTimeout = Duration.ofSeconds(5);
    private Duration idleTimeout = Duration.ofSeconds(60);
    private InstanceIdentity identity = InstanceIdentity.WORKSTATION;
    private InstantSource clock = InstantSource.system();
    private SecureRandom random = new SecureRandom();

    private Builder() {}

    /**
     * The broker whose credentials are served.
     *
     * @param broker the broker
     * @return this builder
     */
    public Builder broker(RoleBroker broker) {
      this.broker = Objects.requireNonNull(broker, "broker");
      return this;
    }

    /**
     * The address to listen on; default the loopback address. A non-loopback address still serves only loopback
     * peers unless they are on the allow-list.
     *
     * @param address the address
     * @return this builder
     */
    public Builder bindAddress(InetAddress address) {
      this.bindAddress = Objects.requireNonNull(address, "bindAddress");
      return this;
    }

    /**
     * The port; default 0 (any free port).
     *
     * @param port 0 to 65535
     * @return this builder
     */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0 to 65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Another host name clients use for this server, accepted in {@code Host}: {@code 169.254.169.254} when the
     * link-local alias forwards here.
     *
     * @param host an IP literal or host name
     * @return this builder
     */
    public Builder hostAlias(String host) {
      if (!host.matches("[A-Za-z0-9.-]{1,253}|\\[[0-9A-Fa-f:.]{2,45}]")) {
        throw new IllegalArgumentException("hostAlias must be a host name or IP literal, got " + Printable.quote(host));
      }
      hostAliases.add(host.toLowerCase(Locale.ROOT));
      return this;
    }

    /**
     * A non-loopback client address allowed to connect (a container bridge, say). Loopback is always allowed.
     *
     * @param address an IP literal
     * @return this builder
     */
    public Builder allowPeer(String address) {
      // Only literals: InetAddress.getByName then parses without asking DNS.
      if (!address.matches("\\d{1,3}(\\.\\d{1,3}){3}|[0-9A-Fa-f:.]{2,45}")) {
        throw new IllegalArgumentException("allowPeer must be an IP literal, got " + Printable.quote(address));
      }
      try {
        allowedPeers.add(InetAddress.getByName(address).getHostAddress());
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("allowPeer must be an IP literal, got " + Printable.quote(address), e);
      }
      return this;
    }

    /**
     * Refuse IMDSv1 (tokenless) reads, as an instance with {@code HttpTokens=required}; default false.
     *
     * @param v2Only whether tokens are required
     * @return this builder
     */
    public Builder v2Only(boolean v2Only) {
      this.v2Only = v2Only;
      return this;
    }

    /**
     * Most IMDSv2 tokens held; past it the oldest is dropped (and counted). Default 4096.
     *
     * @param capacity 16 to 1,000,000
     * @return this builder
     */
    public Builder tokenCapacity(int capacity) {
      this.tokenCapacity = range(capacity, 16, 1_000_000, "tokenCapacity");
      return this;
    }

    /**
     * Most connections served at once; more are closed and counted. Default 256.
     *
     * @param max 1 to 65536
     * @return this builder
     */
    public Builder maxConnections(int max) {
      this.maxConnections = range(max, 1, 65536, "maxConnections");
      return this;
    }

    /**
     * Most container sessions open at once; default 256.
     *
     * @param max 1 to 65536
     * @return this builder
     */
    public Builder maxContainerSessions(int max) {
      this.maxContainerSessions = range(max, 1, 65536, "maxContainerSessions");
      return this;
    }

    /**
     * How long a container session token lives unless closed first; default 12 h.
     *
     * @param ttl 1 min to 7 days
     * @return this builder
     */
    public Builder containerSessionTtl(Duration ttl) {
      this.containerSessionTtl = Timing.within(ttl, Duration.ofMinutes(1), Duration.ofDays(7), "containerSessionTtl");
      return this;
    }

    /**
     * How long a client may take to send a request once it began; default 5 s.
     *
     * @param timeout 10 ms to 1 min
     * @return this builder
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = Timing.within(timeout, Duration.ofMillis(10), Duration.ofMinutes(1), "requestTimeout");
      return this;
    }

    /**
     * How long a kept-alive connection may idle; default 60 s.
     *
     * @param timeout 10 ms to 1 h
     * @return this builder
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = Timing.within(timeout, Duration.ofMillis(10), Duration.ofHours(1), "idleTimeout");
      return this;
    }

    /**
     * What the instance says about itself; default {@link InstanceIdentity#WORKSTATION}.
     *
     * @param identity the identity
     * @return this builder
     */
    public Builder identity(InstanceIdentity identity) {
      this.identity = Objects.requireNonNull(identity, "identity");
      return this;
    }

    /**
     * The clock for token expiry; default the system clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The CSPRNG for tokens; default a new {@link SecureRandom}.
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(SecureRandom random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    private static int range(int v, int min, int max, String option) {
      if (v < min || v > max) {
        throw new IllegalArgumentException(option + " must be " + min + " to " + max + ", got " + v);
      }
      return v;
    }

    /**
     * Binds and starts serving.
     *
     * @return the running server
     * @throws IllegalStateException when no broker is set
     * @throws UncheckedIOException when the address cannot be bound
     */
    public MetadataServer build() {
      if (broker == null) {
        throw new IllegalStateException("a MetadataServer needs a broker");
      }
      try {
        return new MetadataServer(this);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot listen on " + bindAddress.getHostAddress() + ":" + port + ": "
            + e.getMessage(), e);
      }
    }
  }
}
