package dev.hardway.credentials;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;
import software.amazon.awssdk.services.sts.model.AssumeRoleResponse;
import software.amazon.awssdk.services.sts.model.Credentials;

/**
 * Decides which role a user may hold, assumes it through STS and keeps its credentials fresh.
 *
 * <pre>{@code
 * RoleBroker broker = RoleBroker.builder()
 *     .sts(StsClient.create())
 *     .policy(policy)
 *     .user("alice")
 *     .accountAlias("prod", "123456789012")
 *     .build();
 * broker.use("prod/developer");           // refused with RoleDeniedException unless the policy grants it
 * RoleCredentials c = broker.currentCredentials();
 * }</pre>
 *
 * <p>Per role, credentials are fetched once however many callers ask at the same time (single flight), refreshed
 * early — at a random point between half and three quarters of their lifetime — in the background, and retried with
 * exponential backoff and jitter after a failure. While STS fails, credentials that are still valid for longer than
 * {@code minimumValidity} keep being served; expired ones never are. The policy is asked again on every fetch, so a
 * revoked grant stops at the next refresh.
 *
 * <p>Thread-safe. {@link #close()} stops the background refresher.
 */
public final class RoleBroker implements AutoCloseable {
  private final StsClient sts;
  private final RolePolicy policy;
  private final String user;
  private final Map<String, String> aliases;
  private final @Nullable String defaultAccount;
  private final String partition;
  private final @Nullable String mfaSerial;
  private final InstantSource clock;
  private final RandomGenerator random;
  private final Executor executor;
  private final @Nullable ExecutorService ownedExecutor;
  private final @Nullable ScheduledExecutorService refresher;
  private final Duration fetchTimeout;
  private final Duration minimumValidity;
  private final Duration retryBase;
  private final Duration retryMax;
  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final Map<String, Integer> pinned = new HashMap<>();
  private final LongAdder stsCalls = new LongAdder();
  private final LongAdder stsFailures = new LongAdder();
  private volatile @Nullable String currentRoleArn;
  private volatile boolean closed;

  private static final class Entry {
    final String roleArn;
    volatile @Nullable RoleCredentials current;
    volatile Instant refreshAt = Instant.MAX;
    // The fields below are guarded by this entry's monitor.
    @Nullable CompletableFuture<RoleCredentials> inFlight;
    int consecutiveFailures;
    Instant nextAttemptAt = Instant.MIN;
    @Nullable CredentialsException lastError;
    boolean mfaBound;
    long refreshes;

    Entry(String roleArn) {
      this.roleArn = roleArn;
    }
  }

