package dev.hardway.credentials;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.ContainerCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * A separate process, as a user's program would be: the SDK's own container provider reads
 * {@code AWS_CONTAINER_CREDENTIALS_FULL_URI} and {@code AWS_CONTAINER_AUTHORIZATION_TOKEN} from its environment, and
 * the caller identity it signs for is printed.
 */
public final class CallerIdentityMain {
  private CallerIdentityMain() {}

  /**
   * Prints the caller ARN.
   *
   * @param args the STS endpoint
   */
  public static void main(String[] args) {
    try (ContainerCredentialsProvider provider = ContainerCredentialsProvider.create();
        StsClient sts = StsClient.builder().endpointOverride(URI.create(args[0])).region(Region.US_EAST_1)
            .credentialsProvider(provider).build()) {
      System.out.println(sts.getCallerIdentity().arn());
    }
  }
}
