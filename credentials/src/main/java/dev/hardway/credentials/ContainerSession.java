package dev.hardway.credentials;

import java.net.URI;
import java.util.Map;

/**
 * One process's claim on a role through the container-credentials endpoint: give the process the
 * {@link #environment()} and every AWS SDK in it fetches this role's credentials, while other processes hold other
 * roles. {@link #toString()} hides the token.
 *
 * @param fullUri the value for {@code AWS_CONTAINER_CREDENTIALS_FULL_URI}
 * @param authorizationToken the value for {@code AWS_CONTAINER_AUTHORIZATION_TOKEN}; a secret
 * @param roleArn the role this session serves
 */
public record ContainerSession(URI fullUri, String authorizationToken, String roleArn) {
  /**
   * The environment variables that point an AWS SDK or CLI at this session.
   *
   * @return {@code AWS_CONTAINER_CREDENTIALS_FULL_URI} and {@code AWS_CONTAINER_AUTHORIZATION_TOKEN}
   */
  public Map<String, String> environment() {
    return Map.of("AWS_CONTAINER_CREDENTIALS_FULL_URI", fullUri.toString(),
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", authorizationToken);
  }

  @Override
  public String toString() {
    return "ContainerSession[fullUri=" + fullUri + ", roleArn=" + roleArn + ", authorizationToken=***]";
  }
}