  private RoleBroker(Builder b) {
    this.sts = Objects.requireNonNull(b.sts);
    this.policy = Objects.requireNonNull(b.policy);
    this.user = Objects.requireNonNull(b.user);
    this.aliases = Map.copyOf(b.aliases);
    this.defaultAccount = b.defaultAccount;
    this.partition = b.partition;
    this.mfaSerial = b.mfaSerial;
    this.clock = b.clock;
    this.random = b.random;
    this.fetchTimeout = b.fetchTimeout;
    this.minimumValidity = b.minimumValidity;
    this.retryBase = b.retryBase;
    this.retryMax = b.retryMax;
    if (b.executor != null) {
      this.executor = b.executor;
      this.ownedExecutor = null;
    } else {
      ExecutorService e = Executors.newThreadPerTaskExecutor(
          Thread.ofVirtual().name("hardway-broker-fetch-", 0).factory());
      this.executor = e;
      this.ownedExecutor = e;
    }
    if (b.backgroundRefresh) {
      ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("hardway-broker-refresh").factory());
      long tick = b.refreshTick.toMillis();
      s.scheduleWithFixedDelay(this::refreshDueQuietly, tick, tick, TimeUnit.MILLISECONDS);
      this.refresher = s;
    } else {
      this.refresher = null;
    }
  }

  /**
   * Starts a broker.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The user the broker acts for; also the STS session name.
   *
   * @return the user name
   */
  public String user() {
    return user;
  }

  /**
   * Expands what a user typed into a role ARN: an ARN as is, {@code alias/role} through the configured aliases
   * ({@code 123456789012/role} also works), a bare {@code role} in the default account.
   *
   * @param reference the role reference
   * @return the role ARN
   * @throws IllegalArgumentException when the reference names no known account or is malformed
   */
  public String resolveRole(String reference) {
    return RoleArns.resolve(reference, aliases, defaultAccount, partition);
  }

  /**
   * Checks the policy for a role.
   *
   * @param roleArn the role
   * @return the grant
   * @throws RoleDeniedException when the user may not assume it
   */
  public RoleGrant authorize(String roleArn) {
    return policy.rolesFor(user).grant(roleArn).orElseThrow(() -> new RoleDeniedException(user, roleArn));
  }

  /**
   * Switches the current role (what the metadata path serves). The role is authorized and its credentials fetched
   * before the switch, so a refusal or an STS failure leaves the current role as it was.
   *
   * @param reference a role ARN, {@code alias/role} or a role name in the default account
   * @return the new role's credentials
   * @throws RoleDeniedException when the policy does not grant the role
   * @throws CredentialsException when STS refuses or fails
   */
  public RoleCredentials use(String reference) {
    return use(reference, null);
  }

  /**
   * Switches the current role, passing an MFA code to STS with the configured MFA device serial.
   *
   * @param reference a role ARN, {@code alias/role} or a role name in the default account
   * @param mfaCode the device's current code, or {@code null}
   * @return the new role's credentials
   * @throws RoleDeniedException when the policy does not grant the role
   * @throws CredentialsException when STS refuses or fails, or an MFA code is given but no MFA serial is configured
   */
  public RoleCredentials use(String reference, @Nullable String mfaCode) {
    String roleArn = resolveRole(reference);
    RoleCredentials c = acquire(roleArn, mfaCode);
    currentRoleArn = roleArn;
    return c;
  }

  /**
   * Switches back to the user's default role.
   *
   * @return its credentials
   * @throws CredentialsException when the user has no default role, or STS fails
   */
  public RoleCredentials me() {
    return use(defaultRole(), null);
  }

  private String defaultRole() {
    String d = policy.rolesFor(user).defaultRoleArn();
    if (d == null) {
      throw new CredentialsException("User " + user + " has no default role; choose one with use <role>", false);
    }
    return d;
  }

  /**
   * The role the metadata path serves; the default role is chosen on first use.
   *
   * @return the role ARN
   * @throws CredentialsException when none was chosen and the user has no default role
   */
  public String currentRole() {
    String r = currentRoleArn;
    if (r == null) {
      synchronized (this) {
        r = currentRoleArn;
        if (r == null) {
          r = defaultRole();
          currentRoleArn = r;
        }
      }
    }
    return r;
  }

  /**
   * The current role's credentials.
   *
   * @return credentials valid for longer than {@code minimumValidity}
   * @throws CredentialsException when none can be had in time
   */
  public RoleCredentials currentCredentials() {
    return credentials(currentRole());
  }

  /**
   * A role's credentials: cached ones while they are valid for longer than {@code minimumValidity} (starting a
   * background refresh once due), else fetched now, once for all concurrent callers, waiting at most
   * {@code fetchTimeout}.
   *
   * @param roleArn the role
   * @return credentials valid for longer than {@code minimumValidity}
   * @throws CredentialsException when none can be had in time; {@link CredentialsException#retryable()} tells why
   */
  public RoleCredentials credentials(String roleArn) {
    Entry e = entries.computeIfAbsent(roleArn, Entry::new);
    Instant now = clock.instant();
    RoleCredentials c = e.current;
    if (usable(c, now)) {
      if (!now.isBefore(e.refreshAt)) {
        start(e, now, null, false);
      }
      return c;
    }
    return await(e, start(e, now, null, false));
  }

  /**
   * The current role's credentials as an SDK provider, for code in the same JVM as the broker (the agent itself, a
   * demo, a test); put a {@link HardwayCredentialsProvider} in front of it for the volatile-read hot path.
   *
   * @return a provider that asks the broker on every call
   */
  public AwsCredentialsProvider credentialsProvider() {
    return () -> currentCredentials().toSdk();
  }

  private RoleCredentials acquire(String roleArn, @Nullable String mfaCode) {
    authorize(roleArn);
    if (mfaCode != null && mfaSerial == null) {
      throw new IllegalStateException("an MFA code was given but the broker has no mfaSerial configured");
    }
    Entry e = entries.computeIfAbsent(roleArn, Entry::new);
    Instant now = clock.instant();
    RoleCredentials c = e.current;
    if (mfaCode == null && usable(c, now)) {
      return c;
    }
    return await(e, start(e, now, mfaCode, true));
  }

  /** Keeps a role's credentials refreshed while a container session holds it. */
  void pin(String roleArn) {
    synchronized (pinned) {
      pinned.merge(roleArn, 1, Integer::sum);
    }
  }

  void unpin(String roleArn) {
    synchronized (pinned) {
      pinned.computeIfPresent(roleArn, (k, v) -> v == 1 ? null : v - 1);
    }
  }

  private boolean inUse(String roleArn) {
    if (roleArn.equals(currentRoleArn)) {
      return true;
    }
    synchronized (pinned) {
      return pinned.containsKey(roleArn);
    }
  }

  private boolean usable(@Nullable RoleCredentials c, Instant now) {
    return c != null && now.plus(minimumValidity).isBefore(c.expiration());
  }

  private CompletableFuture<RoleCredentials> start(Entry e, Instant now, @Nullable String mfaCode, boolean force) {
    CompletableFuture<RoleCredentials> f;
    synchronized (e) {
      if (e.inFlight != null) {
        return e.inFlight;
      }
      CredentialsException last = e.lastError;
      if (!force && last != null && now.isBefore(e.nextAttemptAt)) {
        return CompletableFuture.failedFuture(new CredentialsException("credentials for " + e.roleArn
            + " are unavailable; the last " + e.consecutiveFailures + " fetch(es) failed, next attempt at "
            + e.nextAttemptAt + ": " + last.getMessage(), last.retryable(), last));
      }
      if (!force && e.mfaBound) {
        return CompletableFuture.failedFuture(new CredentialsException("credentials for " + e.roleArn
            + " were obtained with an MFA code, and only a new code renews them: use the role again with --mfa",
            false));
      }
      f = new CompletableFuture<>();
      e.inFlight = f;
    }
    try {
      executor.execute(() -> fetch(e, f, mfaCode));
    } catch (RejectedExecutionException rejected) {
      fail(e, f, new CredentialsException("the broker is closed", false, rejected));
    }
    return f;
  }

  private void fetch(Entry e, CompletableFuture<RoleCredentials> f, @Nullable String mfaCode) {
    try {
      RoleGrant grant = authorize(e.roleArn);
      AssumeRoleRequest.Builder req = AssumeRoleRequest.builder()
          .roleArn(e.roleArn)
          .roleSessionName(user)
          .durationSeconds(Math.toIntExact(grant.sessionDuration().toSeconds()));
      if (mfaCode != null) {
        req.serialNumber(mfaSerial).tokenCode(mfaCode);
      }
      stsCalls.increment();
      AssumeRoleResponse r = sts.assumeRole(req.build());
      Credentials c = r.credentials();
      Instant now = clock.instant();
      RoleCredentials rc = new RoleCredentials(e.roleArn, r.assumedRoleUser().arn(), c.accessKeyId(),
          c.secretAccessKey(), c.sessionToken(), c.expiration(), now);
      if (!usable(rc, now)) {
        throw new CredentialsException("STS returned credentials for " + e.roleArn + " that expire at "
            + rc.expiration() + ", which is not " + minimumValidity + " after now (" + now + "); is a clock off?",
            true);
      }
      long refreshIn = Timing.refreshInMillis(Duration.between(now, rc.expiration()).toMillis(), random);
      synchronized (e) {
        e.current = rc;
        e.refreshAt = now.plusMillis(refreshIn);
        e.consecutiveFailures = 0;
        e.lastError = null;
        e.nextAttemptAt = Instant.MIN;
        e.mfaBound = mfaCode != null;
        e.refreshes++;
        e.inFlight = null;
      }
      f.complete(rc);
    } catch (RoleDeniedException denied) {
      // A revoked grant: stop serving what was fetched under it.
      synchronized (e) {
        e.current = null;
      }
      fail(e, f, denied);
    } catch (CredentialsException ce) {
      fail(e, f, ce);
    } catch (AwsServiceException ase) {
      fail(e, f, fromSts(e.roleArn, ase));
    } catch (SdkException se) {
      fail(e, f, new CredentialsException("STS AssumeRole for " + e.roleArn + " failed: " + se.getMessage(), true,
          se));
    } catch (RuntimeException re) {
      fail(e, f, new CredentialsException("fetching credentials for " + e.roleArn + " failed: " + re, true, re));
    }
  }

  private void fail(Entry e, CompletableFuture<RoleCredentials> f, CredentialsException ce) {
    stsFailures.increment();
    Instant now = clock.instant();
    synchronized (e) {
      e.consecutiveFailures++;
      e.nextAttemptAt = now.plusMillis(Timing.backoffMillis(retryBase, retryMax, e.consecutiveFailures, random));
      e.lastError = ce;
      e.inFlight = null;
    }
    f.completeExceptionally(ce);
  }

  private static CredentialsException fromSts(String roleArn, AwsServiceException ase) {
    String code = ase.awsErrorDetails() != null ? ase.awsErrorDetails().errorCode() : null;
    int status = ase.statusCode();
    boolean retryable = status >= 500 || status == 429 || ase.isThrottlingException()
        || "ExpiredToken".equals(code) || "RegionDisabledException".equals(code);
    String message = ase.awsErrorDetails() != null ? ase.awsErrorDetails().errorMessage() : ase.getMessage();
    return new CredentialsException("STS AssumeRole for " + roleArn + " failed: " + code + ": " + message
        + " (HTTP " + status + ")", retryable, ase);
  }

  private RoleCredentials await(Entry e, CompletableFuture<RoleCredentials> f) {
    try {
      return f.get(fetchTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException t) {
      throw new CredentialsException("STS did not answer for " + e.roleArn + " within " + fetchTimeout
          + "; the fetch goes on in the background", true, t);
    } catch (ExecutionException ex) {
      if (ex.getCause() instanceof CredentialsException ce) {
        if (ce instanceof RoleDeniedException rd) {
          throw new RoleDeniedException(rd.user(), rd.roleArn());
        }
        throw new CredentialsException(ce.getMessage(), ce.retryable(), ce);
      }
      throw new CredentialsException("fetching credentials for " + e.roleArn + " failed: " + ex.getCause(), true,
          ex.getCause());
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new CredentialsException("interrupted while fetching credentials for " + e.roleArn, true, ie);
    }
  }

  /**
   * Starts refreshes that are due and forgets roles no longer in use once their credentials expire. The background
   * refresher calls this every tick; a test with a manual clock calls it after moving the clock.
   */
  public void refreshDue() {
    Instant now = clock.instant();
    for (Entry e : entries.values()) {
      if (!inUse(e.roleArn)) {
        RoleCredentials c = e.current;
        if (c == null || !now.isBefore(c.expiration())) {
          entries.remove(e.roleArn, e);
        }
        continue;
      }
      boolean due = !now.isBefore(e.refreshAt) || !usable(e.current, now);
      boolean mfaBound;
      Instant nextAttempt;
      synchronized (e) {
        mfaBound = e.mfaBound;
        nextAttempt = e.nextAttemptAt;
      }
      if (due && !mfaBound && !now.isBefore(nextAttempt)) {
        start(e, now, null, false);
      }
    }
  }

  private void refreshDueQuietly() {
    try {
      refreshDue();
    } catch (RuntimeException e) {
      // The refresher must keep running; the failure is recorded on the entry it concerns.
    }
  }

  /**
   * A snapshot of the broker's state, without secrets.
   *
   * @return the status
   */
  public BrokerStatus status() {
    List<BrokerStatus.RoleStatus> roles = new ArrayList<>();
    for (Entry e : entries.values()) {
      synchronized (e) {
        RoleCredentials c = e.current;
        roles.add(new BrokerStatus.RoleStatus(e.roleArn, c == null ? null : c.expiration(),
            c == null ? null : c.lastUpdated(), e.refreshAt, e.consecutiveFailures,
            e.lastError == null ? null : e.lastError.getMessage(), e.mfaBound, e.refreshes));
      }
    }
    roles.sort((a, b) -> a.roleArn().compareTo(b.roleArn()));
    return new BrokerStatus(user, currentRoleArn, Collections.unmodifiableList(roles), stsCalls.sum(),
        stsFailures.sum());
  }

  /** Stops the background refresher and the fetch threads it owns; idempotent. The STS client is the caller's. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (refresher != null) {
      refresher.shutdownNow();
    }
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "RoleBroker[user=" + user + ", currentRole=" + currentRoleArn + "]";
  }

  /** Builds a {@link RoleBroker}. */
  public static final class Builder {
    private @Nullable StsClient sts;
    private @Nullable RolePolicy policy;
    private @Nullable String user;
    private final Map<String, String> aliases = new HashMap<>();
    private @Nullable String defaultAccount;
    private String partition = "aws";
    private @Nullable String mfaSerial;
    private InstantSource clock = InstantSource.system();
    private RandomGenerator random = RandomGenerator.getDefault();
    private @Nullable Executor executor;
    private boolean backgroundRefresh = true;
    private Duration refreshTick = Duration.ofSeconds(1);
    private Duration fetchTimeout = Duration.ofSeconds(10);
    private Duration minimumValidity = Duration.ofSeconds(60);
    private Duration retryBase = Duration.ofSeconds(1);
    private Duration retryMax = Duration.ofMinutes(1);

    private Builder() {}

    /**
     * The STS client that assumes roles; its credentials are the broker's own, and it stays the caller's to close.
     *
     * @param sts the client
     * @return this builder
     */
    public Builder sts(StsClient sts) {
      this.sts = Objects.requireNonNull(sts, "sts");
      return this;
    }

    /**
     * Who may assume what.
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder policy(RolePolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The user; it becomes the STS session name, so it obeys its rule (2-64 of letters, digits and
     * {@code +=,.@_-}).
     *
     * @param user the user name
     * @return this builder
     */
    public Builder user(String user) {
      this.user = Users.require(user, "user");
      return this;
    }

    /**
     * Lets users write {@code alias/role} for a role in that account.
     *
     * @param alias the alias, e.g. {@code prod}
     * @param accountId the 12-digit account id
     * @return this builder
     */
    public Builder accountAlias(String alias, String accountId) {
      RoleArns.requireAlias(alias);
      RoleArns.requireAccountId(accountId, "accountId");
      aliases.put(alias, accountId);
      return this;
    }

    /**
     * The account of a bare role name; none by default, so a bare name is refused.
     *
     * @param accountId the 12-digit account id
     * @return this builder
     */
    public Builder defaultAccount(String accountId) {
      RoleArns.requireAccountId(accountId, "defaultAccount");
      this.defaultAccount = accountId;
      return this;
    }

    /**
     * The ARN partition for expanded references; default {@code aws}.
     *
     * @param partition e.g. {@code aws-cn}
     * @return this builder
     */
    public Builder partition(String partition) {
      if (!partition.matches("aws(-[a-z]+){0,2}")) {
        throw new IllegalArgumentException("partition must look like aws, aws-cn or aws-us-gov, got "
            + Printable.quote(partition));
      }
      this.partition = partition;
      return this;
    }

    /**
     * The user's MFA device serial (or ARN), sent to STS with a code given to {@link #use(String, String)}.
     *
     * @param serial the device serial
     * @return this builder
     */
    public Builder mfaSerial(String serial) {
      if (!serial.matches("[\\w+=/:,.@-]{9,256}")) {
        throw new IllegalArgumentException("mfaSerial must be an MFA device serial or ARN, got "
            + Printable.quote(serial));
      }
      this.mfaSerial = serial;
      return this;
    }

    /**
     * The clock for expiry and refresh decisions; default the system clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Randomness for refresh times and backoff jitter.
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Runs STS calls; default a virtual thread per call. A direct executor makes the broker deterministic for tests.
     *
     * @param executor the executor
     * @return this builder
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Whether a background thread calls {@link #refreshDue()} every {@code refreshTick}; default true. Turn it off
     * to drive refreshes by hand with a manual clock.
     *
     * @param enabled whether to refresh in the background
     * @return this builder
     */
    public Builder backgroundRefresh(boolean enabled) {
      this.backgroundRefresh = enabled;
      return this;
    }

    /**
     * How often the background refresher looks for due refreshes; default 1 s.
     *
     * @param tick 10 ms to 1 min
     * @return this builder
     */
    public Builder refreshTick(Duration tick) {
      this.refreshTick = Timing.within(tick, Duration.ofMillis(10), Duration.ofMinutes(1), "refreshTick");
      return this;
    }

    /**
     * How long a caller waits for credentials that must be fetched; default 10 s.
     *
     * @param timeout 1 ms to 5 min
     * @return this builder
     */
    public Builder fetchTimeout(Duration timeout) {
      this.fetchTimeout = Timing.within(timeout, Duration.ofMillis(1), Duration.ofMinutes(5), "fetchTimeout");
      return this;
    }

    /**
     * Credentials closer than this to their expiry are not served; default 60 s, matching the SDK container
     * provider's stale window, so a client never receives credentials it already considers stale.
     *
     * @param validity 0 to 10 min
     * @return this builder
     */
    public Builder minimumValidity(Duration validity) {
      this.minimumValidity = Timing.within(validity, Duration.ZERO, Duration.ofMinutes(10), "minimumValidity");
      return this;
    }

    /**
     * The first and the longest backoff after failed fetches; defaults 1 s and 1 min.
     *
     * @param base 1 ms to 1 min
     * @param max at least {@code base}, at most 1 h
     * @return this builder
     */
    public Builder retryBackoff(Duration base, Duration max) {
      this.retryBase = Timing.within(base, Duration.ofMillis(1), Duration.ofMinutes(1), "retryBackoff base");
      this.retryMax = Timing.within(max, base, Duration.ofHours(1), "retryBackoff max");
      return this;
    }


    /**
     * Builds the broker and starts its refresher.
     *
     * @return the broker
     * @throws IllegalStateException when sts, policy or user is missing
     */
    public RoleBroker build() {
      if (sts == null || policy == null || user == null) {
        throw new IllegalStateException("a RoleBroker needs sts, policy and user; missing: "
            + ((sts == null ? "sts " : "") + (policy == null ? "policy " : "") + (user == null ? "user" : "")).trim());
      }
      return new RoleBroker(this);
    }
  }
}
