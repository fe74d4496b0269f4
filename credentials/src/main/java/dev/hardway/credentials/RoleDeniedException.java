package dev.hardway.credentials;

import java.io.Serial;

/**
 * A user asked for a role the {@link RolePolicy} does not grant. The message is exactly
 * {@code User <name> is not authorized to assume role <arn>!}; the broker never falls back to another role.
 */
public final class RoleDeniedException extends CredentialsException {
  @Serial private static final long serialVersionUID = 1L;

  private final String user;
  private final String roleArn;

  /**
   * Creates the denial.
   *
   * @param user the user who asked
   * @param roleArn the role asked for
   */
  public RoleDeniedException(String user, String roleArn) {
    super("User " + user + " is not authorized to assume role " + roleArn + "!", false);
    this.user = user;
    this.roleArn = roleArn;
  }

  /**
   * The user who asked.
   *
   * @return the user name
   */
  public String user() {
    return user;
  }

  /**
   * The role asked for.
   *
   * @return the role ARN
   */
  public String roleArn() {
    return roleArn;
  }
}
