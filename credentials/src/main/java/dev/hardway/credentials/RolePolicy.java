package dev.hardway.credentials;

/**
 * Who may assume which role. Implementations: {@link StaticRolePolicy} (configuration) and {@link LdapRolePolicy}
 * (groups in a directory). A policy is asked on every role switch and every cold fetch, so it may change at run time.
 *
 * <p>Implementations must be thread-safe.
 */
@FunctionalInterface
public interface RolePolicy {
  /**
   * The roles a user may assume, and the user's default role.
   *
   * @param user the user name (the STS session name)
   * @return the user's grants; empty grants when the user is unknown
   * @throws CredentialsException when the policy's source cannot be read ({@link CredentialsException#retryable()})
   */
  UserRoles rolesFor(String user);
}
