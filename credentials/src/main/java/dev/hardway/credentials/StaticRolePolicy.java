package dev.hardway.credentials;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link RolePolicy} from configuration: each user's grants and default role.
 *
 * <pre>{@code
 * RolePolicy policy = StaticRolePolicy.builder()
 *     .grant("alice", "arn:aws:iam::123456789012:role/developer", Duration.ofHours(1))
 *     .grant("alice", "arn:aws:iam::123456789012:role/admin", Duration.ofMinutes(15))
 *     .defaultRole("alice", "arn:aws:iam::123456789012:role/developer")
 *     .build();
 * }</pre>
 */
public final class StaticRolePolicy implements RolePolicy {
  private final Map<String, UserRoles> users;

  private StaticRolePolicy(Builder b) {
    Map<String, UserRoles> m = new HashMap<>();
    for (Map.Entry<String, List<RoleGrant>> e : b.grants.entrySet()) {
      m.put(e.getKey(), UserRoles.of(e.getKey(), e.getValue(), b.defaults.get(e.getKey())));
    }
    this.users = Map.copyOf(m);
  }

  /**
   * Starts a policy.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public UserRoles rolesFor(String user) {
    UserRoles roles = users.get(user);
    return roles != null ? roles : new UserRoles(user, Map.of(), null);
  }

  @Override
  public String toString() {
    return "StaticRolePolicy" + users.keySet();
  }

  /** Builds a {@link StaticRolePolicy}. */
  public static final class Builder {
    private final Map<String, List<RoleGrant>> grants = new LinkedHashMap<>();
    private final Map<String, String> defaults = new HashMap<>();

    private Builder() {}

    /**
     * Lets a user assume a role for sessions of the given length.
     *
     * @param user the user name
     * @param roleArn the role's ARN
     * @param sessionDuration 15 minutes to 12 hours
     * @return this builder
     */
    public Builder grant(String user, String roleArn, Duration sessionDuration) {
      requireUser(user);
      grants.computeIfAbsent(user, u -> new ArrayList<>()).add(new RoleGrant(roleArn, sessionDuration));
      return this;
    }

    /**
     * Lets a user assume a role for sessions of one hour.
     *
     * @param user the user name
     * @param roleArn the role's ARN
     * @return this builder
     */
    public Builder grant(String user, String roleArn) {
      return grant(user, roleArn, RoleGrant.DEFAULT_SESSION_DURATION);
    }

    /**
     * Sets the role {@code me} returns a user to; it must also be granted.
     *
     * @param user the user name
     * @param roleArn the role's ARN
     * @return this builder
     */
    public Builder defaultRole(String user, String roleArn) {
      requireUser(user);
      defaults.put(user, RoleArns.requireRoleArn(roleArn, "defaultRole"));
      return this;
    }

    /**
     * Builds the policy.
     *
     * @return the policy
     * @throws IllegalStateException when a default role is not among the user's grants
     */
    public StaticRolePolicy build() {
      for (Map.Entry<String, String> e : defaults.entrySet()) {
        List<RoleGrant> g = grants.getOrDefault(e.getKey(), List.of());
        if (g.stream().noneMatch(x -> x.roleArn().equals(e.getValue()))) {
          throw new IllegalStateException("default role " + e.getValue() + " of user " + e.getKey()
              + " is not granted to that user");
        }
      }
      return new StaticRolePolicy(this);
    }

    private static void requireUser(String user) {
      if (!Users.isValid(user)) {
        throw new IllegalArgumentException("user must be 2-64 of letters, digits and +=,.@_- (an STS session name), "
            + "got " + Printable.quote(user));
      }
    }
  }
}
