package dev.hardway.credentials;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An immutable snapshot of a {@link RoleBroker}: the current role and, per role held, when its credentials expire and
 * are due for refresh and what went wrong last. It holds no secret.
 *
 * @param user the user the broker acts for
 * @param currentRoleArn the role the metadata path serves, or {@code null} before the first one is chosen
 * @param roles every role held (the current one and those of container sessions)
 * @param stsCalls AssumeRole calls made since start
 * @param stsFailures AssumeRole calls that failed
 */
public record BrokerStatus(String user, @Nullable String currentRoleArn, List<RoleStatus> roles, long stsCalls,
    long stsFailures) {

  /** Copies the list. */
  public BrokerStatus {
    roles = List.copyOf(roles);
  }

  /**
   * One role's state.
   *
   * @param roleArn the role
   * @param expiration when its credentials expire, or {@code null} when none are held
   * @param lastUpdated when they were fetched, or {@code null}
   * @param refreshAt when the broker fetches new ones
   * @param consecutiveFailures failed fetches since the last success
   * @param lastError what the last failure said, or {@code null}
   * @param mfaBound whether they were obtained with an MFA code, so only a new code renews them
   * @param refreshes successful fetches
   */
  public record RoleStatus(String roleArn, @Nullable Instant expiration, @Nullable Instant lastUpdated,
      Instant refreshAt, int consecutiveFailures, @Nullable String lastError, boolean mfaBound, long refreshes) {}
}
