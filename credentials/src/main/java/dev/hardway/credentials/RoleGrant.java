package dev.hardway.credentials;

import java.time.Duration;

/**
 * One role a user may assume, and for how long a session may last.
 *
 * @param roleArn the role's ARN, {@code arn:<partition>:iam::<account>:role/<path/name>}
 * @param sessionDuration STS {@code DurationSeconds} for this role: 15 minutes to 12 hours
 */
public record RoleGrant(String roleArn, Duration sessionDuration) {
  /** The session duration when a policy names none: one hour, as Hologram's default. */
  public static final Duration DEFAULT_SESSION_DURATION = Duration.ofHours(1);

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException when the ARN is not a role ARN or the duration is outside 15 min to 12 h
   */
  public RoleGrant {
    RoleArns.requireRoleArn(roleArn, "roleArn");
    if (sessionDuration.compareTo(Duration.ofMinutes(15)) < 0 || sessionDuration.compareTo(Duration.ofHours(12)) > 0) {
      throw new IllegalArgumentException(
          "sessionDuration must be between 15 minutes and 12 hours (STS DurationSeconds 900..43200), got "
              + sessionDuration);
    }
  }

  /**
   * A grant with the {@link #DEFAULT_SESSION_DURATION}.
   *
   * @param roleArn the role's ARN
   * @return the grant
   */
  public static RoleGrant of(String roleArn) {
    return new RoleGrant(roleArn, DEFAULT_SESSION_DURATION);
  }
}
