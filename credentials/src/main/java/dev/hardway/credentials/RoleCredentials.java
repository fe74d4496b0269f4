package dev.hardway.credentials;

import java.time.Instant;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * Temporary credentials of one role, as the broker hands them out. {@link #toString()} never shows the secret or the
 * session token.
 *
 * @param roleArn the role assumed
 * @param assumedRoleArn the session's ARN, {@code arn:aws:sts::<account>:assumed-role/<role>/<user>}
 * @param accessKeyId the access key id
 * @param secretAccessKey the secret key
 * @param sessionToken the session token
 * @param expiration when STS says they expire
 * @param lastUpdated when the broker received them
 */
public record RoleCredentials(String roleArn, String assumedRoleArn, String accessKeyId, String secretAccessKey,
    String sessionToken, Instant expiration, Instant lastUpdated) {

  /**
   * The same credentials as the SDK's type.
   *
   * @return session credentials carrying the expiration
   */
  public AwsSessionCredentials toSdk() {
    return AwsSessionCredentials.builder()
        .accessKeyId(accessKeyId)
        .secretAccessKey(secretAccessKey)
        .sessionToken(sessionToken)
        .expirationTime(expiration)
        .build();
  }

  @Override
  public String toString() {
    return "RoleCredentials[roleArn=" + roleArn + ", accessKeyId=" + accessKeyId + ", expiration=" + expiration
        + ", secretAccessKey=***, sessionToken=***]";
  }
}
