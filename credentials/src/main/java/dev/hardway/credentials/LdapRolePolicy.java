package dev.hardway.credentials;

import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.DereferencePolicy;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPSearchException;
import com.unboundid.ldap.sdk.RDN;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.SimpleBindRequest;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldap.sdk.StartTLSPostConnectProcessor;
import com.unboundid.util.ssl.HostNameSSLSocketVerifier;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RolePolicy} read from an LDAP directory, in Hologram's model: a user may assume the roles named by the
 * groups the user is a member of.
 *
 * <p><b>The schema it expects</b> (every attribute name can be changed in the builder):
 * <ul>
 *   <li>users are entries under {@link Builder#userBaseDn(String) userBaseDn} whose {@code uid} holds the user name;
 *   <li>groups are {@code groupOfNames} entries under {@link Builder#groupBaseDn(String) groupBaseDn} whose
 *       {@code member} values are user DNs (direct membership only: nested groups are not followed);
 *   <li>a group grants the role ARNs in its {@code businessCategory} values (multi-valued; values that are not role
 *       ARNs are skipped and counted, since that attribute often holds other text);
 *   <li>a group's session duration is in an optional attribute ({@link Builder#sessionDurationAttribute(String)}, none
 *       by default), in seconds, 900 to 43200; without one, or with a bad value (skipped, counted, logged), the group's
 *       roles get {@link RoleGrant#DEFAULT_SESSION_DURATION one hour}. When two groups grant the same role the longer
 *       duration wins;
 *   <li>a user's default role ({@code me}) is in the user entry's {@code employeeType} (an inetOrgPerson attribute of
 *       RFC 2798 that directories rarely use for anything else); the first value that is one of the user's granted
 *       roles is the default, any other value is ignored and counted.
 * </ul>
 *
 * <pre>{@code
 * LdapRolePolicy policy = LdapRolePolicy.builder()
 *     .url(URI.create("ldaps://ldap.example.com"))
 *     .serviceAccount("cn=hologram,ou=services,dc=example,dc=com", password)
 *     .userBaseDn("ou=people,dc=example,dc=com")
 *     .groupBaseDn("ou=groups,dc=example,dc=com")
 *     .build();
 * UserRoles alice = policy.rolesFor("alice");
 * }</pre>
 *
 * <p><b>Binding.</b> Either a service account searches for the user ({@link Builder#serviceAccount}), or the policy
 * binds as the user with a password from a {@link UserPasswords} ({@link Builder#userBind}) and reads the groups over
 * that connection; the user's DN comes from a template ({@link Builder#userDnTemplate}) or from a search (as the
 * service account if one is set, else anonymously). With a template, a user the directory does not have cannot be
 * told from a wrong password: both are a refused bind. Search filters are built as filter objects, never as text, and
 * DNs from {@link RDN}s, so a user name such as {@code *)(uid=*} is a literal value. The user attribute must hold the
 * name exactly (same case, same spaces): the directory's own matching ignores case, and a session name that differs
 * in case from the directory's spelling is treated as an unknown user.
 *
 * <p><b>Connections.</b> A pool of up to {@link Builder#maxConnections(int)} connections, each with a connect and a
 * response timeout. {@code ldaps://} and StartTLS verify the server's certificate (the JVM's trust store unless
 * {@link Builder#sslContext(SSLContext)} says otherwise) and that it names the host of the URL (JDK {@code LDAPS}
 * endpoint identification, also for loopback addresses); a failed handshake is not retryable. An unreachable,
 * slow or failing directory makes {@link #rolesFor} throw a {@link CredentialsException} that is
 * {@link CredentialsException#retryable() retryable} and names the server; a refused bind or a directory that answers
 * something this class cannot use is not retryable.
 *
 * <p><b>Cache.</b> Answers (also "unknown user") are kept for {@link Builder#cacheTtl(Duration)} (30 s by default,
 * {@link Duration#ZERO} to switch off), per the injected {@link Builder#clock(InstantSource) clock}, so a check on
 * every request does not reach the directory each time. A group change therefore takes up to that long to show. With
 * user binds a cached answer is served without binding again. Failures are never cached. At most
 * {@link Builder#maxCachedUsers(int)} users are cached; past that, answers go uncached (and are counted).
 *
 * <p>Thread-safe. {@link #close()} closes the pool.
 */
public final class LdapRolePolicy implements RolePolicy, AutoCloseable {
  /** Names longer than this are answered as unknown without asking the directory. */
  static final int MAX_USER_LENGTH = 256;
  /** Largest number of groups read for one user; a user in more groups is an error, not a silent cut. */
  static final int MAX_GROUPS = 1000;
  private static final int MIN_DURATION_SECONDS = 900;
  private static final int MAX_DURATION_SECONDS = 43_200;
  private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9-]{0,127}|\\d+(?:\\.\\d+)+");
  private static final String USER_PLACEHOLDER = "{user}";
  private static final System.Logger LOG = System.getLogger(LdapRolePolicy.class.getName());

  private final String server;
  private final LDAPConnectionPool pool;
  private final boolean userBind;
  private final @Nullable UserPasswords passwords;
  private final @Nullable DN userDnParent;
  private final @Nullable String userDnAttribute;
  private final String userBaseDn;
  private final String groupBaseDn;
  private final String userAttribute;
  private final String groupObjectClass;
  private final String memberAttribute;
  private final String roleAttribute;
  private final @Nullable String sessionDurationAttribute;
  private final @Nullable String defaultRoleAttribute;
  private final Duration cacheTtl;
  private final int maxCachedUsers;
  private final InstantSource clock;
  private final int timeLimitSeconds;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();
  private final LongAdder lookups = new LongAdder();
  private final LongAdder cacheHits = new LongAdder();
  private final LongAdder directoryLookups = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final LongAdder unknownUsers = new LongAdder();
  private final LongAdder ignoredRoleValues = new LongAdder();
  private final LongAdder ignoredDurations = new LongAdder();
  private final LongAdder ignoredDefaultRoles = new LongAdder();
  private final LongAdder uncached = new LongAdder();
  private volatile boolean closed;

  private record Cached(UserRoles roles, Instant expires) {}

  private LdapRolePolicy(Builder b, LDAPConnectionPool pool, String server) {
    this.pool = pool;
    this.server = server;
    this.userBind = b.passwords != null;
    this.passwords = b.passwords;
    this.userBaseDn = Objects.requireNonNull(b.userBaseDn);
    this.groupBaseDn = Objects.requireNonNull(b.groupBaseDn);
    this.userAttribute = b.userAttribute;
    this.groupObjectClass = b.groupObjectClass;
    this.memberAttribute = b.memberAttribute;
    this.roleAttribute = b.roleAttribute;
    this.sessionDurationAttribute = b.sessionDurationAttribute;
    this.defaultRoleAttribute = b.defaultRoleAttribute;
    this.cacheTtl = b.cacheTtl;
    this.maxCachedUsers = b.maxCachedUsers;
    this.clock = b.clock;
    this.userDnAttribute = b.userDnAttribute;
    this.userDnParent = b.userDnParent;
    this.timeLimitSeconds = (int) Math.max(1, (b.responseTimeout.toMillis() + 999) / 1000);
  }

  /**
   * Starts a policy.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The roles the user's groups grant, and the user's default role.
   *
   * @param user the user name, matched exactly against the user attribute
   * @return the grants; empty grants when no entry holds exactly this name (or it is longer than 256 characters)
   * @throws CredentialsException retryable when the directory cannot be reached or does not answer within the
   *     timeouts; not retryable when a bind is refused (the service account's, or the user's in user-bind mode), no
   *     password is at hand for the user, several entries hold the name, or the user is in more than 1000 groups
   * @throws IllegalStateException when the policy is closed
   */
  @Override
  public UserRoles rolesFor(String user) {
    Objects.requireNonNull(user, "user");
    if (closed) {
      throw new IllegalStateException("this LdapRolePolicy is closed");
    }
    lookups.increment();
    if (user.isEmpty() || user.length() > MAX_USER_LENGTH) {
      unknownUsers.increment();
      return noRoles(user);
    }
    Instant now = clock.instant();
    if (!cacheTtl.isZero()) {
      Cached hit = cache.get(user);
      if (hit != null && now.isBefore(hit.expires)) {
        cacheHits.increment();
        return hit.roles;
      }
    }
    directoryLookups.increment();
    UserRoles roles;
    try {
      roles = userBind ? lookUpAsUser(user) : lookUpAsService(user);
    } catch (CredentialsException e) {
      failures.increment();
      throw e;
    }
    if (roles.grants().isEmpty() && roles.defaultRoleArn() == null) {
      unknownUsers.increment();
    }
    if (!cacheTtl.isZero()) {
      remember(user, roles, now.plus(cacheTtl));
    }
    return roles;
  }

  private void remember(String user, UserRoles roles, Instant expires) {
    if (cache.size() >= maxCachedUsers && !cache.containsKey(user)) {
      Instant now = clock.instant();
      cache.values().removeIf(c -> !now.isBefore(c.expires));
      if (cache.size() >= maxCachedUsers) {
        uncached.increment();
        return;
      }
    }
    cache.put(user, new Cached(roles, expires));
  }

  private UserRoles lookUpAsService(String user) {
    LDAPConnection connection = checkOut("binding as the service account");
    try {
      SearchResultEntry entry = findUser(connection, user);
      if (entry == null) {
        return noRoles(user);
      }
      return rolesOf(connection, user, entry);
    } catch (LDAPException e) {
      pool.releaseConnectionAfterException(connection, e);
      connection = null;
      throw failure("reading the roles of user " + Printable.quote(user), e);
    } finally {
      if (connection != null) {
        pool.releaseConnection(connection);
      }
    }
  }

  private UserRoles lookUpAsUser(String user) {
    DN dn;
    if (userDnParent != null) {
      dn = new DN(new RDN(Objects.requireNonNull(userDnAttribute), user), userDnParent);
    } else {
      LDAPConnection searcher = checkOut("binding to search for the user");
      try {
        SearchResultEntry entry = findUser(searcher, user);
        if (entry == null) {
          return noRoles(user);
        }
        dn = entry.getParsedDN();
      } catch (LDAPException e) {
        pool.releaseConnectionAfterException(searcher, e);
        searcher = null;
        throw failure("searching for user " + Printable.quote(user), e);
      } finally {
        if (searcher != null) {
          pool.releaseConnection(searcher);
        }
      }
    }
    char[] password = Objects.requireNonNull(passwords).passwordFor(user);
    if (password == null || password.length == 0) {
      // An empty password would make a simple bind anonymous (RFC 4513 5.1.2), which many servers accept.
      throw new CredentialsException("no password for user " + Printable.quote(user)
          + ": user-bind mode needs one (an empty password would bind anonymously)", false);
    }
    byte[] passwordBytes = utf8(password);
    Arrays.fill(password, '\0');
    LDAPConnection connection = null;
    try {
      connection = checkOut("connecting");
      try {
        connection.bind(new SimpleBindRequest(dn, passwordBytes));
      } catch (LDAPException e) {
        if (e.getResultCode() == ResultCode.INVALID_CREDENTIALS) {
          throw new CredentialsException("LDAP server " + server + " refused the bind as user " + Printable.quote(user)
              + ": invalid credentials", false);
        }
        throw e;
      }
      SearchResult self = connection.search(new SearchRequest(dn.toString(), SearchScope.BASE,
          DereferencePolicy.NEVER, 1, timeLimitSeconds, false, Filter.createPresenceFilter("objectClass"),
          userAttributes()));
      if (self.getEntryCount() != 1 || !holdsExactly(self.getSearchEntries().get(0), user)) {
        return noRoles(user);
      }
      return rolesOf(connection, user, self.getSearchEntries().get(0));
    } catch (LDAPException e) {
      if (connection != null) {
        pool.releaseConnectionAfterException(connection, e);
        connection = null;
      }
      throw failure("reading the roles of user " + Printable.quote(user) + " bound as that user", e);
    } finally {
      Arrays.fill(passwordBytes, (byte) 0);
      if (connection != null) {
        // Back to the pool's own identity, so the next borrower is not bound as this user.
        pool.releaseAndReAuthenticateConnection(connection);
      }
    }
  }

  private LDAPConnection checkOut(String what) {
    try {
      return pool.getConnection();
    } catch (LDAPException e) {
      throw failure(what, e);
    }
  }

  /** The one entry holding exactly this name, or null; several entries holding it are an error. */
  private @Nullable SearchResultEntry findUser(LDAPConnection connection, String user) throws LDAPException {
    SearchRequest request = new SearchRequest(userBaseDn, SearchScope.SUB, DereferencePolicy.NEVER, 2,
        timeLimitSeconds, false, Filter.createEqualityFilter(userAttribute, user), userAttributes());
    SearchResult result;
    try {
      result = connection.search(request);
    } catch (LDAPSearchException e) {
      if (e.getResultCode() == ResultCode.SIZE_LIMIT_EXCEEDED) {
        throw new CredentialsException("more than one entry under " + userBaseDn + " has " + userAttribute + " "
            + Printable.quote(user) + "; refusing to pick one", false);
      }
      throw e;
    }
    List<SearchResultEntry> exact = new ArrayList<>(1);
    for (SearchResultEntry entry : result.getSearchEntries()) {
      if (holdsExactly(entry, user)) {
        exact.add(entry);
      }
    }
    if (exact.size() > 1) {
      throw new CredentialsException("more than one entry under " + userBaseDn + " has " + userAttribute + " "
          + Printable.quote(user) + "; refusing to pick one", false);
    }
    return exact.isEmpty() ? null : exact.get(0);
  }

  private boolean holdsExactly(SearchResultEntry entry, String user) {
    Attribute attribute = entry.getAttribute(userAttribute);
    if (attribute == null) {
      return false;
    }
    for (String value : attribute.getValues()) {
      if (value.equals(user)) {
        return true;
      }
    }
    return false;
  }

  private String[] userAttributes() {
    return defaultRoleAttribute == null ? new String[] {userAttribute}
        : new String[] {userAttribute, defaultRoleAttribute};
  }

  private UserRoles rolesOf(LDAPConnection connection, String user, SearchResultEntry userEntry)
      throws LDAPException {
    Filter groups = Filter.createANDFilter(
        Filter.createEqualityFilter("objectClass", groupObjectClass),
        Filter.createEqualityFilter(memberAttribute, userEntry.getDN()));
    String[] attributes = sessionDurationAttribute == null ? new String[] {roleAttribute}
        : new String[] {roleAttribute, sessionDurationAttribute};
    SearchResult result;
    try {
      result = connection.search(new SearchRequest(groupBaseDn, SearchScope.SUB, DereferencePolicy.NEVER,
          MAX_GROUPS, timeLimitSeconds, false, groups, attributes));
    } catch (LDAPSearchException e) {
      if (e.getResultCode() == ResultCode.SIZE_LIMIT_EXCEEDED) {
        throw new CredentialsException("user " + Printable.quote(user) + " is in more than " + MAX_GROUPS
            + " groups under " + groupBaseDn + "; refusing a partial answer", false);
      }
      throw e;
    }
    List<RoleGrant> grants = new ArrayList<>();
    for (SearchResultEntry group : result.getSearchEntries()) {
      String[] arns = group.getAttributeValues(roleAttribute);
      if (arns == null) {
        continue;
      }
      Duration duration = sessionDuration(group);
      for (String arn : arns) {
        String value = arn.trim();
        if (RoleArns.isRoleArn(value)) {
          grants.add(new RoleGrant(value, duration));
        } else {
          ignoredRoleValues.increment();
          LOG.log(System.Logger.Level.DEBUG, () -> "group " + group.getDN() + ": " + roleAttribute + " value "
              + Printable.quote(value) + " is not a role ARN; skipped");
        }
      }
    }
    UserRoles roles = UserRoles.of(user, grants, null);
    String defaultRole = defaultRole(userEntry, roles);
    return defaultRole == null ? roles : new UserRoles(user, roles.grants(), defaultRole);
  }

  private Duration sessionDuration(SearchResultEntry group) {
    if (sessionDurationAttribute == null) {
      return RoleGrant.DEFAULT_SESSION_DURATION;
    }
    String[] values = group.getAttributeValues(sessionDurationAttribute);
    if (values == null) {
      return RoleGrant.DEFAULT_SESSION_DURATION;
    }
    Duration longest = null;
    for (String raw : values) {
      String value = raw.trim();
      long seconds = -1;
      if (value.matches("\\d{1,9}")) {
        seconds = Long.parseLong(value);
      }
      if (seconds < MIN_DURATION_SECONDS || seconds > MAX_DURATION_SECONDS) {
        ignoredDurations.increment();
        LOG.log(System.Logger.Level.WARNING, () -> "group " + group.getDN() + ": " + sessionDurationAttribute
            + " must be whole seconds from " + MIN_DURATION_SECONDS + " to " + MAX_DURATION_SECONDS + ", got "
            + Printable.quote(value) + "; value skipped");
        continue;
      }
      Duration d = Duration.ofSeconds(seconds);
      if (longest == null || d.compareTo(longest) > 0) {
        longest = d;
      }
    }
    return longest == null ? RoleGrant.DEFAULT_SESSION_DURATION : longest;
  }

  private @Nullable String defaultRole(SearchResultEntry userEntry, UserRoles roles) {
    if (defaultRoleAttribute == null) {
      return null;
    }
    String[] values = userEntry.getAttributeValues(defaultRoleAttribute);
    if (values == null) {
      return null;
    }
    for (String raw : values) {
      if (roles.grants().containsKey(raw.trim())) {
        return raw.trim();
      }
    }
    ignoredDefaultRoles.increment();
    LOG.log(System.Logger.Level.DEBUG, () -> "user " + userEntry.getDN() + ": no " + defaultRoleAttribute
        + " value is a role the user's groups grant; no default role");
    return null;
  }

  private static UserRoles noRoles(String user) {
    return new UserRoles(user, Map.of(), null);
  }

  private CredentialsException failure(String what, LDAPException e) {
    ResultCode code = e.getResultCode();
    if (code == ResultCode.INVALID_CREDENTIALS) {
      return new CredentialsException("LDAP server " + server + " refused the bind while " + what
          + ": invalid credentials", false, e);
    }
    if (isTlsFailure(e)) {
      // A certificate that is untrusted or names another host stays so: retrying cannot help.
      return new CredentialsException("LDAP server " + server + " failed the TLS handshake while " + what
          + " (untrusted certificate, or one that does not name the host)", false, e);
    }
    boolean retryable = !ResultCode.isConnectionUsable(code) || RETRYABLE.contains(code);
    String detail = e.getDiagnosticMessage() != null ? e.getDiagnosticMessage() : e.getExceptionMessage();
    return new CredentialsException("LDAP server " + server + " failed while " + what + ": " + code
        + (detail == null ? "" : " (" + Printable.quote(detail) + ")"), retryable, e);
  }

  private static boolean isTlsFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLHandshakeException || t instanceof CertificateException) {
        return true;
      }
    }
    return false;
  }

  private static final Set<ResultCode> RETRYABLE = Set.of(ResultCode.SERVER_DOWN, ResultCode.CONNECT_ERROR,
      ResultCode.TIMEOUT, ResultCode.TIME_LIMIT_EXCEEDED, ResultCode.BUSY, ResultCode.UNAVAILABLE,
      ResultCode.ADMIN_LIMIT_EXCEEDED, ResultCode.OTHER);

  /**
   * Counters since the policy was built.
   *
   * @return an immutable snapshot
   */
  public Stats stats() {
    return new Stats(lookups.sum(), cacheHits.sum(), directoryLookups.sum(), failures.sum(), unknownUsers.sum(),
        ignoredRoleValues.sum(), ignoredDurations.sum(), ignoredDefaultRoles.sum(), uncached.sum());
  }

  /**
   * Counters of an {@link LdapRolePolicy}.
   *
   * @param lookups calls to {@link LdapRolePolicy#rolesFor}
   * @param cacheHits answers served from the cache
   * @param directoryLookups answers that went to the directory
   * @param failures lookups that threw a {@link CredentialsException}
   * @param unknownUsers answers with no grants and no default role
   * @param ignoredRoleValues role attribute values skipped because they are not role ARNs
   * @param ignoredDurations session duration values skipped because they are not 900 to 43200 seconds
   * @param ignoredDefaultRoles users whose default role attribute names no role their groups grant
   * @param uncached answers not cached because the cache was full
   */
  public record Stats(
      long lookups,
      long cacheHits,
      long directoryLookups,
      long failures,
      long unknownUsers,
      long ignoredRoleValues,
      long ignoredDurations,
      long ignoredDefaultRoles,
      long uncached) {}

  /** Empties the cache, so the next lookup of every user goes to the directory. */
  public void invalidateAll() {
    cache.clear();
  }

  /** Closes the connection pool; idempotent. Later lookups throw {@link IllegalStateException}. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      pool.close();
      cache.clear();
    }
  }

  @Override
  public String toString() {
    return "LdapRolePolicy[" + server + ", users " + userAttribute + " under " + userBaseDn + ", groups under "
        + groupBaseDn + (userBind ? ", user bind" : ", service account") + "]";
  }

  private static byte[] utf8(char[] password) {
    ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
    byte[] out = new byte[encoded.remaining()];
    encoded.get(out);
    if (encoded.hasArray()) {
      Arrays.fill(encoded.array(), (byte) 0);
    }
    return out;
  }

  private static DN parseDn(String value, String option) {
    try {
      return new DN(value);
    } catch (LDAPException e) {
      throw new IllegalArgumentException(option + " must be a DN like ou=people,dc=example,dc=com, got "
          + Printable.quote(value), e);
    }
  }

  /**
   * Where user-bind mode gets a user's password: typically the agent that prompted its own user. Called on every
   * lookup that goes to the directory; the policy wipes the returned array after the bind.
   */
  @FunctionalInterface
  public interface UserPasswords {
    /**
     * The user's directory password.
     *
     * @param user the user name being looked up
     * @return a fresh array with the password (the policy overwrites it), or {@code null} when there is none
     */
    char @Nullable [] passwordFor(String user);
  }

  /** Builds an {@link LdapRolePolicy}. Not thread-safe. */
  public static final class Builder {
    private @Nullable String host;
    private int port;
    private boolean ldaps;
    private boolean startTls;
    private @Nullable SSLContext sslContext;
    private @Nullable String bindDn;
    private char @Nullable [] bindPassword;
    private @Nullable UserPasswords passwords;
    private @Nullable String userDnAttribute;
    private @Nullable DN userDnParent;
    private @Nullable String userBaseDn;
    private @Nullable String groupBaseDn;
    private String userAttribute = "uid";
    private String groupObjectClass = "groupOfNames";
    private String memberAttribute = "member";
    private String roleAttribute = "businessCategory";
    private @Nullable String sessionDurationAttribute;
    private @Nullable String defaultRoleAttribute = "employeeType";
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration responseTimeout = Duration.ofSeconds(5);
    private int maxConnections = 4;
    private Duration cacheTtl = Duration.ofSeconds(30);
    private int maxCachedUsers = 10_000;
    private InstantSource clock = InstantSource.system();

    private Builder() {}

    /**
     * Sets the directory server.
     *
     * @param url {@code ldap://host[:port]} (port 389 by default) or {@code ldaps://host[:port]} (TLS from the first
     *     byte, port 636 by default); no path, query or user info
     * @return this builder
     * @throws IllegalArgumentException when the URL is not of that form
     */
    public Builder url(URI url) {
      Objects.requireNonNull(url, "url");
      String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("ldap") && !scheme.equals("ldaps") || url.getHost() == null
          || url.getRawUserInfo() != null || url.getRawQuery() != null
          || url.getRawPath() != null && !url.getRawPath().isEmpty() && !url.getRawPath().equals("/")) {
        throw new IllegalArgumentException("url must be ldap://host[:port] or ldaps://host[:port], got "
            + Printable.quote(url.toString()));
      }
      this.ldaps = scheme.equals("ldaps");
      this.host = url.getHost();
      this.port = url.getPort() > 0 ? url.getPort() : ldaps ? 636 : 389;
      return this;
    }

    /**
     * Upgrades {@code ldap://} connections with the StartTLS extended operation before anything else is sent.
     *
     * @param on true to require StartTLS; default false
     * @return this builder
     */
    public Builder startTls(boolean on) {
      this.startTls = on;
      return this;
    }

    /**
     * Sets the TLS context of {@code ldaps://} and StartTLS connections; host names are verified whatever it is.
     *
     * @param context the context; default the JVM's default (its trust store)
     * @return this builder
     */
    public Builder sslContext(SSLContext context) {
      this.sslContext = Objects.requireNonNull(context, "sslContext");
      return this;
    }

    /**
     * Binds the pool as a service account that may search users and groups.
     *
     * @param bindDn the service account's DN
     * @param password its password, not empty (copied)
     * @return this builder
     * @throws IllegalArgumentException when the DN is malformed or the password empty
     */
    public Builder serviceAccount(String bindDn, char[] password) {
      parseDn(Objects.requireNonNull(bindDn, "bindDn"), "serviceAccount bindDn");
      if (password == null || password.length == 0) {
        throw new IllegalArgumentException("serviceAccount password must not be empty (an empty password binds"
            + " anonymously)");
      }
      this.bindDn = bindDn;
      this.bindPassword = password.clone();
      return this;
    }

    /**
     * Binds as each user looked up, with the password the source gives, and reads the groups as that user.
     *
     * @param passwords where each user's password comes from
     * @return this builder
     */
    public Builder userBind(UserPasswords passwords) {
      this.passwords = Objects.requireNonNull(passwords, "passwords");
      return this;
    }

    /**
     * In user-bind mode, makes the user's DN from a template instead of searching for it.
     *
     * @param template a DN whose first RDN's value is {@code {user}}, e.g.
     *     {@code uid={user},ou=people,dc=example,dc=com}; the user name is escaped as an RDN value
     * @return this builder
     * @throws IllegalArgumentException when the template is not of that form
     */
    public Builder userDnTemplate(String template) {
      Objects.requireNonNull(template, "userDnTemplate");
      int eq = template.indexOf('=');
      if (eq < 1 || !template.startsWith(USER_PLACEHOLDER + ",", eq + 1)
          || template.indexOf(USER_PLACEHOLDER, eq + 1 + USER_PLACEHOLDER.length()) >= 0
          || !ATTRIBUTE_NAME.matcher(template.substring(0, eq).trim()).matches()) {
        throw new IllegalArgumentException("userDnTemplate must look like uid={user},ou=people,dc=example,dc=com"
            + " ({user} once, as the whole value of the first RDN), got " + Printable.quote(template));
      }
      this.userDnParent = parseDn(template.substring(eq + 1 + USER_PLACEHOLDER.length() + 1), "userDnTemplate");
      this.userDnAttribute = template.substring(0, eq).trim();
      return this;
    }

    /**
     * Sets where both users and groups are searched, unless {@link #userBaseDn} or {@link #groupBaseDn} say otherwise.
     *
     * @param baseDn e.g. {@code dc=example,dc=com}
     * @return this builder
     * @throws IllegalArgumentException when not a DN
     */
    public Builder baseDn(String baseDn) {
      parseDn(Objects.requireNonNull(baseDn, "baseDn"), "baseDn");
      if (userBaseDn == null) {
        userBaseDn = baseDn;
      }
      if (groupBaseDn == null) {
        groupBaseDn = baseDn;
      }
      return this;
    }

    /**
     * Sets where users are searched (the whole subtree).
     *
     * @param baseDn e.g. {@code ou=people,dc=example,dc=com}
     * @return this builder
     * @throws IllegalArgumentException when not a DN
     */
    public Builder userBaseDn(String baseDn) {
      parseDn(Objects.requireNonNull(baseDn, "userBaseDn"), "userBaseDn");
      this.userBaseDn = baseDn;
      return this;
    }

    /**
     * Sets where groups are searched (the whole subtree).
     *
     * @param baseDn e.g. {@code ou=groups,dc=example,dc=com}
     * @return this builder
     * @throws IllegalArgumentException when not a DN
     */
    public Builder groupBaseDn(String baseDn) {
      parseDn(Objects.requireNonNull(baseDn, "groupBaseDn"), "groupBaseDn");
      this.groupBaseDn = baseDn;
      return this;
    }

    /**
     * Sets the user entry attribute that holds the user name.
     *
     * @param attribute an attribute name; default {@code uid}
     * @return this builder
     * @throws IllegalArgumentException when not an attribute name
     */
    public Builder userAttribute(String attribute) {
      this.userAttribute = attributeName(attribute, "userAttribute");
      return this;
    }

    /**
     * Sets the object class of group entries.
     *
     * @param objectClass an object class name; default {@code groupOfNames}
     * @return this builder
     * @throws IllegalArgumentException when not a name
     */
    public Builder groupObjectClass(String objectClass) {
      this.groupObjectClass = attributeName(objectClass, "groupObjectClass");
      return this;
    }

    /**
     * Sets the group attribute that holds member DNs.
     *
     * @param attribute an attribute name; default {@code member}
     * @return this builder
     * @throws IllegalArgumentException when not an attribute name
     */
    public Builder memberAttribute(String attribute) {
      this.memberAttribute = attributeName(attribute, "memberAttribute");
      return this;
    }

    /**
     * Sets the group attribute that holds the role ARNs the group grants.
     *
     * @param attribute an attribute name; default {@code businessCategory}
     * @return this builder
     * @throws IllegalArgumentException when not an attribute name
     */
    public Builder roleAttribute(String attribute) {
      this.roleAttribute = attributeName(attribute, "roleAttribute");
      return this;
    }

    /**
     * Sets the group attribute that holds the group's session duration in seconds (900 to 43200).
     *
     * @param attribute an attribute name, or {@code null} (the default) for one hour for every group
     * @return this builder
     * @throws IllegalArgumentException when not an attribute name
     */
    public Builder sessionDurationAttribute(@Nullable String attribute) {
      this.sessionDurationAttribute = attribute == null ? null : attributeName(attribute, "sessionDurationAttribute");
      return this;
    }

    /**
     * Sets the user attribute that holds the user's default role ARN.
     *
     * @param attribute an attribute name, default {@code employeeType}; {@code null} for no default roles
     * @return this builder
     * @throws IllegalArgumentException when not an attribute name
     */
    public Builder defaultRoleAttribute(@Nullable String attribute) {
      this.defaultRoleAttribute = attribute == null ? null : attributeName(attribute, "defaultRoleAttribute");
      return this;
    }

    /**
     * Sets how long opening a connection may take.
     *
     * @param timeout 1 ms to 5 minutes; default 5 s
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout(timeout, "connectTimeout");
      return this;
    }

    /**
     * Sets how long any one LDAP operation (bind, search, StartTLS) may wait for its answer.
     *
     * @param timeout 1 ms to 5 minutes; default 5 s
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder responseTimeout(Duration timeout) {
      this.responseTimeout = timeout(timeout, "responseTimeout");
      return this;
    }

    /**
     * Sets the most connections the pool holds.
     *
     * @param max 1 to 100; default 4
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxConnections(int max) {
      if (max < 1 || max > 100) {
        throw new IllegalArgumentException("maxConnections must be 1..100, got " + max);
      }
      this.maxConnections = max;
      return this;
    }

    /**
     * Sets how long an answer is reused.
     *
     * @param ttl {@link Duration#ZERO} (no cache) to 1 hour; default 30 s
     * @return this builder
     * @throws IllegalArgumentException when negative or over an hour
     */
    public Builder cacheTtl(Duration ttl) {
      Objects.requireNonNull(ttl, "cacheTtl");
      if (ttl.isNegative() || ttl.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("cacheTtl must be from 0 to 1 hour, got " + ttl);
      }
      this.cacheTtl = ttl;
      return this;
    }

    /**
     * Bounds the cache.
     *
     * @param max 1 to 1,000,000; default 10,000
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxCachedUsers(int max) {
      if (max < 1 || max > 1_000_000) {
        throw new IllegalArgumentException("maxCachedUsers must be 1..1000000, got " + max);
      }
      this.maxCachedUsers = max;
      return this;
    }

    /**
     * Sets the clock of the cache.
     *
     * @param clock the clock; default the system clock
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the policy and its connection pool. No connection is opened yet, so a directory that is down now does
     * not stop the build; the first lookup says so.
     *
     * @return the policy
     * @throws IllegalStateException when the server, the base DNs or a bind mode are missing, or StartTLS is asked
     *     for on {@code ldaps://}
     */
    public LdapRolePolicy build() {
      if (host == null) {
        throw new IllegalStateException("url is not set: give url(URI.create(\"ldaps://host\"))");
      }
      if (userBaseDn == null || groupBaseDn == null) {
        throw new IllegalStateException("userBaseDn and groupBaseDn must be set (or baseDn for both), got userBaseDn "
            + userBaseDn + ", groupBaseDn " + groupBaseDn);
      }
      if (bindDn == null && passwords == null) {
        throw new IllegalStateException("no bind mode: call serviceAccount(dn, password) to search as a service"
            + " account, or userBind(passwords) to bind as each user");
      }
      if (userDnParent != null && passwords == null) {
        throw new IllegalStateException("userDnTemplate " + Printable.quote(userDnAttribute + "={user}," + userDnParent)
            + " is only used with userBind(passwords)");
      }
      if (startTls && ldaps) {
        throw new IllegalStateException("startTls(true) with an ldaps:// url: the connection is TLS already; use"
            + " ldap:// with StartTLS, or ldaps:// alone");
      }
      LDAPConnectionOptions options = new LDAPConnectionOptions();
      options.setConnectTimeoutMillis((int) connectTimeout.toMillis());
      options.setResponseTimeoutMillis(responseTimeout.toMillis());
      options.setAbandonOnTimeout(true);
      options.setFollowReferrals(false);
      options.setUseKeepAlive(true);
      options.setSSLSocketVerifier(new HostNameSSLSocketVerifier(true));
      SSLContext tls = null;
      if (ldaps || startTls) {
        try {
          tls = sslContext != null ? sslContext : SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
          throw new IllegalStateException("the JVM has no default SSLContext; give sslContext(…)", e);
        }
      }
      String scheme = ldaps ? "ldaps" : "ldap";
      String server = scheme + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port
          + (startTls ? " (StartTLS)" : "");
      SingleServerSet servers = new SingleServerSet(host, port,
          ldaps ? new EndpointCheckingSocketFactory(Objects.requireNonNull(tls).getSocketFactory())
              : SocketFactory.getDefault(), options);
      SimpleBindRequest bind = bindDn == null ? null
          : new SimpleBindRequest(bindDn, utf8(Objects.requireNonNull(bindPassword)));
      try {
        LDAPConnectionPool pool = new LDAPConnectionPool(servers, bind, 0, maxConnections, 1,
            startTls ? new StartTLSPostConnectProcessor(
                new EndpointCheckingSocketFactory(Objects.requireNonNull(tls).getSocketFactory())) : null, false);
        pool.setConnectionPoolName("hardway-ldap-role-policy");
        pool.setCreateIfNecessary(true);
        pool.setMaxWaitTimeMillis(responseTimeout.toMillis());
        return new LdapRolePolicy(this, pool, server);
      } catch (LDAPException e) {
        throw new IllegalStateException("cannot set up the connection pool for " + server + ": " + e.getMessage(), e);
      }
    }

    private static String attributeName(String value, String option) {
      if (value == null || !ATTRIBUTE_NAME.matcher(value).matches()) {
        throw new IllegalArgumentException(option + " must be an LDAP attribute name (a letter, then letters, digits"
            + " or hyphens) or an OID, got " + (value == null ? "null" : Printable.quote(value)));
      }
      return value;
    }

    private static Duration timeout(Duration value, String option) {
      Objects.requireNonNull(value, option);
      if (value.toMillis() < 1 || value.compareTo(Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException(option + " must be from 1 ms to 5 minutes, got " + value);
      }
      return value;
    }
  }
}
