package dev.hardway.credentials;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link RolePolicy} grants one user: the roles by ARN and the default role ({@code me}).
 *
 * @param user the user name
 * @param grants the grants by role ARN, in the policy's order
 * @param defaultRoleArn the role {@code me} switches to, one of the grants, or {@code null} when the user has none
 */
public record UserRoles(String user, Map<String, RoleGrant> grants, @Nullable String defaultRoleArn) {
  /**
   * Copies and checks the values.
   *
   * @throws IllegalArgumentException when a key differs from its grant's ARN or the default role is not granted
   */
  public UserRoles {
    grants = Map.copyOf(grants);
    for (Map.Entry<String, RoleGrant> e : grants.entrySet()) {
      if (!e.getKey().equals(e.getValue().roleArn())) {
        throw new IllegalArgumentException("grant key must be its role ARN, got key " + e.getKey() + " for "
            + e.getValue().roleArn());
      }
    }
    if (defaultRoleArn != null && !grants.containsKey(defaultRoleArn)) {
      throw new IllegalArgumentException("defaultRoleArn must be one of the user's grants, got " + defaultRoleArn);
    }
  }

  /**
   * Builds from a list of grants; when two grants name the same role the longer session wins.
   *
   * @param user the user name
   * @param grants the grants
   * @param defaultRoleArn the default role, or {@code null}
   * @return the roles
   */
  public static UserRoles of(String user, Collection<RoleGrant> grants, @Nullable String defaultRoleArn) {
    Map<String, RoleGrant> byArn = new LinkedHashMap<>();
    for (RoleGrant g : grants) {
      byArn.merge(g.roleArn(), g, (a, b) -> a.sessionDuration().compareTo(b.sessionDuration()) >= 0 ? a : b);
    }
    return new UserRoles(user, byArn, defaultRoleArn);
  }

  /**
   * The grant for a role, if the user has it.
   *
   * @param roleArn the role's ARN
   * @return the grant, or empty
   */
  public Optional<RoleGrant> grant(String roleArn) {
    return Optional.ofNullable(grants.get(roleArn));
  }
}
