package dev.hardway.testkit.sts;

import dev.hardway.testkit.internal.LoopbackHttpServer;
import dev.hardway.testkit.internal.LoopbackHttpServer.HttpCall;
import dev.hardway.testkit.internal.LoopbackHttpServer.HttpReply;
import dev.hardway.testkit.internal.SigV4;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A local AWS Security Token Service that speaks the real wire protocol, so the SDK's {@code StsClient},
 * {@code StsAssumeRoleCredentialsProvider} and the AWS CLI work against it unchanged.
 *
 * <p>It answers SigV4-signed awsQuery requests ({@code POST /}, form-encoded) for {@code AssumeRole},
 * {@code GetCallerIdentity} and {@code GetSessionToken} with STS's XML shapes, and errors as STS sends them
 * ({@code AccessDenied}, {@code ExpiredToken}, {@code InvalidClientTokenId}, {@code SignatureDoesNotMatch},
 * {@code ValidationError}, {@code Throttling}, …). What it enforces:
 * <ul>
 *   <li><b>Signatures.</b> Every request's SigV4 signature is verified against the keys the server knows: the users'
 *       long-term keys and every session it issued (with its session token). So a request that succeeds when signed
 *       with assumed-role credentials proves those credentials work.
 *   <li><b>Trust.</b> A role may be assumed only by the principals its {@link StsRole} trusts, with its external id
 *       and MFA conditions; durations run from 900 s to the role's maximum, and role chaining (a role session
 *       assuming a role) is capped at 1 hour, as in AWS.
 *   <li><b>Expiry.</b> Issued credentials expire per the injected clock ({@link Builder#clock}); after that the
 *       server answers {@code ExpiredToken}. Request timestamps are checked against the wall clock instead (the
 *       SDK signs with it), within 15 minutes.
 *   <li><b>Rate.</b> With {@link Builder#maxRequestsPerSecond} set, requests beyond it get {@code Throttling}.
 *   <li><b>Console sign-in.</b> {@code GET /federation} on the same port is the AWS federation endpoint:
 *       {@code Action=getSigninToken} turns live {@code AssumeRole} credentials this server issued into a
 *       {@code SigninToken} (JSON), and {@code Action=login} redeems it with a 302 to the {@code Destination}. Like
 *       AWS it refuses long-term keys, {@code GetSessionToken} sessions, expired or unknown credentials, a
 *       {@code SessionDuration} outside 900..43200 or given with chained credentials; tokens live 15 minutes (per the
 *       injected clock) and, stricter than AWS, redeem once. {@link #signinTokenPrincipal} tells tests whom a token
 *       signs in.
 * </ul>
 *
 * <pre>{@code
 * try (StsServer sts = StsServer.builder()
 *     .user("alice", "AKIAALICE0000000TEST", "alice-secret")
 *     .role(StsRole.builder("arn:aws:iam::000000000000:role/bidder")
 *         .trust("arn:aws:iam::000000000000:user/alice").build())
 *     .start()) {
 *   // point StsClient.builder().endpointOverride(sts.endpoint()) at it
 * }
 * }</pre>
 *
 * <p>Thread-safe: users, roles and MFA devices may be added while it serves requests. Not supported: the other STS
 * actions (they answer {@code InvalidAction}), session policies and tags (accepted and ignored), presigned URLs.
 */
public final class StsServer implements AutoCloseable {

  /** The default account: the one kinesis-mock and the rest of the test kit use too. */
  public static final String DEFAULT_ACCOUNT_ID = "000000000000";

  static final String NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
  private static final String VERSION = "2011-06-15";
  private static final long MAX_SKEW_SECONDS = 15 * 60;
  private static final int MIN_DURATION = 900;
  private static final int DEFAULT_ASSUME_DURATION = 3600;
  private static final int CHAINING_CAP = 3600;
  private static final int MAX_SESSION_TOKEN_DURATION = 129_600;
  private static final int DEFAULT_SESSION_TOKEN_DURATION = 43_200;
  /** Expired sessions are kept this long, so their use is answered {@code ExpiredToken}, not as unknown. */
  private static final Duration KEEP_EXPIRED = Duration.ofHours(24);
  private static final Pattern SESSION_NAME = Pattern.compile("[\\w+=,.@-]{2,64}");
  private static final Pattern USER_NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
  private static final Pattern ACCESS_KEY = Pattern.compile("[A-Z0-9]{16,128}");
  private static final Pattern MFA_SERIAL = Pattern.compile("[\\w+=/:,.@-]{9,256}");
  private static final char[] KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

  private final LoopbackHttpServer http;
  private final String accountId;
  private final InstantSource clock;
  private final InstantSource wallClock = InstantSource.system();
  private final int maxSessions;
  private final RateLimiter limiter;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Identity> users = new ConcurrentHashMap<>();
  private final Map<String, Identity> sessions = new ConcurrentHashMap<>();
  private final Map<String, StsRole> roles = new ConcurrentHashMap<>();
  private final Map<String, byte[]> mfaDevices = new ConcurrentHashMap<>();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong issued = new AtomicLong();
  private final AtomicLong denied = new AtomicLong();
  private final AtomicLong authFailures = new AtomicLong();
  private final AtomicLong throttled = new AtomicLong();
  private final AtomicLong sessionsEvicted = new AtomicLong();
  private final Federation federation;

  private StsServer(Builder b) {
    this.accountId = b.accountId;
    this.clock = b.clock;
    this.maxSessions = b.maxSessions;
    this.limiter = new RateLimiter(b.maxRequestsPerSecond);
    b.users.forEach(u -> addUser(u[0], u[1], u[2]));
    b.roles.forEach(this::putRole);
    b.mfaDevices.forEach(this::addMfaDevice);
    this.federation = new Federation(clock, random, sessions::get, users::containsKey, b.maxSessions);
    this.http = LoopbackHttpServer.start("sts", b.host, b.port, this::handle);
  }

  /**
   * The secret key of a live session this server issued ({@code AssumeRole}, {@code GetSessionToken}, …), so that
   * other local services accept STS credentials: the test kit's S3 checks a request's signature with it. (That S3
   * does not compare the session token, as AWS would.)
   *
   * @param accessKeyId a session's access key id
   * @return its secret key, or {@code null} when this server did not issue it or the session expired
   */
  public @Nullable String sessionSecret(String accessKeyId) {
    Identity id = sessions.get(accessKeyId);
    if (id == null || id.expiration == null || !clock.instant().isBefore(id.expiration)) {
      return null;
    }
    return id.secret;
  }

  /**
   * Starts a server with default settings: a free loopback port, account {@value #DEFAULT_ACCOUNT_ID}, no users.
   *
   * @return the running server
   */
  public static StsServer start() {
    return builder().start();
  }

  /**
   * A builder for a server.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The endpoint to give the SDK's {@code endpointOverride}.
   *
   * @return {@code http://127.0.0.1:<port>}
   */
  public URI endpoint() {
    return http.endpoint();
  }

  /**
   * The port the server listens on.
   *
   * @return the port
   */
  public int port() {
    return http.port();
  }

  /**
   * The server's own account.
   *
   * @return the 12-digit account id
   */
  public String accountId() {
    return accountId;
  }

  /**
   * Adds an IAM user with a long-term access key, in the server's account.
   *
   * @param userName 1 to 64 characters of {@code [\w+=,.@-]}
   * @param accessKeyId upper-case letters and digits, 16 to 128 characters
   * @param secretAccessKey the secret, not empty
   * @return the user's ARN
   * @throws IllegalArgumentException when a value is malformed or the access key id is taken
   */
  public String addUser(String userName, String accessKeyId, String secretAccessKey) {
    if (userName == null || !USER_NAME.matcher(userName).matches()) {
      throw new IllegalArgumentException("userName must be 1 to 64 characters of [\\w+=,.@-], got '" + userName + "'");
    }
    if (accessKeyId == null || !ACCESS_KEY.matcher(accessKeyId).matches()) {
      throw new IllegalArgumentException(
          "accessKeyId must be 16 to 128 upper-case letters and digits, got '" + accessKeyId + "'");
    }
    if (secretAccessKey == null || secretAccessKey.isEmpty()) {
      throw new IllegalArgumentException("secretAccessKey must not be empty for user '" + userName + "'");
    }
    String arn = "arn:aws:iam::" + accountId + ":user/" + userName;
    Identity user = new Identity(accessKeyId, secretAccessKey, null, null, arn, "AIDA" + stableId(arn),
        accountId, null, arn, false, false);
    if (users.putIfAbsent(accessKeyId, user) != null) {
      throw new IllegalArgumentException("accessKeyId '" + accessKeyId + "' already belongs to another user");
    }
    return arn;
  }

  /**
   * Adds a role, or replaces the role with the same ARN.
   *
   * @param role the role and its trust policy
   */
  public void putRole(StsRole role) {
    roles.put(role.arn(), Objects.requireNonNull(role, "role"));
  }

  /**
   * Registers a virtual MFA device.
   *
   * @param serialNumber the serial, e.g. {@code arn:aws:iam::000000000000:mfa/alice}
   * @param secret the TOTP secret (RFC 6238, HMAC-SHA1), at least 10 bytes
   * @throws IllegalArgumentException when the serial or secret is malformed
   */
  public void addMfaDevice(String serialNumber, byte[] secret) {
    if (serialNumber == null || !MFA_SERIAL.matcher(serialNumber).matches()) {
      throw new IllegalArgumentException(
          "serialNumber must be 9 to 256 characters of [\\w+=/:,.@-], got '" + serialNumber + "'");
    }
    if (secret == null || secret.length < 10) {
      throw new IllegalArgumentException("MFA secret must be at least 10 bytes, got "
          + (secret == null ? "null" : secret.length + " bytes"));
    }
    mfaDevices.put(serialNumber, secret.clone());
  }

  /**
   * The current one-time code of a registered MFA device, per the server's clock, as the device would show it.
   *
   * @param serialNumber a registered serial
   * @return the six-digit code
   * @throws IllegalArgumentException when no such device is registered
   */
  public String mfaCode(String serialNumber) {
    byte[] secret = mfaDevices.get(serialNumber);
    if (secret == null) {
      throw new IllegalArgumentException("no MFA device with serial '" + serialNumber + "'");
    }
    return Totp.code(secret, clock.instant());
  }

  /**
   * Counters since start.
   *
   * @return an immutable snapshot
   */
  public Stats stats() {
    return new Stats(requests.get(), issued.get(), denied.get(), authFailures.get(), throttled.get(),
        sessions.size(), sessionsEvicted.get(), federation.tokensIssued(), federation.logins(),
        federation.refused());
  }

  /**
   * Counters of a running server.
   *
   * @param requests requests received
   * @param credentialsIssued sessions issued by {@code AssumeRole} and {@code GetSessionToken}
   * @param accessDenied requests answered {@code AccessDenied}
   * @param authenticationFailures requests whose signature, key, token or expiry was refused
   * @param throttled requests answered {@code Throttling}
   * @param sessionsHeld issued sessions still remembered (live, or expired less than a day ago)
   * @param sessionsEvicted sessions forgotten early because the store was full
   * @param signinTokensIssued sign-in tokens issued by the federation endpoint ({@code getSigninToken})
   * @param consoleSignIns sign-in tokens redeemed by the federation endpoint ({@code login})
   * @param federationRefused federation endpoint requests answered 4xx
   */
  public record Stats(
      long requests,
      long credentialsIssued,
      long accessDenied,
      long authenticationFailures,
      long throttled,
      long sessionsHeld,
      long sessionsEvicted,
      long signinTokensIssued,
      long consoleSignIns,
      long federationRefused) {}

  /**
   * What the federation endpoint knows of a sign-in token it issued: whose it is, for tests to assert who a console
   * sign-in URL signs in.
   *
   * @param token a {@code SigninToken}, used or not
   * @return the token's details, or empty when this server did not issue it (or has forgotten it, a day after it
   *     expired)
   */
  public Optional<SigninToken> signinToken(String token) {
    return federation.lookup(token);
  }

  /**
   * The principal a sign-in token signs in as.
   *
   * @param token a {@code SigninToken}, used or not
   * @return the session's ARN, e.g. {@code arn:aws:sts::000000000000:assumed-role/hardway-local/alice}, or empty when
   *     this server did not issue the token
   */
  public Optional<String> signinTokenPrincipal(String token) {
    return federation.lookup(token).map(SigninToken::principalArn);
  }

  /**
   * A sign-in token issued by the federation endpoint.
   *
   * @param principalArn the session the token signs in as
   * @param accessKeyId the access key id of the session credentials it was made from
   * @param consoleSessionDuration the {@code SessionDuration} asked for, or null when none was given
   * @param expiration when the token stops being accepted by {@code login} (15 minutes after issue, per the
   *     server's clock)
   * @param used whether {@code login} has redeemed it (tokens are single-use here)
   */
  public record SigninToken(
      String principalArn,
      String accessKeyId,
      @Nullable Duration consoleSessionDuration,
      Instant expiration,
      boolean used) {}

  /** Stops the server; idempotent. */
  @Override
  public void close() {
    http.close();
  }

  @Override
  public String toString() {
    return "StsServer[" + endpoint() + ", account " + accountId + "]";
  }

  // ---------------------------------------------------------------------------------------------------------------

  private HttpReply handle(HttpCall call) {
    requests.incrementAndGet();
    if (Federation.PATH.equals(call.rawPath())) {
      return federation.handle(call);
    }
    String requestId = UUID.randomUUID().toString();
    try {
      Map<String, String> params = params(call);
      String action = params.get("Action");
      if (action == null || action.isEmpty()) {
        throw StsException.sender(400, "MissingAction", "Missing Action");
      }
      String version = params.get("Version");
      if (!VERSION.equals(version)) {
        throw StsException.sender(400, "InvalidAction",
            "Could not find operation " + action + " for version " + (version == null ? "NO_VERSION_SPECIFIED" : version));
      }
      if (!limiter.tryAcquire()) {
        throttled.incrementAndGet();
        throw StsException.sender(400, "Throttling", "Rate exceeded");
      }
      Identity caller;
      try {
        caller = authenticate(call);
      } catch (StsException e) {
        authFailures.incrementAndGet();
        throw e;
      }
      String result = switch (action) {
        case "AssumeRole" -> assumeRole(caller, params);
        case "GetCallerIdentity" -> "<Arn>" + xml(caller.arn) + "</Arn><UserId>" + xml(caller.userId)
            + "</UserId><Account>" + caller.accountId + "</Account>";
        case "GetSessionToken" -> getSessionToken(caller, params);
        default -> throw StsException.sender(400, "InvalidAction",
            "Could not find operation " + action + " for version " + VERSION);
      };
      String body = "<" + action + "Response xmlns=\"" + NAMESPACE + "\">\n  <" + action + "Result>" + result
          + "</" + action + "Result>\n  <ResponseMetadata><RequestId>" + requestId
          + "</RequestId></ResponseMetadata>\n</" + action + "Response>\n";
      return reply(200, body, requestId);
    } catch (StsException e) {
      if ("AccessDenied".equals(e.code())) {
        denied.incrementAndGet();
      }
      String body = "<ErrorResponse xmlns=\"" + NAMESPACE + "\">\n  <Error>\n    <Type>" + e.type()
          + "</Type>\n    <Code>" + e.code() + "</Code>\n    <Message>" + xml(String.valueOf(e.getMessage()))
          + "</Message>\n  </Error>\n  <RequestId>" + requestId + "</RequestId>\n</ErrorResponse>\n";
      return reply(e.status(), body, requestId);
    }
  }

  private static HttpReply reply(int status, String body, String requestId) {
    return HttpReply.of(status, "text/xml", body.getBytes(StandardCharsets.UTF_8))
        .withHeader("x-amzn-RequestId", requestId);
  }

  private static Map<String, String> params(HttpCall call) throws StsException {
    Map<String, String> params = new LinkedHashMap<>();
    parseForm(call.rawQuery(), params);
    if ("POST".equals(call.method())) {
      String type = call.header("content-type");
      if (type != null && !type.startsWith("application/x-www-form-urlencoded")) {
        throw StsException.sender(400, "InvalidParameterValue",
            "Content-Type must be application/x-www-form-urlencoded, got '" + type + "'");
      }
      parseForm(new String(call.body(), StandardCharsets.UTF_8), params);
    } else if (!"GET".equals(call.method())) {
      throw StsException.sender(405, "MethodNotAllowed", "STS accepts GET and POST, not " + call.method());
    }
    return params;
  }

  private static void parseForm(String form, Map<String, String> into) throws StsException {
    if (form.isEmpty()) {
      return;
    }
    for (String pair : form.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        into.put(name, value);
      } catch (IllegalArgumentException e) {
        throw StsException.sender(400, "MalformedQueryString", "Malformed form parameter: " + pair);
      }
    }
  }

  private Identity authenticate(HttpCall call) throws StsException {
    SigV4.Authorization auth;
    try {
      auth = SigV4.parse(call.header("authorization"));
    } catch (SigV4.SignatureException e) {
      throw e.reason() == SigV4.SignatureException.Reason.MISSING
          ? StsException.sender(403, "MissingAuthenticationToken", e.getMessage())
          : StsException.sender(400, "IncompleteSignature", e.getMessage());
    }
    Identity id = users.get(auth.accessKeyId());
    if (id == null) {
      id = sessions.get(auth.accessKeyId());
    }
    if (id == null) {
      throw StsException.invalidToken();
    }
    if (id.sessionToken != null) {
      String token = call.header("x-amz-security-token");
      if (token == null || !MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8),
          id.sessionToken.getBytes(StandardCharsets.UTF_8))) {
        throw StsException.invalidToken();
      }
      if (!clock.instant().isBefore(Objects.requireNonNull(id.expiration))) {
        throw StsException.sender(400, "ExpiredToken", "The security token included in the request is expired");
      }
    }
    if (!"sts".equals(auth.service())) {
      throw StsException.sender(403, "SignatureDoesNotMatch",
          "Credential should be scoped to correct service: 'sts'. ");
    }
    try {
      SigV4.verify(auth, id.secret, call.method(), call.rawPath(), call.rawQuery(), call.headers(), call.body(),
          wallClock.instant(), MAX_SKEW_SECONDS, false);
    } catch (SigV4.SignatureException e) {
      throw e.reason() == SigV4.SignatureException.Reason.MALFORMED
          ? StsException.sender(400, "IncompleteSignature", e.getMessage())
          : StsException.sender(403, "SignatureDoesNotMatch", e.getMessage());
    }
    return id;
  }

  private String assumeRole(Identity caller, Map<String, String> p) throws StsException {
    String roleArn = p.get("RoleArn");
    String sessionName = p.get("RoleSessionName");
    if (roleArn == null || roleArn.length() < 20 || roleArn.length() > 2048) {
      throw StsException.validation("1 validation error detected: Value " + quoted(roleArn)
          + " at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048");
    }
    if (sessionName == null || !SESSION_NAME.matcher(sessionName).matches()) {
      throw StsException.validation("1 validation error detected: Value " + quoted(sessionName)
          + " at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern:"
          + " [\\w+=,.@-]* and have length between 2 and 64");
    }
    int duration = duration(p.get("DurationSeconds"), DEFAULT_ASSUME_DURATION, 43_200);
    StsRole role = roles.get(roleArn);
    String denial = "User: " + caller.arn + " is not authorized to perform: sts:AssumeRole on resource: " + roleArn;
    if (role == null || !trusts(role, caller)) {
      throw StsException.accessDenied(denial);
    }
    String externalId = p.get("ExternalId");
    if (role.externalId() != null && !role.externalId().equals(externalId)) {
      throw StsException.accessDenied(denial);
    }
    boolean mfa = caller.mfaAuthenticated || mfa(p.get("SerialNumber"), p.get("TokenCode"));
    if (role.mfaRequired() && !mfa) {
      throw StsException.accessDenied(denial);
    }
    boolean chaining = caller.roleArn != null;
    if (chaining && duration > CHAINING_CAP) {
      throw StsException.validation(
          "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
    }
    if (duration > role.maxSessionDuration().toSeconds()) {
      throw StsException.validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    }
    String sessionArn = "arn:aws:sts::" + role.accountId() + ":assumed-role/" + role.name() + "/" + sessionName;
    String roleId = "AROA" + stableId(roleArn);
    // Trust policies name a session by its role's ARN, so that is the session's principal (for role chaining).
    Identity session = issue(sessionArn, roleId + ":" + sessionName, role.accountId(), roleArn, roleArn, mfa,
        duration, caller.sessionToken != null);
    StringBuilder sb = new StringBuilder(1024);
    String sourceIdentity = p.get("SourceIdentity");
    if (sourceIdentity != null) {
      sb.append("\n    <SourceIdentity>").append(xml(sourceIdentity)).append("</SourceIdentity>");
    }
    sb.append("\n    <AssumedRoleUser>\n      <AssumedRoleId>").append(xml(session.userId))
        .append("</AssumedRoleId>\n      <Arn>").append(xml(sessionArn)).append("</Arn>\n    </AssumedRoleUser>");
    credentials(sb, session);
    return sb.append("\n  ").toString();
  }

  private String getSessionToken(Identity caller, Map<String, String> p) throws StsException {
    if (caller.sessionToken != null) {
      throw StsException.accessDenied("Cannot call GetSessionToken with session credentials");
    }
    int duration = duration(p.get("DurationSeconds"), DEFAULT_SESSION_TOKEN_DURATION, MAX_SESSION_TOKEN_DURATION);
    boolean mfa = mfa(p.get("SerialNumber"), p.get("TokenCode"));
    Identity session = issue(caller.arn, caller.userId, caller.accountId, null, caller.principal, mfa, duration,
        false);
    StringBuilder sb = new StringBuilder(1024);
    credentials(sb, session);
    return sb.append("\n  ").toString();
  }

  private boolean trusts(StsRole role, Identity caller) {
    for (String principal : role.trustedPrincipals()) {
      if (StsRole.ANYONE.equals(principal)
          || principal.equals(caller.principal)
          || principal.equals(caller.arn)
          || principal.equals("arn:aws:iam::" + caller.accountId + ":root")) {
        return true;
      }
    }
    return false;
  }

  /** Checks an MFA serial and code when given; absent both means no MFA. */
  private boolean mfa(@Nullable String serial, @Nullable String code) throws StsException {
    if (serial == null && code == null) {
      return false;
    }
    if (serial == null || code == null || !code.matches("\\d{6}")) {
      throw StsException.validation("1 validation error detected: SerialNumber and a six-digit TokenCode must be"
          + " given together, got SerialNumber " + quoted(serial) + " and TokenCode "
          + (code == null ? "null" : "of length " + code.length()));
    }
    byte[] secret = mfaDevices.get(serial);
    if (secret == null) {
      throw StsException.accessDenied("MultiFactorAuthentication failed, unable to validate MFA code.  Please verify"
          + " your MFA serial number is valid and associated with this user.");
    }
    if (!Totp.verify(secret, code, clock.instant())) {
      throw StsException.accessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code. ");
    }
    return true;
  }

  private static int duration(@Nullable String value, int defaultSeconds, int max) throws StsException {
    if (value == null) {
      return defaultSeconds;
    }
    int seconds;
    try {
      seconds = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw StsException.validation("1 validation error detected: Value '" + value
          + "' at 'durationSeconds' failed to satisfy constraint: Member must be an integer");
    }
    if (seconds < MIN_DURATION) {
      throw StsException.validation("1 validation error detected: Value '" + value
          + "' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to "
          + MIN_DURATION);
    }
    if (seconds > max) {
      throw StsException.validation("1 validation error detected: Value '" + value
          + "' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to " + max);
    }
    return seconds;
  }

  private Identity issue(String arn, String userId, String account, @Nullable String roleArn, String principal,
      boolean mfa, int durationSeconds, boolean chained) {
    Instant now = clock.instant();
    Instant expiration = now.plusSeconds(durationSeconds).truncatedTo(ChronoUnit.SECONDS);
    Identity session;
    do {
      session = new Identity("ASIA" + randomKey(16), randomBase64(30), randomBase64(192), expiration, arn, userId,
          account, roleArn, principal, mfa, chained);
    } while (sessions.putIfAbsent(session.accessKeyId, session) != null || users.containsKey(session.accessKeyId));
    issued.incrementAndGet();
    if (sessions.size() > maxSessions) {
      forgetOldSessions(now);
    }
    return session;
  }

  private synchronized void forgetOldSessions(Instant now) {
    Instant cutoff = now.minus(KEEP_EXPIRED);
    sessions.values().removeIf(s -> Objects.requireNonNull(s.expiration).isBefore(cutoff));
    if (sessions.size() > maxSessions) {
      List<Identity> byExpiry = new ArrayList<>(sessions.values());
      byExpiry.sort((a, b) -> Objects.requireNonNull(a.expiration).compareTo(Objects.requireNonNull(b.expiration)));
      Iterator<Identity> it = byExpiry.iterator();
      while (sessions.size() > maxSessions && it.hasNext()) {
        if (sessions.remove(it.next().accessKeyId) != null) {
          sessionsEvicted.incrementAndGet();
        }
      }
    }
  }

  private static void credentials(StringBuilder sb, Identity s) {
    sb.append("\n    <Credentials>\n      <AccessKeyId>").append(s.accessKeyId)
        .append("</AccessKeyId>\n      <SecretAccessKey>").append(xml(s.secret))
        .append("</SecretAccessKey>\n      <SessionToken>").append(xml(Objects.requireNonNull(s.sessionToken)))
        .append("</SessionToken>\n      <Expiration>").append(Objects.requireNonNull(s.expiration))
        .append("</Expiration>\n    </Credentials>");
  }

  private String randomKey(int length) {
    char[] out = new char[length];
    for (int i = 0; i < length; i++) {
      out[i] = KEY_ALPHABET[random.nextInt(KEY_ALPHABET.length)];
    }
    return new String(out);
  }

  private String randomBase64(int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return java.util.Base64.getEncoder().encodeToString(b);
  }

  /** A stable 17-character id for an ARN, so a user's or role's unique id is the same in every run. */
  private static String stableId(String arn) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(arn.getBytes(StandardCharsets.UTF_8));
      char[] out = new char[17];
      for (int i = 0; i < out.length; i++) {
        out[i] = KEY_ALPHABET[(h[i] & 0xff) % KEY_ALPHABET.length];
      }
      return new String(out);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String quoted(@Nullable String value) {
    return value == null ? "null" : "'" + value + "'";
  }

  static String xml(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&apos;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * A principal that can sign requests: a user's long-term key, or an issued session.
   *
   * @param principal the ARN trust policies match: the user's ARN (also for its GetSessionToken sessions), or the
   *     role's ARN for a role session
   * @param chained whether the session was issued to a caller that itself used session credentials
   */
  record Identity(
      String accessKeyId,
      String secret,
      @Nullable String sessionToken,
      @Nullable Instant expiration,
      String arn,
      String userId,
      String accountId,
      @Nullable String roleArn,
      String principal,
      boolean mfaAuthenticated,
      boolean chained) {

    @Override
    public String toString() {
      return "Identity[" + arn + ", key " + accessKeyId + "]";
    }
  }

  /** A token bucket refilled at the configured rate, holding at most one second's worth. */
  private static final class RateLimiter {
    private final double perSecond;
    private double tokens;
    private long last = System.nanoTime();

    RateLimiter(double perSecond) {
      this.perSecond = perSecond;
      this.tokens = perSecond;
    }

    synchronized boolean tryAcquire() {
      if (perSecond <= 0) {
        return true;
      }
      long now = System.nanoTime();
      tokens = Math.min(perSecond, tokens + (now - last) / 1e9 * perSecond);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      return false;
    }
  }

  /** Builds and starts a {@link StsServer}. Not thread-safe. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port;
    private String accountId = DEFAULT_ACCOUNT_ID;
    private InstantSource clock = InstantSource.system();
    private double maxRequestsPerSecond;
    private int maxSessions = 100_000;
    private final List<String[]> users = new ArrayList<>();
    private final List<StsRole> roles = new ArrayList<>();
    private final Map<String, byte[]> mfaDevices = new HashMap<>();

    private Builder() {}

    /**
     * Sets the address to listen on.
     *
     * @param host a loopback address; default {@code 127.0.0.1}
     * @return this builder
     */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /**
     * Sets the port.
     *
     * @param port 0 to 65535; default 0, a free port
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Sets the server's own account, used in the ARNs of users added by name.
     *
     * @param accountId 12 digits; default {@value StsServer#DEFAULT_ACCOUNT_ID}
     * @return this builder
     * @throws IllegalArgumentException when not 12 digits
     */
    public Builder accountId(String accountId) {
      if (accountId == null || !accountId.matches("\\d{12}")) {
        throw new IllegalArgumentException("accountId must be 12 digits, got '" + accountId + "'");
      }
      this.accountId = accountId;
      return this;
    }

    /**
     * Sets the clock that issues and expires credentials and checks MFA codes.
     *
     * @param clock the clock; default the system clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Answers {@code Throttling} to requests beyond this rate (a token bucket holding one second's worth).
     *
     * @param perSecond requests per second; 0 (the default) for no limit
     * @return this builder
     * @throws IllegalArgumentException when negative or not finite
     */
    public Builder maxRequestsPerSecond(double perSecond) {
      if (!(perSecond >= 0) || Double.isInfinite(perSecond)) {
        throw new IllegalArgumentException("maxRequestsPerSecond must be >= 0 and finite, got " + perSecond);
      }
      this.maxRequestsPerSecond = perSecond;
      return this;
    }

    /**
     * Bounds the sessions remembered; past it, sessions expired for a day go first, then the soonest to expire.
     *
     * @param max at least 1; default 100,000
     * @return this builder
     * @throws IllegalArgumentException when below 1
     */
    public Builder maxSessions(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxSessions must be >= 1, got " + max);
      }
      this.maxSessions = max;
      return this;
    }

    /**
     * Adds a user; see {@link StsServer#addUser}.
     *
     * @param userName the user name
     * @param accessKeyId the access key id
     * @param secretAccessKey the secret
     * @return this builder
     */
    public Builder user(String userName, String accessKeyId, String secretAccessKey) {
      users.add(new String[] {userName, accessKeyId, secretAccessKey});
      return this;
    }

    /**
     * Adds a role.
     *
     * @param role the role
     * @return this builder
     */
    public Builder role(StsRole role) {
      roles.add(Objects.requireNonNull(role, "role"));
      return this;
    }

    /**
     * Registers an MFA device; see {@link StsServer#addMfaDevice}.
     *
     * @param serialNumber the serial
     * @param secret the TOTP secret
     * @return this builder
     */
    public Builder mfaDevice(String serialNumber, byte[] secret) {
      mfaDevices.put(serialNumber, secret.clone());
      return this;
    }

    /**
     * Starts the server.
     *
     * @return the running server
     * @throws IllegalArgumentException when a user, role or device is malformed
     * @throws IllegalStateException when the port cannot be bound
     */
    public StsServer start() {
      return new StsServer(this);
    }
  }
}
