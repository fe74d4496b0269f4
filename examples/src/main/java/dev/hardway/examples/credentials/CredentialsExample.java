package dev.hardway.examples.credentials;

import dev.hardway.credentials.HardwayCredentialsProvider;
import dev.hardway.credentials.MetadataServer;
import dev.hardway.credentials.RoleBroker;
import dev.hardway.credentials.StaticRolePolicy;
import dev.hardway.testkit.LocalAws;
import dev.hardway.testkit.Service;
import dev.hardway.testkit.sts.StsRole;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * A workstation without long-lived keys: a broker assumes roles through STS (the test kit's, here), the metadata
 * imitator serves them, and an application's SDK client signs with them through the Hardway chain exactly as it
 * would on EC2. Then the user switches role, and the application follows at its next refresh.
 *
 * <p>Run: {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java
 * -Dexample=dev.hardway.examples.credentials.CredentialsExample}
 */
public final class CredentialsExample {
  private CredentialsExample() {}

  /**
   * Runs the example.
   *
   * @param args none
   */
  public static void main(String[] args) {
    String developer = "arn:aws:iam::000000000000:role/developer";
    String admin = "arn:aws:iam::000000000000:role/admin";
    try (LocalAws aws = LocalAws.start(Service.STS)) {
      aws.stsServer().putRole(StsRole.builder(developer).trust(StsRole.ANYONE).build());
      aws.stsServer().putRole(StsRole.builder(admin).trust(StsRole.ANYONE).build());

      // 1. Who may assume what (LdapRolePolicy reads the same from a directory).
      StaticRolePolicy policy = StaticRolePolicy.builder()
          .grant("alice", developer).grant("alice", admin).defaultRole("alice", developer).build();

      // 2. The agent's half: a broker and the metadata imitator on a loopback port.
      try (RoleBroker broker = RoleBroker.builder().sts(aws.sts()).policy(policy).user("alice").build();
          MetadataServer imds = MetadataServer.builder().broker(broker).build();
          // 3. The application's half: the chain, here with the SDK's metadata source pointed at the imitator
          //    (AWS_EC2_METADATA_SERVICE_ENDPOINT does the same without code).
          HardwayCredentialsProvider credentials = HardwayCredentialsProvider.builder()
              .source("instance metadata", InstanceProfileCredentialsProvider.builder()
                  .endpoint(imds.endpoint().toString()).build())
              .build();
          StsClient app = aws.configure(StsClient.builder()).credentialsProvider(credentials).build()) {
        System.out.println("metadata imitator at " + imds.endpoint());
        System.out.println("the application signs as " + app.getCallerIdentity().arn());

        broker.use(admin); // what `hardway-credentials use admin` does through the agent
        System.out.println("after `use`, the imitator serves " + broker.currentRole()
            + "; a running client picks it up at its next refresh");
        System.out.println("broker: " + broker.status().stsCalls() + " STS calls; chain: "
            + credentials.stats().refreshes() + " refresh(es) from " + credentials.stats().source());
      }
    }
  }
}
