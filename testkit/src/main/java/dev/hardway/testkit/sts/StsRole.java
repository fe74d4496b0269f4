package dev.hardway.testkit.sts;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A role the {@link StsServer} lets principals assume: its ARN and its trust policy (who may assume it, for how long,
 * with which conditions). Immutable; build with {@link #builder(String)}.
 *
 * <pre>{@code
 * StsRole bidder = StsRole.builder("arn:aws:iam::000000000000:role/bidder")
 *     .trust("arn:aws:iam::000000000000:user/alice")
 *     .maxSessionDuration(Duration.ofHours(4))
 *     .requireMfa()
 *     .build();
 * }</pre>
 */
public final class StsRole {

  /** The principal wildcard: any authenticated principal may assume the role. */
  public static final String ANYONE = "*";

  static final Duration MIN_MAX_SESSION = Duration.ofHours(1);
  static final Duration MAX_MAX_SESSION = Duration.ofHours(12);
  private static final Pattern ROLE_ARN =
      Pattern.compile("arn:aws:iam::(\\d{12}):role/((?:[\\w+=,.@-]+/)*)([\\w+=,.@-]{1,64})");
  private static final Pattern PRINCIPAL_ARN =
      Pattern.compile("\\*|arn:aws:(iam|sts)::\\d{12}:(root|user/.+|role/.+|assumed-role/.+)");

  private final String arn;
  private final Set<String> trustedPrincipals;
  private final Duration maxSessionDuration;
  private final boolean mfaRequired;
  private final @Nullable String externalId;

  private StsRole(Builder b) {
    this.arn = b.arn;
    this.trustedPrincipals = Set.copyOf(b.trusted);
    this.maxSessionDuration = b.maxSessionDuration;
    this.mfaRequired = b.mfaRequired;
    this.externalId = b.externalId;
  }

  /**
   * Starts a role.
   *
   * @param roleArn the role's ARN, {@code arn:aws:iam::<12-digit account>:role/<path/><name>}
   * @return a builder
   * @throws IllegalArgumentException when the ARN is not a role ARN
   */
  public static Builder builder(String roleArn) {
    return new Builder(roleArn);
  }

  /**
   * A builder holding this role's settings.
   *
   * @return a builder
   */
  public Builder toBuilder() {
    Builder b = new Builder(arn);
    b.trusted.addAll(trustedPrincipals);
    b.maxSessionDuration = maxSessionDuration;
    b.mfaRequired = mfaRequired;
    b.externalId = externalId;
    return b;
  }

  /**
   * The role's ARN.
   *
   * @return the ARN
   */
  public String arn() {
    return arn;
  }

  /**
   * The role's name, the last part of its ARN.
   *
   * @return the name
   */
  public String name() {
    return arn.substring(arn.lastIndexOf('/') + 1);
  }

  /**
   * The account that owns the role.
   *
   * @return the 12-digit account id
   */
  public String accountId() {
    return arn.substring("arn:aws:iam::".length(), "arn:aws:iam::".length() + 12);
  }

  /**
   * Principals the trust policy names: user ARNs, role ARNs (any session of that role), or {@link #ANYONE}.
   *
   * @return the trusted principals
   */
  public Set<String> trustedPrincipals() {
    return trustedPrincipals;
  }

  /**
   * The longest session {@code AssumeRole} grants (1 to 12 hours; role chaining is capped at 1 hour regardless).
   *
   * @return the maximum session duration
   */
  public Duration maxSessionDuration() {
    return maxSessionDuration;
  }

  /**
   * Whether callers must pass a valid MFA serial number and one-time code.
   *
   * @return true when MFA is required
   */
  public boolean mfaRequired() {
    return mfaRequired;
  }

  /**
   * The external id callers must pass, if the trust policy has one.
   *
   * @return the external id, or null
   */
  public @Nullable String externalId() {
    return externalId;
  }

  @Override
  public String toString() {
    return "StsRole[" + arn + ", trusts " + trustedPrincipals + ", max " + maxSessionDuration
        + (mfaRequired ? ", MFA" : "") + (externalId != null ? ", external id" : "") + "]";
  }

  /** Builds a {@link StsRole}. Not thread-safe. */
  public static final class Builder {
    private final String arn;
    private final Set<String> trusted = new LinkedHashSet<>();
    private Duration maxSessionDuration = MIN_MAX_SESSION;
    private boolean mfaRequired;
    private @Nullable String externalId;

    private Builder(String arn) {
      Objects.requireNonNull(arn, "roleArn");
      if (!ROLE_ARN.matcher(arn).matches()) {
        throw new IllegalArgumentException(
            "roleArn must look like arn:aws:iam::<12-digit account>:role/<name>, got '" + arn + "'");
      }
      this.arn = arn;
    }

    /**
     * Lets these principals assume the role.
     *
     * @param principalArns user ARNs ({@code arn:aws:iam::<account>:user/<name>}), role ARNs (then any session of
     *     that role may chain into this one), the account root ({@code arn:aws:iam::<account>:root}, meaning every
     *     principal of that account), or {@link #ANYONE}
     * @return this builder
     * @throws IllegalArgumentException when a principal is not one of these
     */
    public Builder trust(String... principalArns) {
      for (String p : principalArns) {
        if (p == null || !PRINCIPAL_ARN.matcher(p).matches()) {
          throw new IllegalArgumentException("trust principal must be a user, role or root ARN, or \"*\", got '"
              + p + "'");
        }
        trusted.add(p);
      }
      return this;
    }

    /**
     * Sets the longest session this role grants.
     *
     * @param duration 1 to 12 hours; default 1 hour
     * @return this builder
     * @throws IllegalArgumentException when outside 1 to 12 hours
     */
    public Builder maxSessionDuration(Duration duration) {
      Objects.requireNonNull(duration, "maxSessionDuration");
      if (duration.compareTo(MIN_MAX_SESSION) < 0 || duration.compareTo(MAX_MAX_SESSION) > 0
          || duration.toNanos() % 1_000_000_000L != 0) {
        throw new IllegalArgumentException(
            "maxSessionDuration must be whole seconds from 1 to 12 hours, got " + duration);
      }
      this.maxSessionDuration = duration;
      return this;
    }

    /**
     * Requires a valid MFA serial number and one-time code on {@code AssumeRole}.
     *
     * @return this builder
     */
    public Builder requireMfa() {
      this.mfaRequired = true;
      return this;
    }

    /**
     * Requires callers to pass this external id.
     *
     * @param id 2 to 1224 characters of {@code [\w+=,.@:/-]}
     * @return this builder
     * @throws IllegalArgumentException when the id is malformed
     */
    public Builder externalId(String id) {
      if (id == null || !id.matches("[\\w+=,.@:/-]{2,1224}")) {
        throw new IllegalArgumentException("externalId must be 2 to 1224 characters of [\\w+=,.@:/-], got '" + id + "'");
      }
      this.externalId = id;
      return this;
    }

    /**
     * Builds the role.
     *
     * @return the role
     * @throws IllegalStateException when no principal is trusted
     */
    public StsRole build() {
      if (trusted.isEmpty()) {
        throw new IllegalStateException("role " + arn + " trusts nobody: call trust(…) with at least one principal");
      }
      return new StsRole(this);
    }
  }
}
